"""The e2e assertions, as pure functions over one turn's tracker events.

Each positive assertion finds the first event (at or after ``start``) that satisfies it, so
``assertion_order_enabled`` is the same check with a moving start; negative ones
(``bot_did_not_utter``, ``slot_was_not_set``) look at the whole turn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from action_server.testing.cases import SKIPPED_ASSERTIONS, Assertion, SlotExpectation

__all__ = [
    "Outcome",
    "bot_events",
    "check",
    "describe_bot",
    "utter_name",
]

SameValue = Callable[[str, Any, Any], bool]
Outcome = tuple[str | None, int | None]
"""(failure message or None, index of the matching event or None)."""


def utter_name(event: Mapping[str, Any]) -> str | None:
    metadata = event.get("metadata") or {}
    name = metadata.get("utter_action") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


def bot_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("event") == "bot"]


def describe_bot(event: Mapping[str, Any]) -> str:
    name = utter_name(event)
    text = event.get("text")
    described = repr(text) if text is not None else "a message without text"
    return f"{name} ({described})" if name else described


def _names(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values) if values else "none"


def _first(
    events: list[dict[str, Any]], start: int, test: Callable[[dict[str, Any]], bool]
) -> int | None:
    for index in range(start, len(events)):
        if test(events[index]):
            return index
    return None


def _buttons(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    data = event.get("data") or {}
    buttons = data.get("buttons") if isinstance(data, dict) else None
    if not isinstance(buttons, list):
        return []
    return [
        {"title": b.get("title"), "payload": b.get("payload")}
        for b in buttons
        if isinstance(b, dict)
    ]


def _bot_matches(event: Mapping[str, Any], matcher: Mapping[str, Any]) -> bool:
    if event.get("event") != "bot":
        return False
    if "utter_name" in matcher and utter_name(event) != matcher["utter_name"]:
        return False
    if "text_matches" in matcher:
        text = event.get("text")
        if not isinstance(text, str) or matcher["text_matches"].search(text) is None:
            return False
    return "buttons" not in matcher or _buttons(event) == matcher["buttons"]


def _describe_matcher(matcher: Mapping[str, Any]) -> str:
    parts = []
    if "utter_name" in matcher:
        parts.append(f"utter_name '{matcher['utter_name']}'")
    if "text_matches" in matcher:
        parts.append(f"text matching {matcher['text_matches'].pattern!r}")
    if "buttons" in matcher:
        titles = ", ".join(repr(b["title"]) for b in matcher["buttons"])
        parts.append(f"buttons [{titles}]")
    return " and ".join(parts)


def _slot_event(event: Mapping[str, Any], slot: SlotExpectation, same: SameValue) -> bool:
    if event.get("event") != "slot" or event.get("name") != slot.name:
        return False
    return not slot.has_value or same(slot.name, slot.value, event.get("value"))


def _first_slot(
    events: list[dict[str, Any]], start: int, slot: SlotExpectation, same: SameValue
) -> int | None:
    return _first(events, start, lambda event: _slot_event(event, slot, same))


def slots_set(events: list[dict[str, Any]]) -> str:
    found = [f"{e.get('name')}={e.get('value')!r}" for e in events if e.get("event") == "slot"]
    return ", ".join(found) if found else "none"


def slot_not_set_holds(
    events: list[dict[str, Any]], slot: SlotExpectation, same: SameValue
) -> bool:
    """Without a value: the slot ends the turn unset or null (Rasa); with one: never set to it."""
    mine = [e for e in events if e.get("event") == "slot" and e.get("name") == slot.name]
    if slot.has_value:
        return not any(same(slot.name, slot.value, e.get("value")) for e in mine)
    return not mine or mine[-1].get("value") is None


def check(
    assertion: Assertion, events: list[dict[str, Any]], start: int, same: SameValue
) -> Outcome:
    """Check one assertion against a turn's events from ``start``."""
    kind, data = assertion.kind, assertion.data
    if kind in SKIPPED_ASSERTIONS:
        return None, None
    if kind == "flow_started":
        index = _first(
            events, start, lambda e: e.get("event") == "flow_started" and e.get("flow_id") == data
        )
        if index is None:
            started = [e.get("flow_id") for e in events[start:] if e.get("event") == "flow_started"]
            return (
                f"flow_started: expected flow '{data}' to start; started: {_names(started)}",
                None,
            )
        return None, index
    if kind in ("flow_completed", "flow_cancelled"):
        return _flow_end(kind, data, events, start)
    if kind == "action_executed":
        index = _first(
            events, start, lambda e: e.get("event") == "action" and e.get("name") == data
        )
        if index is None:
            ran = [e.get("name") for e in events[start:] if e.get("event") == "action"]
            return f"action_executed: expected '{data}' to run; ran: {_names(ran)}", None
        return None, index
    if kind == "bot_uttered":
        index = _first(events, start, lambda e: _bot_matches(e, data))
        if index is None:
            said = "; ".join(describe_bot(e) for e in bot_events(events[start:])) or "nothing"
            wanted = _describe_matcher(data)
            return f"bot_uttered: expected a message with {wanted}; the bot said: {said}", None
        return None, index
    if kind == "bot_did_not_utter":
        matching = [e for e in bot_events(events) if _bot_matches(e, data)]
        if matching:
            wanted = _describe_matcher(data)
            return f"bot_did_not_utter: the bot said {describe_bot(matching[0])} ({wanted})", None
        return None, None
    if kind == "slot_was_set":
        indices = [_first_slot(events, start, slot, same) for slot in data]
        missing = [s.describe() for s, i in zip(data, indices, strict=True) if i is None]
        if missing:
            return (
                f"slot_was_set: expected {', '.join(missing)}; "
                f"slots set: {slots_set(events[start:])}",
                None,
            )
        return None, max(i for i in indices if i is not None)
    if kind == "slot_was_not_set":
        present = [s.describe() for s in data if not slot_not_set_holds(events, s, same)]
        if present:
            return (
                f"slot_was_not_set: {', '.join(present)} was set; slots set: {slots_set(events)}",
                None,
            )
        return None, None
    if kind == "pattern_clarification_contains":
        return _clarification(data, events, start)
    return f"unknown assertion '{kind}'", None


