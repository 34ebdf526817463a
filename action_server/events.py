"""Event helpers: tiny functions returning the exact JSON dicts Rasa expects.

The names, argument orders, defaults and dict keys match `rasa_sdk.events`, so a
`rasa_sdk` action returns byte-identical events after the import rename. The
wire format is deliberately visible in each function body.
"""

from __future__ import annotations

import datetime
import warnings
from typing import Any

EventType = dict[str, Any]

__all__ = [
    "EventType",
    "UserUttered",
    "BotUttered",
    "SlotSet",
    "Restarted",
    "SessionStarted",
    "SessionEnded",
    "UserUtteranceReverted",
    "AllSlotsReset",
    "ReminderScheduled",
    "ReminderCancelled",
    "ActionReverted",
    "StoryExported",
    "FollowupAction",
    "ConversationPaused",
    "ConversationResumed",
    "ActionExecuted",
    "AgentUttered",
    "ActiveLoop",
    "Form",
    "LoopInterrupted",
    "FormValidation",
    "ActionExecutionRejected",
]


def UserUttered(  # noqa: N802 - rasa-sdk names events like classes
    text: str | None,
    parse_data: dict[str, Any] | None = None,
    timestamp: float | None = None,
    input_channel: str | None = None,
) -> EventType:
    """The user said something."""
    return {
        "event": "user",
        "timestamp": timestamp,
        "text": text,
        "parse_data": parse_data,
        "input_channel": input_channel,
    }


def BotUttered(  # noqa: N802
    text: str | None = None,
    data: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    timestamp: float | None = None,
) -> EventType:
    """The bot said something."""
    return {
        "event": "bot",
        "timestamp": timestamp,
        "text": text,
        "data": data,
        "metadata": metadata,
    }


def SlotSet(key: str, value: Any = None, timestamp: float | None = None) -> EventType:  # noqa: N802
    """Set slot `key` to `value` (None resets it)."""
    return {"event": "slot", "timestamp": timestamp, "name": key, "value": value}


def Restarted(timestamp: float | None = None) -> EventType:  # noqa: N802
    """Forget the whole conversation history."""
    return {"event": "restart", "timestamp": timestamp}


def SessionStarted(timestamp: float | None = None) -> EventType:  # noqa: N802
    """Mark the start of a new conversation session."""
    return {"event": "session_started", "timestamp": timestamp}


def SessionEnded(  # noqa: N802
    timestamp: float | None = None,
    metadata: dict[str, Any] | None = None,
) -> EventType:
    """End the session; the conversation cannot be resumed afterwards."""
    return {"event": "session_ended", "timestamp": timestamp, "metadata": metadata}


def UserUtteranceReverted(timestamp: float | None = None) -> EventType:  # noqa: N802
    """Undo the latest user message and everything after it."""
    return {"event": "rewind", "timestamp": timestamp}


def AllSlotsReset(timestamp: float | None = None) -> EventType:  # noqa: N802
    """Reset every slot to its initial value."""
    return {"event": "reset_slots", "timestamp": timestamp}


def _is_probably_action_name(name: str | None) -> bool:
    return name is not None and (name.startswith("utter_") or name.startswith("action_"))


def _warn_if_action_name(event_name: str, intent_name: str | None) -> None:
    # Reminders trigger intents; an action-like name is almost always a mistake.
    if _is_probably_action_name(intent_name):
        warnings.warn(
            f"{event_name} intent starts with 'utter_' or 'action_'. "
            f"If '{intent_name}' is indeed an intent, "
            f"then you can ignore this warning.",
            FutureWarning,
            stacklevel=3,
        )


def _warn_deprecated_event(old: str, new: str) -> None:
    warnings.warn(
        f"The `{old}` event is deprecated. Please use the `{new}` event instead.",
        DeprecationWarning,
        stacklevel=3,
    )


