"""The public surface of `Tracker`, matching rasa-sdk."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from action_server import Action, ActionExecutionRejection, Tracker
from action_server.events import (
    ActionExecuted,
    ActionReverted,
    BotUttered,
    Restarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from action_server.interfaces import ActionMissingDomainException, ActionNotFoundException


def _user(text: str, channel: str = "rest", ts: float = 1.0) -> dict[str, Any]:
    return UserUttered(text, {"intent": {"name": text}}, ts, channel)


def realistic_state() -> dict[str, Any]:
    """A tracker as Rasa sends it: a restart, a rewind, an undo, slots and entities."""
    events = [
        ActionExecuted("action_session_start", timestamp=0.1),
        ActionExecuted("action_listen", timestamp=0.2),
        _user("old", channel="slack", ts=0.3),
        Restarted(0.4),
        ActionExecuted("action_listen", timestamp=1.0),
        _user("greet", ts=1.1),
        ActionExecuted("utter_greet", timestamp=1.2),
        BotUttered("hi", timestamp=1.3),
        ActionExecuted("action_listen", timestamp=1.4),
        _user("book", ts=1.5),
        ActionExecuted("book_form", timestamp=1.6),
        ActionExecuted("action_listen", timestamp=1.7),
        _user("mumble", channel="socketio", ts=1.8),
        UserUtteranceReverted(1.9),
        ActionExecuted("action_check", timestamp=2.0),
        ActionReverted(2.1),
        ActionExecuted("action_listen", timestamp=2.2),
        _user("inform", channel="voice", ts=2.3),
        SlotSet("city", "Berlin", 2.4),
        SlotSet("date-of-trip", "tomorrow", 2.5),
    ]
    return {
        "sender_id": "user-42",
        "conversation_id": "user-42",
        "slots": {"city": "Berlin", "date-of-trip": "tomorrow", "requested_slot": None},
        "latest_message": {
            "text": "from Paris to Berlin",
            "intent": {"name": "inform", "confidence": 0.9},
            "intent_ranking": [
                {"name": "nlu_fallback", "confidence": 0.3},
                {"name": "inform", "confidence": 0.2},
            ],
            "entities": [
                {"entity": "city", "value": "Paris", "role": "departure", "group": "1"},
                {"entity": "city", "value": "Berlin", "role": "destination", "group": "1"},
                {"entity": "city", "value": "Rome", "role": "destination", "group": "2"},
                {"entity": "date", "value": "tomorrow"},
            ],
        },
        "latest_event_time": 2.5,
        "followup_action": "action_next",
        "paused": False,
        "events": events,
        "latest_input_channel": "voice",
        "active_loop": {"name": "book_form", "validate": True},
        "latest_action": {"action_name": "action_listen"},
        "latest_action_name": "action_listen",
        "stack": [{"frame_id": "f1", "flow_id": "book", "type": "flow"}],
    }


@pytest.fixture
def state() -> dict[str, Any]:
    return realistic_state()


@pytest.fixture
def tracker(state: dict[str, Any]) -> Tracker:
    return Tracker.from_dict(state)


def test_from_dict_reads_every_field(tracker: Tracker, state: dict[str, Any]) -> None:
    assert tracker.sender_id == "user-42"
    assert tracker.slots == state["slots"]
    assert tracker.latest_message == state["latest_message"]
    assert tracker.followup_action == "action_next"
    assert tracker.active_loop == {"name": "book_form", "validate": True}
    assert tracker.latest_action_name == "action_listen"
    assert tracker.latest_action == {"action_name": "action_listen"}
    assert tracker.stack == state["stack"]
    assert tracker.is_paused() is False


def test_from_dict_keeps_the_given_lists_without_copying(
    tracker: Tracker, state: dict[str, Any]
) -> None:
    assert tracker.events is state["events"]
    assert tracker.slots is state["slots"]
    assert tracker.events[0] is state["events"][0]


def test_from_dict_of_a_minimal_state_uses_rasa_sdk_defaults() -> None:
    tracker = Tracker.from_dict({"sender_id": "x"})
    assert tracker.slots == {}
    assert tracker.events == []
    assert tracker.latest_message == {}
    assert tracker.is_paused() is False
    assert tracker.followup_action is None
    assert tracker.active_loop == {}
    assert tracker.active_loop_name is None
    assert tracker.latest_action_name is None
    assert tracker.stack == []


def test_from_dict_tolerates_nulls_from_the_wire() -> None:
    tracker = Tracker.from_dict(
        {"sender_id": "x", "latest_message": None, "active_loop": None, "events": None}
    )
    assert tracker.latest_message == {}
    assert tracker.active_loop == {}
    assert tracker.events == []


def test_from_dict_without_sender_id_names_the_missing_field() -> None:
    with pytest.raises(ValueError, match="sender_id"):
        Tracker.from_dict({"events": []})


def test_from_dict_reads_deprecated_active_form() -> None:
    tracker = Tracker.from_dict({"sender_id": "x", "active_form": {"name": "old_form"}})
    assert tracker.active_loop_name == "old_form"
    with pytest.warns(DeprecationWarning):
        assert tracker.active_form == {"name": "old_form"}


def test_paused_conversation_is_reported(state: dict[str, Any]) -> None:
    state["paused"] = True
    tracker = Tracker.from_dict(state)
    assert tracker.is_paused() is True
    assert tracker.current_state()["paused"] is True


def test_current_state_has_rasa_sdk_keys(tracker: Tracker, state: dict[str, Any]) -> None:
    assert tracker.current_state() == {
        "sender_id": "user-42",
        "slots": state["slots"],
        "latest_message": state["latest_message"],
        "latest_event_time": 2.5,
        "paused": False,
        "events": state["events"],
        "latest_input_channel": "voice",
        "active_loop": {"name": "book_form", "validate": True},
        "latest_action_name": "action_listen",
        "stack": state["stack"],
        "user_id": None,
    }


def test_user_id_is_read_copied_and_returned_last_by_current_state(state: dict[str, Any]) -> None:
    state["user_id"] = "customer-7"
    tracker = Tracker.from_dict(state)
    assert tracker.user_id == "customer-7"
    assert tracker.copy().user_id == "customer-7"
    assert list(tracker.current_state())[-1] == "user_id"
    assert tracker.current_state()["user_id"] == "customer-7"


def test_current_state_of_empty_tracker_has_no_event_time() -> None:
    assert Tracker.from_dict({"sender_id": "x"}).current_state()["latest_event_time"] is None


def test_get_slot_returns_value_or_none(tracker: Tracker) -> None:
    assert tracker.get_slot("city") == "Berlin"
    assert tracker.get_slot("date-of-trip") == "tomorrow"
    assert tracker.get_slot("no_such_slot") is None
    assert tracker.current_slot_values() is tracker.slots


def test_get_latest_entity_values_filters_by_type_role_and_group(tracker: Tracker) -> None:
    # As in rasa-sdk, role/group None means "no role/group", not "any".
    assert list(tracker.get_latest_entity_values("city")) == []
    assert list(tracker.get_latest_entity_values("date")) == ["tomorrow"]
    assert list(tracker.get_latest_entity_values("city", entity_role="destination")) == []
    assert list(tracker.get_latest_entity_values("city", entity_group="1")) == []
    assert list(tracker.get_latest_entity_values("city", "destination", "1")) == ["Berlin"]
    assert list(tracker.get_latest_entity_values("city", "destination", "2")) == ["Rome"]
    assert next(tracker.get_latest_entity_values("airport"), None) is None


def test_get_latest_input_channel_uses_latest_user_event(tracker: Tracker) -> None:
    assert tracker.get_latest_input_channel() == "voice"
    assert Tracker.from_dict({"sender_id": "x"}).get_latest_input_channel() is None


def test_idx_and_events_after_latest_restart(tracker: Tracker, state: dict[str, Any]) -> None:
    assert tracker.idx_after_latest_restart() == 4
    after = tracker.events_after_latest_restart()
    assert after == state["events"][4:]
    assert after is not state["events"]
    assert Tracker.from_dict({"sender_id": "x"}).idx_after_latest_restart() == 0


def test_applied_events_drop_restarted_rewound_and_undone_events(tracker: Tracker) -> None:
    applied = tracker.applied_events()
    names = [(e["event"], e.get("name") or e.get("text")) for e in applied]
    assert names == [
        ("action", "action_listen"),
        ("user", "greet"),
        ("action", "utter_greet"),
        ("bot", "hi"),
        ("action", "action_listen"),
        ("user", "book"),
        ("action", "book_form"),
        # rewind removed "mumble" and the action_listen before it;
        # undo removed action_check
        ("action", "action_listen"),
        ("user", "inform"),
        ("slot", "city"),
        ("slot", "date-of-trip"),
    ]


def test_applied_events_returns_a_fresh_list_each_time(tracker: Tracker) -> None:
    first = tracker.applied_events()
    first.clear()
    assert len(tracker.applied_events()) == 11


def test_applied_events_follow_appended_events(tracker: Tracker) -> None:
    assert len(tracker.applied_events()) == 11
    tracker.events.append(Restarted())
    assert tracker.applied_events() == []
    tracker.events.append(ActionExecuted("action_listen"))
    assert len(tracker.applied_events()) == 1


def test_undo_without_any_action_clears_applied_events() -> None:
    tracker = Tracker.from_dict({"sender_id": "x", "events": [BotUttered("a"), ActionReverted()]})
    assert tracker.applied_events() == []


def test_last_executed_action_has_ignores_action_listen(tracker: Tracker) -> None:
    assert tracker.last_executed_action_has("book_form")
    assert not tracker.last_executed_action_has("action_check")  # undone
    assert tracker.last_executed_action_has("utter_greet", skip=1)


def test_get_last_event_for_with_exclude_and_skip(tracker: Tracker) -> None:
    assert tracker.get_last_event_for("user")["parse_data"]["intent"]["name"] == "inform"  # type: ignore[index]
    assert tracker.get_last_event_for("user", skip=1)["text"] == "book"  # type: ignore[index]
    last = tracker.get_last_event_for("action", exclude=["action_listen", "book_form"])
    assert last is not None and last["name"] == "utter_greet"
    assert tracker.get_last_event_for("action")["name"] == "action_listen"  # type: ignore[index]
    assert tracker.get_last_event_for("pause") is None
    assert tracker.get_last_event_for("user", skip=5) is None


def test_slots_to_validate_are_the_trailing_slot_events(tracker: Tracker) -> None:
    assert tracker.slots_to_validate() == {"city": "Berlin", "date-of-trip": "tomorrow"}


def test_slots_to_validate_is_empty_when_last_event_is_not_a_slot() -> None:
    tracker = Tracker.from_dict(
        {"sender_id": "x", "events": [SlotSet("a", 1), ActionExecuted("action_listen")]}
    )
    assert tracker.slots_to_validate() == {}


def test_add_slots_sets_values_and_appends_only_slot_events(tracker: Tracker) -> None:
    before = len(tracker.events)
    tracker.add_slots([SlotSet("city", "Rome"), BotUttered("ignored"), SlotSet("new", 1)])
    assert tracker.get_slot("city") == "Rome"
    assert tracker.get_slot("new") == 1
    assert len(tracker.events) == before + 2
    assert tracker.slots_to_validate() == {
        "city": "Rome",
        "date-of-trip": "tomorrow",
        "new": 1,
    }


def test_get_intent_of_latest_message_skips_nlu_fallback(tracker: Tracker) -> None:
    assert tracker.get_intent_of_latest_message() == "inform"
    assert tracker.get_intent_of_latest_message(skip_fallback_intent=False) == "nlu_fallback"


def test_get_intent_of_latest_message_edge_cases() -> None:
    assert Tracker.from_dict({"sender_id": "x"}).get_intent_of_latest_message() is None
    only_fallback = Tracker.from_dict(
        {
            "sender_id": "x",
            "latest_message": {"intent_ranking": [{"name": "nlu_fallback"}]},
        }
    )
    assert only_fallback.get_intent_of_latest_message() is None
    no_ranking = Tracker.from_dict({"sender_id": "x", "latest_message": {"text": "hi"}})
    assert no_ranking.get_intent_of_latest_message() is None


def test_active_loop_name(tracker: Tracker) -> None:
    assert tracker.active_loop_name == "book_form"
    placeholder = Tracker.from_dict(
        {"sender_id": "x", "active_loop": {"name": "should_not_be_set"}}
    )
    assert placeholder.active_loop_name is None


def test_copy_is_deep_and_equal(tracker: Tracker) -> None:
    clone = tracker.copy()
    assert clone == tracker
    assert clone.events is not tracker.events
    clone.slots["city"] = "Oslo"
    clone.events.append(Restarted())
    clone.stack.append({"frame_id": "f2"})
    assert tracker.get_slot("city") == "Berlin"
    assert clone != tracker
    assert len(tracker.stack) == 1
    assert clone.followup_action == tracker.followup_action
    assert clone.latest_action_name == tracker.latest_action_name


def test_equality_compares_sender_and_events_only(state: dict[str, Any]) -> None:
    a = Tracker.from_dict(state)
    b = Tracker.from_dict({"sender_id": "user-42", "events": list(state["events"])})
    assert a == b
    assert a != Tracker.from_dict({"sender_id": "other", "events": state["events"]})
    assert a != "not a tracker"


def test_from_dict_of_a_large_tracker_is_cheap() -> None:
    events = [UserUttered(f"m{i}") if i % 2 else ActionExecuted("x") for i in range(20_000)]
    tracker = Tracker.from_dict({"sender_id": "big", "events": events})
    assert tracker.events is events
    assert tracker.idx_after_latest_restart() == 0
    assert len(tracker.applied_events()) == 20_000


def test_action_str_and_unimplemented_methods() -> None:
    class Hello(Action):
        def name(self) -> str:
            return "action_hello"

    assert str(Hello()) == "Action('action_hello')"
    assert "action_hello" in repr(Hello())
    with pytest.raises(NotImplementedError, match="name"):
        Action().name()


async def test_action_run_must_be_implemented() -> None:
    with pytest.raises(NotImplementedError, match="run method"):
        await Action().run(None, Tracker.from_dict({"sender_id": "x"}), {})  # type: ignore[arg-type, typeddict-item]


def test_action_execution_rejection_message() -> None:
    default = ActionExecutionRejection("action_x")
    assert default.action_name == "action_x"
    assert str(default) == "Custom action 'action_x' rejected execution."
    custom = ActionExecutionRejection("action_x", "not now")
    assert (custom.message, str(custom)) == ("not now", "not now")


def test_action_not_found_message() -> None:
    error = ActionNotFoundException("action_nope")
    assert str(error) == "No registered action found for name 'action_nope'."
    assert error.action_name == "action_nope"


def test_action_missing_domain_message() -> None:
    error = ActionMissingDomainException("action_x")
    assert error.action_name == "action_x"
    assert (
        str(error)
        == error.message
        == (
            "Missing domain context, assistant will retry the request and include the domain in "
            "the request payload. For more information please see https://rasa.com/docs/action-server/"
        )
    )


def test_exceptions_survive_pickling() -> None:
    for error in (
        ActionExecutionRejection("a", "m"),
        ActionNotFoundException("a"),
        ActionMissingDomainException("a"),
    ):
        clone = pickle.loads(pickle.dumps(error))
        assert (type(clone), clone.action_name, str(clone)) == (type(error), "a", str(error))
