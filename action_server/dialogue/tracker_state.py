"""The conversation as Rasa shows it: the tracker JSON sent to actions, and parse data of commands.

Pure functions of the stored state: the engine builds an action call's tracker from them, and
`GET /conversations/<id>/tracker` serves the same dict.
"""

from __future__ import annotations

from typing import Any

from action_server.dialogue.stack import DialogueStack
from action_server.stores.store import ConversationState
from action_server.understanding.commands import (
    CannotHandle,
    Command,
)

__all__ = ["command_dict", "intent_of", "tracker_dict"]


def tracker_dict(state: ConversationState, stack: DialogueStack) -> dict[str, Any]:
    """The tracker of `state` in Rasa's JSON shape, with the dialogue stack."""
    latest_action = next((e for e in reversed(state.events) if e.get("event") == "action"), None)
    latest_action_name = latest_action.get("name") if latest_action else None
    timestamps = [e.get("timestamp") for e in state.events if e.get("timestamp")]
    input_channel = next(
        (e.get("input_channel") for e in reversed(state.events) if e.get("event") == "user"),
        None,
    )
    return {
        "sender_id": state.conversation_id,
        "slots": dict(state.slots),
        "latest_message": dict(state.latest_message),
        "latest_event_time": timestamps[-1] if timestamps else None,
        "followup_action": None,
        "paused": False,
        "ended": state.ended,
        "events": list(state.events),
        "latest_input_channel": input_channel,
        "active_loop": {},
        "latest_action": {"action_name": latest_action_name} if latest_action_name else {},
        "latest_action_name": latest_action_name,
        "stack": stack.to_list(),
    }


def intent_of(text: str, commands: list[Command]) -> str | None:
    stripped = text.strip()
    if stripped.startswith("/") and not any(isinstance(c, CannotHandle) for c in commands):
        name = stripped[1:].split("(", 1)[0].split("{", 1)[0].strip()
        return name or None
    return None


def command_dict(command: Command) -> dict[str, Any]:
    """The command as Rasa stores it in a user event's ``parse_data.commands``."""
    return command.to_dict()
