"""The server's lazy decoding of action calls: same call, same errors, events parsed on demand."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from action_server.interfaces import Tracker
from action_server.interfaces.raw_events import RawEvents
from action_server.server import gc_tuning
from action_server.server.gc_tuning import gc_tuning_enabled
from action_server.server.wire import WireError, decode_action_call, parse_action_call

EVENTS: list[dict[str, Any]] = [
    {"event": "action", "name": "action_listen", "timestamp": 1.5},
    {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 0.9}}},
    {"event": "slot", "name": "cuisine", "value": "italian"},
]
CALL: dict[str, Any] = {
    "next_action": "action_book_table",
    "sender_id": "u1",
    "version": "3.10.0",
    "domain_digest": "abc",
    "tracker": {
        "sender_id": "u1",
        "slots": {"cuisine": "italian", "num_people": 4},
        "latest_message": {"text": "hi", "entities": []},
        "events": EVENTS,
        "paused": False,
        "active_loop": {},
        "latest_action_name": "action_listen",
    },
    "domain": {"slots": {"cuisine": {"type": "text"}}},
}


def _materialised(call: dict[str, Any]) -> dict[str, Any]:
    tracker = dict(call["tracker"])
    if isinstance(tracker.get("events"), RawEvents):
        tracker["events"] = tracker["events"].decode()
    return {**call, "tracker": tracker}


def test_decode_action_call_equals_the_full_parse_once_events_are_decoded() -> None:
    body = orjson.dumps(CALL)
    assert _materialised(decode_action_call(body)) == parse_action_call(body)


def test_decode_action_call_keeps_events_raw() -> None:
    call = decode_action_call(orjson.dumps(CALL))
    assert isinstance(call["tracker"]["events"], RawEvents)
    assert call["tracker"]["slots"] == CALL["tracker"]["slots"]


def test_tracker_decodes_raw_events_on_first_read() -> None:
    tracker = Tracker.from_dict(decode_action_call(orjson.dumps(CALL))["tracker"])
    assert tracker.events == EVENTS
    assert tracker.events is tracker.events
    assert tracker.get_last_event_for("slot") == EVENTS[2]
    assert tracker.get_latest_input_channel() is None


def test_trackers_from_the_same_call_get_their_own_event_lists() -> None:
    state = decode_action_call(orjson.dumps(CALL))["tracker"]
    first = Tracker.from_dict(state)
    first.add_slots([{"event": "slot", "name": "num_people", "value": 2}])
    assert len(first.events) == len(EVENTS) + 1
    assert Tracker.from_dict(state).events == EVENTS


def test_null_raw_events_read_as_an_empty_list() -> None:
    call = decode_action_call(
        b'{"next_action": "a", "tracker": {"sender_id": "u", "events": null}}'
    )
    assert Tracker.from_dict(call["tracker"]).events == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"  ",
        b"{not json",
        b"[1, 2]",
        b'{"tracker": {"sender_id": "u"}}',
        b'{"next_action": 5, "tracker": {"sender_id": "u"}}',
        b'{"next_action": "a"}',
        b'{"next_action": "a", "tracker": null}',
        b'{"next_action": "a", "tracker": [1]}',
        b'{"next_action": "a", "tracker": {}}',
        b'{"next_action": "a", "tracker": {"sender_id": null}}',
        b'{"next_action": "a", "tracker": {"sender_id": "u"}, "domain": "x"}',
        b'{"next_action": "a", "tracker": {"sender_id": "u", "events": [1,]}}',
    ],
)
def test_decode_action_call_rejects_bad_calls_with_the_full_parsers_message(body: bytes) -> None:
    with pytest.raises(WireError) as expected:
        parse_action_call(body)
    with pytest.raises(WireError) as actual:
        decode_action_call(body)
    assert (actual.value.message, actual.value.status) == (
        expected.value.message,
        expected.value.status,
    )


@pytest.mark.parametrize(
    ("value", "enabled"),
    [(None, True), ("", True), ("1", True), ("0", False), ("off", False), ("False", False)],
)
def test_gc_tuning_is_on_unless_the_environment_turns_it_off(
    monkeypatch: pytest.MonkeyPatch, value: str | None, enabled: bool
) -> None:
    if value is None:
        monkeypatch.delenv("ACTION_SERVER_GC_TUNING", raising=False)
    else:
        monkeypatch.setenv("ACTION_SERVER_GC_TUNING", value)
    assert gc_tuning_enabled() is enabled


def test_body_garbage_budget_collects_once_per_limit_of_body_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collections: list[int] = []
    monkeypatch.setattr(gc_tuning.gc, "collect", lambda *a: collections.append(1) or 0)
    budget = gc_tuning.BodyGarbageBudget(limit=100)
    budget.spend(500)
    assert collections == []  # inactive until tune_gc() turns it on
    budget.active = True
    for _ in range(5):
        budget.spend(40)
    assert len(collections) == 1