def ReminderScheduled(  # noqa: N802
    intent_name: str,
    trigger_date_time: datetime.datetime,
    entities: list[dict[str, Any]] | dict[str, str] | None = None,
    name: str | None = None,
    kill_on_user_message: bool = True,
    timestamp: float | None = None,
) -> EventType:
    """Trigger `intent_name` at `trigger_date_time`."""
    _warn_if_action_name("ReminderScheduled", intent_name)
    return {
        "event": "reminder",
        "timestamp": timestamp,
        "intent": intent_name,
        "entities": entities,
        "date_time": trigger_date_time.isoformat(),
        "name": name,
        "kill_on_user_msg": kill_on_user_message,
    }


def ReminderCancelled(  # noqa: N802
    name: str | None = None,
    intent_name: str | None = None,
    entities: list[dict[str, Any]] | dict[str, str] | None = None,
    timestamp: float | None = None,
) -> EventType:
    """Cancel reminders matching name, intent and entities."""
    _warn_if_action_name("ReminderCancelled", intent_name)
    return {
        "event": "cancel_reminder",
        "timestamp": timestamp,
        "intent": intent_name,
        "entities": entities,
        "name": name,
    }


def ActionReverted(timestamp: float | None = None) -> EventType:  # noqa: N802
    """Undo the latest bot action."""
    return {"event": "undo", "timestamp": timestamp}


def StoryExported(timestamp: float | None = None) -> EventType:  # noqa: N802
    """Ask Rasa to export the conversation as a story."""
    return {"event": "export", "timestamp": timestamp}


def FollowupAction(name: str, timestamp: float | None = None) -> EventType:  # noqa: N802
    """Force `name` to be the next action."""
    return {"event": "followup", "timestamp": timestamp, "name": name}


def ConversationPaused(timestamp: float | None = None) -> EventType:  # noqa: N802
    """Stop the bot from answering (e.g. a human takes over)."""
    return {"event": "pause", "timestamp": timestamp}


def ConversationResumed(timestamp: float | None = None) -> EventType:  # noqa: N802
    """Let the bot answer again after a pause."""
    return {"event": "resume", "timestamp": timestamp}


def ActionExecuted(  # noqa: N802
    action_name: str,
    policy: str | None = None,
    confidence: float | None = None,
    timestamp: float | None = None,
) -> EventType:
    """Record that an action ran."""
    return _action_event("action", action_name, policy, confidence, timestamp)


def AgentUttered(  # noqa: N802
    text: str | None = None,
    data: Any = None,
    timestamp: float | None = None,
) -> EventType:
    """Something an external agent said."""
    return {"event": "agent", "text": text, "data": data, "timestamp": timestamp}


def ActiveLoop(name: str | None, timestamp: float | None = None) -> EventType:  # noqa: N802
    """Activate loop `name` (a form); None deactivates the active loop."""
    return {"event": "active_loop", "name": name, "timestamp": timestamp}


def Form(name: str | None, timestamp: float | None = None) -> EventType:  # noqa: N802
    """Deprecated alias of `ActiveLoop`, kept so old actions still run."""
    _warn_deprecated_event("Form", "ActiveLoop")
    return ActiveLoop(name, timestamp)


def LoopInterrupted(is_interrupted: bool, timestamp: float | None = None) -> EventType:  # noqa: N802
    """Mark the active loop as interrupted (or no longer interrupted)."""
    return {
        "event": "loop_interrupted",
        "is_interrupted": is_interrupted,
        "timestamp": timestamp,
    }


def FormValidation(validate: bool, timestamp: float | None = None) -> EventType:  # noqa: N802
    """Deprecated: `validate=False` means the loop is interrupted."""
    _warn_deprecated_event("FormValidation", "LoopInterrupted")
    return LoopInterrupted(not validate, timestamp)


def ActionExecutionRejected(  # noqa: N802
    action_name: str,
    policy: str | None = None,
    confidence: float | None = None,
    timestamp: float | None = None,
) -> EventType:
    """Record that an action refused to run."""
    return _action_event("action_execution_rejected", action_name, policy, confidence, timestamp)


def _action_event(
    event: str,
    action_name: str,
    policy: str | None,
    confidence: float | None,
    timestamp: float | None,
) -> EventType:
    """`ActionExecuted` and `ActionExecutionRejected` differ only in the event name."""
    return {
        "event": event,
        "name": action_name,
        "policy": policy,
        "confidence": confidence,
        "timestamp": timestamp,
    }
