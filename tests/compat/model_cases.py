"""Programming-model cases run against rasa-sdk and, after the import rename, against us.

Run as a script: `python model_cases.py` prints one JSON object, case id -> outcome, where an
outcome is `{"result": ..., "warnings": [[category, message], ...]}` or `{"error": [type,
message], "warnings": [...]}`. The file imports `rasa_sdk` only; the test suite writes a copy
with `rasa_sdk` replaced by `action_server` and runs it in our virtualenv, so the copy is the
migration promise in action. Keep it standalone: no imports from this repository.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import json
import sys
import warnings
from collections.abc import Callable
from typing import Any

from rasa_sdk import (
    Action,
    ActionExecutionRejection,
    FormValidationAction,
    Tracker,
    ValidationAction,
)
from rasa_sdk import events as ev
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionMissingDomainException, ActionNotFoundException

Outcome = dict[str, Any]
CASES: dict[str, Callable[[], Any]] = {}


def case(case_id: str, run: Callable[[], Any]) -> None:
    if case_id in CASES:
        raise ValueError(f"duplicate case id {case_id!r}")
    CASES[case_id] = run


# --- event helpers -------------------------------------------------------------------------

TS = 1700000000.25
WHEN = datetime.datetime(2024, 1, 2, 3, 4, 5)
WHEN_TZ = datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)
PARSE = {"intent": {"name": "greet", "confidence": 0.9}, "entities": [], "text": "hi"}
META = {"channel": "voice", "nested": {"a": [1, 2]}}

EVENT_CALLS: dict[str, Callable[[], Any]] = {
    "UserUttered/text": lambda: ev.UserUttered("hi"),
    "UserUttered/none": lambda: ev.UserUttered(None),
    "UserUttered/all": lambda: ev.UserUttered("hi", PARSE, TS, "rest"),
    "UserUttered/kw": lambda: ev.UserUttered(text="hi", input_channel="socketio"),
    "BotUttered/default": lambda: ev.BotUttered(),
    "BotUttered/all": lambda: ev.BotUttered("hello", {"buttons": []}, META, TS),
    "BotUttered/kw": lambda: ev.BotUttered(metadata=META),
    "SlotSet/key": lambda: ev.SlotSet("city"),
    "SlotSet/value": lambda: ev.SlotSet("city", "Berlin"),
    "SlotSet/falsy": lambda: ev.SlotSet("count", 0),
    "SlotSet/list": lambda: ev.SlotSet("tags", ["a", "b"], TS),
    "SlotSet/dict": lambda: ev.SlotSet("address", {"street": "Main", "no": 1}),
    "Restarted/default": lambda: ev.Restarted(),
    "Restarted/ts": lambda: ev.Restarted(TS),
    "SessionStarted/default": lambda: ev.SessionStarted(),
    "SessionStarted/ts": lambda: ev.SessionStarted(timestamp=TS),
    "SessionEnded/default": lambda: ev.SessionEnded(),
    "SessionEnded/all": lambda: ev.SessionEnded(TS, META),
    "SessionEnded/metadata": lambda: ev.SessionEnded(metadata=META),
    "UserUtteranceReverted/default": lambda: ev.UserUtteranceReverted(),
    "UserUtteranceReverted/ts": lambda: ev.UserUtteranceReverted(TS),
    "AllSlotsReset/default": lambda: ev.AllSlotsReset(),
    "AllSlotsReset/ts": lambda: ev.AllSlotsReset(TS),
    "ReminderScheduled/minimal": lambda: ev.ReminderScheduled("remind", WHEN),
    "ReminderScheduled/all": lambda: ev.ReminderScheduled(
        "remind", WHEN_TZ, [{"entity": "x", "value": 1}], "r1", False, TS
    ),
    "ReminderScheduled/entities_dict": lambda: ev.ReminderScheduled(
        "remind", WHEN, entities={"city": "Paris"}, name="r2"
    ),
    "ReminderScheduled/action_like_intent": lambda: ev.ReminderScheduled("utter_x", WHEN),
    "ReminderCancelled/default": lambda: ev.ReminderCancelled(),
    "ReminderCancelled/all": lambda: ev.ReminderCancelled("r1", "remind", [{"entity": "x"}], TS),
    "ReminderCancelled/action_like_intent": lambda: ev.ReminderCancelled(intent_name="action_y"),
    "ActionReverted/default": lambda: ev.ActionReverted(),
    "ActionReverted/ts": lambda: ev.ActionReverted(TS),
    "StoryExported/default": lambda: ev.StoryExported(),
    "StoryExported/ts": lambda: ev.StoryExported(TS),
    "FollowupAction/name": lambda: ev.FollowupAction("action_next"),
    "FollowupAction/ts": lambda: ev.FollowupAction("action_next", TS),
    "ConversationPaused/default": lambda: ev.ConversationPaused(),
    "ConversationPaused/ts": lambda: ev.ConversationPaused(TS),
    "ConversationResumed/default": lambda: ev.ConversationResumed(),
    "ConversationResumed/ts": lambda: ev.ConversationResumed(TS),
    "ActionExecuted/name": lambda: ev.ActionExecuted("action_listen"),
    "ActionExecuted/all": lambda: ev.ActionExecuted("utter_greet", "RulePolicy", 1.0, TS),
    "ActionExecuted/kw": lambda: ev.ActionExecuted("a", confidence=0.5),
    "AgentUttered/default": lambda: ev.AgentUttered(),
    "AgentUttered/all": lambda: ev.AgentUttered("hi", {"k": "v"}, TS),
    "AgentUttered/data_str": lambda: ev.AgentUttered(data="raw"),
    "ActiveLoop/name": lambda: ev.ActiveLoop("booking_form"),
    "ActiveLoop/none": lambda: ev.ActiveLoop(None),
    "ActiveLoop/ts": lambda: ev.ActiveLoop("f", TS),
    "Form/name": lambda: ev.Form("booking_form"),
    "Form/none_ts": lambda: ev.Form(None, TS),
    "LoopInterrupted/true": lambda: ev.LoopInterrupted(True),
    "LoopInterrupted/false_ts": lambda: ev.LoopInterrupted(False, TS),
    "FormValidation/true": lambda: ev.FormValidation(True),
    "FormValidation/false_ts": lambda: ev.FormValidation(False, TS),
    "ActionExecutionRejected/name": lambda: ev.ActionExecutionRejected("action_x"),
    "ActionExecutionRejected/all": lambda: ev.ActionExecutionRejected(
        "action_x", "TEDPolicy", 0.3, TS
    ),
}
for _name, _call in EVENT_CALLS.items():
    case(f"events/{_name}", _call)


# --- dispatcher ----------------------------------------------------------------------------


def utter(*calls: tuple[str, tuple[Any, ...], dict[str, Any]]) -> Callable[[], Any]:
    """A case that makes dispatcher calls and returns the collected messages."""

    def run() -> Any:
        dispatcher = CollectingDispatcher()
        for method, args, kwargs in calls:
            getattr(dispatcher, method)(*args, **kwargs)
        return dispatcher.messages

    return run


BUTTONS = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
ELEMENTS = [{"title": "Card", "subtitle": "one"}]
UTTER_KWARGS: dict[str, dict[str, Any]] = {
    "none": {},
    "text": {"text": "Hello"},
    "image": {"image": "https://example.com/a.png"},
    "json_message": {"json_message": {"payload": "x", "data": [1]}},
    "json_message_empty": {"json_message": {}},
    "response": {"response": "utter_greet"},
    "template": {"template": "utter_greet"},
    "template_and_response": {"template": "utter_a", "response": "utter_b"},
    "attachment": {"attachment": "https://example.com/file.pdf"},
    "buttons": {"buttons": BUTTONS},
    "buttons_empty": {"buttons": []},
    "elements": {"elements": ELEMENTS},
    "all": {
        "text": "t",
        "image": "i",
        "json_message": {"k": 1},
        "response": "utter_r",
        "attachment": "a",
        "buttons": BUTTONS,
        "elements": ELEMENTS,
    },
    "kwargs_variables": {"response": "utter_greet", "name": "Ann", "count": 3},
    "kwargs_extra_keys": {"text": "x", "quick_replies": [{"t": 1}], "metadata": {"m": 1}},
    "kwargs_override_custom": {"json_message": {"a": 1}, "custom": {"b": 2}},
    "kwargs_override_buttons": {"buttons": BUTTONS, "text": "y", "channel": "slack"},
}
for _name, _kwargs in UTTER_KWARGS.items():
    case(f"dispatcher/utter_message/{_name}", utter(("utter_message", (), _kwargs)))
case(
    "dispatcher/utter_message/positional",
    utter(("utter_message", ("t", "img", {"c": 1}, None, "utter_r", "att", BUTTONS, ELEMENTS), {})),
)
case(
    "dispatcher/utter_message/several",
    utter(("utter_message", ("one",), {}), ("utter_message", (), {"response": "utter_two"})),
)
DEPRECATED: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {
    "utter_custom_message": ("utter_custom_message", tuple(ELEMENTS), {"text": "x"}),
    "utter_elements": ("utter_elements", tuple(ELEMENTS), {}),
    "utter_button_message": ("utter_button_message", ("Pick", BUTTONS), {"extra": 1}),
    "utter_attachment": ("utter_attachment", ("file.pdf",), {}),
    "utter_button_template": ("utter_button_template", ("utter_pick", BUTTONS, None), {"n": 1}),
    "utter_template": ("utter_template", ("utter_greet", None), {"name": "Ann"}),
    "utter_custom_json": ("utter_custom_json", ({"payload": 1},), {}),
    "utter_image_url": ("utter_image_url", ("https://example.com/a.png",), {"text": "look"}),
}
for _name, _call_spec in DEPRECATED.items():
    case(f"dispatcher/{_name}", utter(_call_spec))


def streamed(chunks: list[dict[str, Any]], *, start: bool = True, end: bool = True) -> Any:
    """Streaming API on a unary transport: chunks are replayed as messages at stream_end."""

    async def run() -> Any:
        dispatcher = CollectingDispatcher()
        if start:
            await dispatcher.stream_start()
        for chunk in chunks:
            await dispatcher.stream_chunk(**chunk)
        active = dispatcher.is_streaming_active
        if end:
            await dispatcher.stream_end()
        return {
            "active_before_end": active,
            "active_after": dispatcher.is_streaming_active,
            "cancelled": dispatcher.is_streaming_cancelled,
            "messages": dispatcher.messages,
        }

    return lambda: asyncio.run(run())


case("dispatcher/stream/text_chunks", streamed([{"text": "Hel"}, {"text": "lo"}]))
case(
    "dispatcher/stream/rich_chunk",
    streamed([{"text": "x", "image": "i", "json_message": {"a": 1}, "buttons": BUTTONS, "k": "v"}]),
)
case("dispatcher/stream/empty_values", streamed([{"json_message": {}, "buttons": []}]))
case("dispatcher/stream/implicit_start", streamed([{"text": "a"}], start=False))
case("dispatcher/stream/no_end", streamed([{"text": "a"}], end=False))
case("dispatcher/stream/no_chunks", streamed([]))
case("dispatcher/stream/template_rejected", streamed([{"text": "a", "template": "utter_x"}]))


def cancelled_stream() -> Any:
    async def run() -> Any:
        dispatcher = CollectingDispatcher()
        await dispatcher.stream_chunk(text="a")
        dispatcher.cancel_stream()
        await dispatcher.stream_chunk(text="b")
        await dispatcher.stream_end()
        return [dispatcher.is_streaming_cancelled, dispatcher.messages]

    return asyncio.run(run())


case("dispatcher/stream/cancelled", cancelled_stream)


# --- tracker -------------------------------------------------------------------------------


def user(text: str, intent: str = "greet", channel: str | None = "rest", **extra: Any) -> Any:
    return {
        "event": "user",
        "timestamp": extra.pop("timestamp", TS),
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": 1.0}, "entities": []},
        "input_channel": channel,
        **extra,
    }


def action(name: str, **extra: Any) -> Any:
    return {"event": "action", "timestamp": TS, "name": name, "policy": None, "confidence": 1.0}


def slot(name: str, value: Any) -> Any:
    return {"event": "slot", "timestamp": TS, "name": name, "value": value}


ENTITIES = [
    {"entity": "city", "value": "Berlin", "start": 0, "end": 6},
    {"entity": "city", "value": "Paris", "role": "from"},
    {"entity": "city", "value": "Rome", "role": "to"},
    {"entity": "city", "value": "Oslo", "group": "1"},
    {"entity": "city", "value": "Kyiv", "role": "to", "group": "2"},
    {"entity": "people", "value": 4},
]

TRACKERS: dict[str, dict[str, Any]] = {
    "booking": {
        "sender_id": "user-1",
        "slots": {"city": "Berlin", "people": None, "requested_slot": "people"},
        "latest_message": {
            "text": "from Paris to Rome",
            "intent": {"name": "book", "confidence": 0.93},
            "entities": ENTITIES,
            "intent_ranking": [
                {"name": "book", "confidence": 0.93},
                {"name": "greet", "confidence": 0.07},
            ],
        },
        "events": [
            {"event": "session_started", "timestamp": 1.0},
            action("action_listen"),
            user("hi", channel="socketio"),
            action("utter_greet"),
            {"event": "bot", "timestamp": 2.0, "text": "Hello", "data": {}, "metadata": {}},
            action("action_listen"),
            user("book a table", "book"),
            action("booking_form"),
            {"event": "active_loop", "timestamp": 3.0, "name": "booking_form"},
            slot("requested_slot", "city"),
            action("action_listen"),
            user("Berlin", "inform", channel="rest", timestamp=4.5),
            slot("city", "Berlin"),
        ],
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": "booking_form", "validate": True, "rejected": False},
        "latest_action_name": "action_listen",
    },
    "rewinds": {
        "sender_id": "user-2",
        "slots": {"x": 1},
        "latest_message": {"intent": {"name": "deny"}, "entities": [], "text": "no"},
        "events": [
            action("action_listen"),
            user("old"),
            action("utter_old"),
            {"event": "restart", "timestamp": 5.0},
            action("action_listen"),
            user("one"),
            action("utter_one"),
            action("action_two"),
            {"event": "undo", "timestamp": 6.0},
            action("action_listen"),
            user("two"),
            {"event": "rewind", "timestamp": 7.0},
            user("three", channel="slack"),
            action("action_three"),
            slot("x", 1),
            {"event": "undo", "timestamp": 8.0},
            action("action_listen"),
        ],
        "paused": False,
        "followup_action": "action_next",
        "active_loop": {},
        "latest_action_name": "action_listen",
    },
    "restarts": {
        "sender_id": "user-3",
        "slots": {},
        "latest_message": {},
        "events": [
            user("a"),
            {"event": "restart", "timestamp": 1.0},
            action("action_one"),
            {"event": "restart", "timestamp": 2.0},
            action("action_listen"),
            action("action_two"),
            action("action_listen"),
        ],
        "paused": True,
        "followup_action": None,
        "active_loop": {"name": "should_not_be_set"},
        "latest_action_name": "action_listen",
    },
    "fallback": {
        "sender_id": "user-4",
        "slots": {"a": "x", "b": None},
        "latest_message": {
            "intent": {"name": "nlu_fallback"},
            "entities": [],
            "intent_ranking": [{"name": "nlu_fallback"}, {"name": "affirm"}],
        },
        "events": [action("action_listen"), slot("a", "x"), slot("b", None), slot("a", "y")],
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": "some_form"},
        "latest_action_name": None,
    },
    "fallback_only": {
        "sender_id": "user-5",
        "slots": {},
        "latest_message": {"intent_ranking": [{"name": "nlu_fallback"}]},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
    },
    "minimal": {"sender_id": "user-6"},
    "old_active_form": {"sender_id": "user-7", "active_form": {"name": "old_form"}},
    "with_stack": {
        "sender_id": "user-8",
        "slots": {},
        "events": [user("x", channel=None)],
        "stack": [{"frame_id": "f1", "flow_id": "transfer", "step_id": "START", "type": "flow"}],
        "latest_message": {"entities": [{"entity": "amount", "value": 5}]},
    },
}

TRACKER_QUERIES: dict[str, Callable[[Tracker], Any]] = {
    "current_state": lambda t: t.current_state(),
    "current_slot_values": lambda t: t.current_slot_values(),
    "get_slot/city": lambda t: t.get_slot("city"),
    "get_slot/missing": lambda t: t.get_slot("nope"),
    "entities/city": lambda t: list(t.get_latest_entity_values("city")),
    "entities/city_from": lambda t: list(t.get_latest_entity_values("city", "from")),
    "entities/city_to": lambda t: list(t.get_latest_entity_values("city", entity_role="to")),
    "entities/city_group1": lambda t: list(t.get_latest_entity_values("city", entity_group="1")),
    "entities/city_to_group2": lambda t: list(t.get_latest_entity_values("city", "to", "2")),
    "entities/people": lambda t: list(t.get_latest_entity_values("people")),
    "entities/first_or_none": lambda t: next(t.get_latest_entity_values("amount"), None),
    "latest_input_channel": lambda t: t.get_latest_input_channel(),
    "is_paused": lambda t: t.is_paused(),
    "idx_after_latest_restart": lambda t: t.idx_after_latest_restart(),
    "events_after_latest_restart": lambda t: t.events_after_latest_restart(),
    "applied_events": lambda t: t.applied_events(),
    "slots_to_validate": lambda t: t.slots_to_validate(),
    "last_event/action": lambda t: t.get_last_event_for("action"),
    "last_event/action_excl_listen": lambda t: t.get_last_event_for("action", ["action_listen"]),
    "last_event/action_skip1": lambda t: t.get_last_event_for("action", skip=1),
    "last_event/action_excl_skip2": lambda t: t.get_last_event_for(
        "action", exclude=["action_listen"], skip=2
    ),
    "last_event/user": lambda t: t.get_last_event_for("user"),
    "last_event/slot_skip1": lambda t: t.get_last_event_for("slot", skip=1),
    "last_event/bot": lambda t: t.get_last_event_for("bot"),
    "last_event/skip_past_end": lambda t: t.get_last_event_for("action", skip=50),
    "last_executed/action_three": lambda t: t.last_executed_action_has("action_three"),
    "last_executed/action_two": lambda t: t.last_executed_action_has("action_two"),
    "last_executed/booking_form": lambda t: t.last_executed_action_has("booking_form"),
    "last_executed/utter_greet_skip1": lambda t: t.last_executed_action_has("utter_greet", 1),
    "last_executed/action_listen": lambda t: t.last_executed_action_has("action_listen"),
    "intent/default": lambda t: t.get_intent_of_latest_message(),
    "intent/keep_fallback": lambda t: t.get_intent_of_latest_message(skip_fallback_intent=False),
    "active_loop": lambda t: t.active_loop,
    "active_loop_name": lambda t: t.active_loop_name,
    "followup_action": lambda t: t.followup_action,
    "latest_action_name": lambda t: t.latest_action_name,
    "latest_message": lambda t: t.latest_message,
    "stack": lambda t: t.stack,
    "copy_equals": lambda t: [t.copy() == t, t.copy() != t, t.copy().current_state()],
    "add_slots": lambda t: _add_slots(t),
}


def _add_slots(tracker: Tracker) -> Any:
    tracker.add_slots([ev.SlotSet("city", "Oslo"), ev.FollowupAction("x"), ev.SlotSet("n", 2)])
    return [tracker.slots, tracker.events[-3:], tracker.slots_to_validate()]


def tracker_case(state: dict[str, Any], query: Callable[[Tracker], Any]) -> Callable[[], Any]:
    # Each case gets its own copy: some queries (add_slots) change the tracker.
    return lambda: query(Tracker.from_dict(copy.deepcopy(state)))  # type: ignore[arg-type]


for _tracker_name, _state in TRACKERS.items():
    for _query_name, _query in TRACKER_QUERIES.items():
        case(f"tracker/{_tracker_name}/{_query_name}", tracker_case(_state, _query))


# --- actions and exceptions ----------------------------------------------------------------


class ActionHello(Action):
    def name(self) -> str:
        return "action_hello"


def action_basics() -> Any:
    hello = ActionHello()
    return [str(hello), hello.name(), isinstance(hello, Action)]


def rejection(*args: Any) -> Callable[[], Any]:
    def run() -> Any:
        exc = ActionExecutionRejection(*args)
        return [str(exc), exc.message, exc.action_name]

    return run


def exception_text(cls: type[Exception], *args: Any) -> Callable[[], Any]:
    def run() -> Any:
        exc = cls(*args)
        return [str(exc), getattr(exc, "message", None), getattr(exc, "action_name", None)]

    return run


case("action/basics", action_basics)
case("action/run_not_implemented", lambda: asyncio.run(Action().run(None, None, {})))  # type: ignore[arg-type]
case("action/name_not_implemented", lambda: Action().name())
case("exceptions/rejection_default", rejection("action_x"))
case("exceptions/rejection_message", rejection("action_x", "Not now."))
case("exceptions/not_found_default", exception_text(ActionNotFoundException, "action_y"))
case("exceptions/not_found_message", exception_text(ActionNotFoundException, "action_y", "m"))
case("exceptions/missing_domain", exception_text(ActionMissingDomainException, "action_z"))


# --- validation actions --------------------------------------------------------------------

FORM_DOMAIN: dict[str, Any] = {
    "slots": {
        "city": {"type": "text", "mappings": [{"type": "from_text"}]},
        "people": {"type": "float", "mappings": [{"type": "from_entity", "entity": "number"}]},
        "outdoor": {"type": "bool", "mappings": [{"type": "custom"}]},
        "num-children": {"type": "float", "mappings": [{"type": "custom"}]},
        "requested_slot": {"type": "any", "mappings": [{"type": "custom"}]},
        "form_only": {
            "type": "text",
            "mappings": [{"type": "from_text", "conditions": [{"active_loop": "booking_form"}]}],
        },
    },
    "forms": {"booking_form": {"required_slots": ["city", "people", "num-children"]}},
}


class ValidateBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    def validate_city(self, value: Any, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        if value == "Atlantis":
            dispatcher.utter_message(response="utter_no_such_city", city=value)
            return {"city": None}
        return {"city": value.title()}

    async def validate_people(self, value: Any, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        # sees what validate_city decided before it
        return {"people": int(value), "city_seen": tracker.get_slot("city")}

    def validate_num_children(self, value: Any, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        return {"num-children": value if value < 10 else None}


class ValidateBookingFormDynamic(ValidateBookingForm):
    async def required_slots(
        self, domain_slots: Any, dispatcher: Any, tracker: Any, domain: Any
    ) -> Any:
        extra = ["outdoor"] if tracker.get_slot("people") and tracker.get_slot("people") > 4 else []
        return [*domain_slots, *extra, "mood"]

    async def extract_outdoor(self, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        intent = tracker.get_intent_of_latest_message()
        return {"outdoor": intent == "affirm"} if intent in ("affirm", "deny") else {}

    def extract_mood(self, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        return "not a dict"

    def validate_outdoor(self, value: Any, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        return ["not", "a", "dict"]


class ValidateBookingFormDone(ValidateBookingForm):
    async def required_slots(
        self, domain_slots: Any, dispatcher: Any, tracker: Any, domain: Any
    ) -> Any:
        return ["city"]


class ValidateGlobal(ValidationAction):
    def extract_outdoor(self, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        dispatcher.utter_message(text="extracted")
        return {"outdoor": True}

    def validate_city(self, value: Any, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        return {"city": str(value).upper()}

    async def validate_form_only(
        self, value: Any, dispatcher: Any, tracker: Any, domain: Any
    ) -> Any:
        raise AssertionError("form-conditioned slots are not global")


def form_tracker(slots: dict[str, Any], trailing: list[tuple[str, Any]], intent: str) -> Any:
    return {
        "sender_id": "form-user",
        "slots": {"requested_slot": "city", **slots, **dict(trailing)},
        "latest_message": {
            "intent": {"name": intent},
            "intent_ranking": [{"name": intent, "confidence": 1.0}],
            "entities": [],
        },
        "events": [
            action("action_listen"),
            user("text", intent),
            *[slot(name, value) for name, value in trailing],
        ],
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": "booking_form"},
        "latest_action_name": "action_listen",
    }


def run_validation(
    action_cls: type[Action], state: dict[str, Any], domain: Any
) -> Callable[[], Any]:
    def run() -> Any:
        dispatcher = CollectingDispatcher()
        tracker = Tracker.from_dict(copy.deepcopy(state))
        instance = action_cls()
        events = asyncio.run(instance.run(dispatcher, tracker, copy.deepcopy(domain)))
        return {
            "name": instance.name(),
            "events": events,
            "responses": dispatcher.messages,
            "slots_after": tracker.slots,
        }

    return run


FORM_RUNS: dict[str, tuple[type[Action], dict[str, Any], Any]] = {
    "form/valid": (
        ValidateBookingForm,
        form_tracker({}, [("city", "berlin"), ("people", "3")], "inform"),
        FORM_DOMAIN,
    ),
    "form/rejected_city": (
        ValidateBookingForm,
        form_tracker({}, [("city", "Atlantis")], "inform"),
        FORM_DOMAIN,
    ),
    "form/dash_slot_and_unrelated": (
        ValidateBookingForm,
        form_tracker({}, [("num-children", 12), ("unrelated", "x")], "inform"),
        FORM_DOMAIN,
    ),
    "form/no_trailing_slots": (ValidateBookingForm, form_tracker({}, [], "inform"), FORM_DOMAIN),
    "form/no_form_in_domain": (
        ValidateBookingForm,
        form_tracker({}, [("city", "x")], "inform"),
        {"slots": {}},
    ),
    "form/dynamic_extract_and_request": (
        ValidateBookingFormDynamic,
        form_tracker({"people": 6}, [("city", "rome")], "affirm"),
        FORM_DOMAIN,
    ),
    "form/dynamic_no_extraction": (
        ValidateBookingFormDynamic,
        form_tracker({"people": 2}, [("people", 2)], "inform"),
        FORM_DOMAIN,
    ),
    "form/dynamic_completed": (
        ValidateBookingFormDone,
        form_tracker({}, [("city", "lima")], "inform"),
        FORM_DOMAIN,
    ),
    "global/extract_and_validate": (
        ValidateGlobal,
        form_tracker({}, [("city", "oslo"), ("form_only", "x")], "inform"),
        FORM_DOMAIN,
    ),
    "global/nothing_to_do": (ValidateGlobal, form_tracker({}, [], "inform"), {"slots": {}}),
}
for _name, (_cls, _state, _domain) in FORM_RUNS.items():
    case(f"validation/{_name}", run_validation(_cls, _state, _domain))
case("validation/form_name", lambda: [ValidateBookingForm().form_name(), ValidateGlobal().name()])
case(
    "validation/domain_slots",
    lambda: [
        ValidateBookingForm().domain_slots(FORM_DOMAIN),
        ValidateGlobal().global_slots(FORM_DOMAIN),
    ],
)


# --- running -------------------------------------------------------------------------------


def outcome(run: Callable[[], Any]) -> Outcome:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result: Outcome = {"result": run()}
        except Exception as exc:  # the exception type and text are part of the contract
            result = {"error": [type(exc).__name__, str(exc)]}
    result["warnings"] = [[w.category.__name__, str(w.message)] for w in caught]
    return result


def main() -> None:
    results = {case_id: outcome(run) for case_id, run in CASES.items()}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