def _flow_end(kind: str, data: dict[str, Any], events: list[dict[str, Any]], start: int) -> Outcome:
    def matches(event: dict[str, Any]) -> bool:
        return (
            event.get("event") == kind
            and event.get("flow_id") == data["flow_id"]
            and data["flow_step_id"] in (None, event.get("step_id"))
        )

    index = _first(events, start, matches)
    if index is not None:
        return None, index
    expected = f"flow '{data['flow_id']}'"
    if data["flow_step_id"]:
        expected += f" at step '{data['flow_step_id']}'"
    ended = [e for e in events[start:] if e.get("event") == kind]
    actual = [f"{e.get('flow_id')} at step '{e.get('step_id')}'" for e in ended]
    verb = kind.removeprefix("flow_")
    return f"{kind}: expected {expected} to be {verb}; {verb}: {_names(actual)}", None


def _clarification(expected: list[str], events: list[dict[str, Any]], start: int) -> Outcome:
    """The clarification pattern started offering exactly these flows (names or ids)."""
    offered: list[list[str]] = []
    for index in range(start, len(events)):
        event = events[index]
        if event.get("event") != "flow_started" or event.get("flow_id") != "pattern_clarification":
            continue
        names = [str(n) for n in (event.get("metadata") or {}).get("names") or []]
        ids = [str(n) for n in (event.get("metadata") or {}).get("flow_ids") or []]
        offered.append(names)
        if set(expected) in (set(names), set(ids)):
            return None, index
    shown = "; ".join(", ".join(names) for names in offered) or "no clarification"
    return (
        f"pattern_clarification_contains: expected {', '.join(expected)}; offered: {shown}",
        None,
    )
