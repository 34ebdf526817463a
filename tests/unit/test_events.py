"""Every event helper produces exactly rasa-sdk's JSON dict."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from action_server import events
from action_server.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AgentUttered,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    FollowupAction,
    Form,
    FormValidation,
    LoopInterrupted,
    ReminderCancelled,
    ReminderScheduled,
    Restarted,
    SessionEnded,
    SessionStarted,
    SlotSet,
    StoryExported,
    UserUtteranceReverted,
    UserUttered,
)

DEFAULTS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        UserUttered("hi"),
        {
            "event": "user",
            "timestamp": None,
            "text": "hi",
            "parse_data": None,
            "input_channel": None,
        },
    ),
    (
        BotUttered(),
        {"event": "bot", "timestamp": None, "text": None, "data": None, "metadata": None},
    ),
    (SlotSet("city"), {"event": "slot", "timestamp": None, "name": "city", "value": None}),
    (Restarted(), {"event": "restart", "timestamp": None}),
    (SessionStarted(), {"event": "session_started", "timestamp": None}),
    (SessionEnded(), {"event": "session_ended", "timestamp": None, "metadata": None}),
    (UserUtteranceReverted(), {"event": "rewind", "timestamp": None}),
    (AllSlotsReset(), {"event": "reset_slots", "timestamp": None}),
    (
        ReminderCancelled(),
        {
            "event": "cancel_reminder",
            "timestamp": None,
            "intent": None,
            "entities": None,
            "name": None,
        },
    ),
    (ActionReverted(), {"event": "undo", "timestamp": None}),
    (StoryExported(), {"event": "export", "timestamp": None}),
    (FollowupAction("action_x"), {"event": "followup", "timestamp": None, "name": "action_x"}),
    (ConversationPaused(), {"event": "pause", "timestamp": None}),
    (ConversationResumed(), {"event": "resume", "timestamp": None}),
    (
        ActionExecuted("action_x"),
        {
            "event": "action",
            "name": "action_x",
            "policy": None,
            "confidence": None,
            "timestamp": None,
        },
    ),
    (AgentUttered(), {"event": "agent", "text": None, "data": None, "timestamp": None}),
    (ActiveLoop("f"), {"event": "active_loop", "name": "f", "timestamp": None}),
    (ActiveLoop(None), {"event": "active_loop", "name": None, "timestamp": None}),
    (
        LoopInterrupted(True),
        {"event": "loop_interrupted", "is_interrupted": True, "timestamp": None},
    ),
    (
        ActionExecutionRejected("action_x"),
        {
            "event": "action_execution_rejected",
            "name": "action_x",
            "policy": None,
            "confidence": None,
            "timestamp": None,
        },
    ),
]


@pytest.mark.parametrize(("event", "expected"), DEFAULTS, ids=lambda v: str(v)[:40])
def test_event_helper_defaults_match_rasa_sdk_json(
    event: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert event == expected
    # same key order as rasa-sdk, so serialised bytes are identical too
    assert list(event) == list(expected)
    assert json.loads(json.dumps(event)) == expected


def test_event_helpers_pass_every_argument_through() -> None:
    parse = {"intent": {"name": "greet"}, "entities": []}
    assert UserUttered("hi", parse, 1.5, "rest") == {
        "event": "user",
        "timestamp": 1.5,
        "text": "hi",
        "parse_data": parse,
        "input_channel": "rest",
    }
    assert BotUttered("yo", {"buttons": []}, {"m": 1}, 2.0) == {
        "event": "bot",
        "timestamp": 2.0,
        "text": "yo",
        "data": {"buttons": []},
        "metadata": {"m": 1},
    }
    assert SlotSet("n", [1, 2], 3.0)["value"] == [1, 2]
    assert SlotSet(key="n", value=False)["value"] is False
    assert SessionEnded(4.0, {"reason": "bye"}) == {
        "event": "session_ended",
        "timestamp": 4.0,
        "metadata": {"reason": "bye"},
    }
    assert ActionExecuted("a", "policy_x", 0.9, 5.0) == {
        "event": "action",
        "name": "a",
        "policy": "policy_x",
        "confidence": 0.9,
        "timestamp": 5.0,
    }
    assert ActionExecutionRejected("a", "p", 0.1, 6.0)["policy"] == "p"
    assert AgentUttered("t", {"d": 1}, 7.0) == {
        "event": "agent",
        "text": "t",
        "data": {"d": 1},
        "timestamp": 7.0,
    }
    assert Restarted(8.0) == {"event": "restart", "timestamp": 8.0}


def test_reminder_scheduled_serialises_trigger_time_as_isoformat() -> None:
    when = datetime.datetime(2024, 5, 17, 9, 30, 0, tzinfo=datetime.timezone.utc)
    event = ReminderScheduled("EXTERNAL_remind", when, [{"entity": "x", "value": 1}], "r1", False)
    assert event == {
        "event": "reminder",
        "timestamp": None,
        "intent": "EXTERNAL_remind",
        "entities": [{"entity": "x", "value": 1}],
        "date_time": "2024-05-17T09:30:00+00:00",
        "name": "r1",
        "kill_on_user_msg": False,
    }
    assert ReminderScheduled("remind", when)["kill_on_user_msg"] is True


def test_reminder_with_action_like_intent_name_warns() -> None:
    when = datetime.datetime(2024, 1, 1)
    with pytest.warns(FutureWarning, match="utter_x"):
        ReminderScheduled("utter_x", when)
    with pytest.warns(FutureWarning, match="action_y"):
        ReminderCancelled(intent_name="action_y")


def test_reminder_cancelled_passes_filters_through() -> None:
    assert ReminderCancelled("r1", "remind", {"a": "b"}, 1.0) == {
        "event": "cancel_reminder",
        "timestamp": 1.0,
        "intent": "remind",
        "entities": {"a": "b"},
        "name": "r1",
    }


def test_deprecated_form_event_is_active_loop_with_warning() -> None:
    with pytest.warns(DeprecationWarning):
        assert Form("f") == ActiveLoop("f")


def test_deprecated_form_validation_event_inverts_into_loop_interrupted() -> None:
    with pytest.warns(DeprecationWarning):
        assert FormValidation(False) == LoopInterrupted(True)
    with pytest.warns(DeprecationWarning):
        assert FormValidation(True) == LoopInterrupted(False)


def test_event_type_alias_is_a_plain_dict_type() -> None:
    assert events.EventType == dict[str, Any]
    from action_server.types import EventType

    assert EventType is events.EventType


def test_every_public_event_helper_is_listed_in_all() -> None:
    helpers = {
        name
        for name, value in vars(events).items()
        if callable(value) and name[:1].isupper() and value.__module__ == events.__name__
    }
    assert helpers <= set(events.__all__)
