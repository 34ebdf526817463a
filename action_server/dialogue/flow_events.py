"""Event dicts the flow engine records, in Rasa's tracker JSON shape.

The SDK helpers in ``action_server.events`` cover what actions return; the flow lifecycle
events (``flow_started`` ...) exist only in Rasa Pro trackers, with ``flow_id`` and, except
for ``flow_started``, the ``step_id`` the flow stood at.
"""

from __future__ import annotations

import time
from typing import Any

from action_server.events import ActionExecuted, BotUttered, SlotSet, UserUttered

__all__ = [
    "action_executed",
    "bot_uttered",
    "flow_cancelled",
    "flow_completed",
    "flow_interrupted",
    "flow_resumed",
    "flow_started",
    "session_ended",
    "slot_set",
    "user_uttered",
]

_MESSAGE_DATA_KEYS = ("elements", "quick_replies", "buttons", "attachment", "image", "custom")


def _now() -> float:
    return time.time()


def _flow_event(name: str, flow_id: str, step_id: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {"event": name, "timestamp": _now(), "metadata": {}, "flow_id": flow_id}
    if step_id is not None:
        event["step_id"] = step_id
    return event


def flow_started(flow_id: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """``metadata`` is a pattern's context (Rasa puts it there, e.g. clarification names)."""
    event = _flow_event("flow_started", flow_id, None)
    if metadata:
        event["metadata"] = dict(metadata)
    return event


def flow_completed(flow_id: str, step_id: str) -> dict[str, Any]:
    return _flow_event("flow_completed", flow_id, step_id)


def flow_cancelled(flow_id: str, step_id: str) -> dict[str, Any]:
    return _flow_event("flow_cancelled", flow_id, step_id)


def flow_interrupted(flow_id: str, step_id: str) -> dict[str, Any]:
    return _flow_event("flow_interrupted", flow_id, step_id)


def flow_resumed(flow_id: str, step_id: str) -> dict[str, Any]:
    return _flow_event("flow_resumed", flow_id, step_id)


def session_ended(reason: str) -> dict[str, Any]:
    return {"event": "session_ended", "timestamp": _now(), "metadata": {"reason": reason}}


def user_uttered(
    text: str, parse_data: dict[str, Any], input_channel: str | None
) -> dict[str, Any]:
    return UserUttered(text, parse_data, timestamp=_now(), input_channel=input_channel)


def action_executed(name: str) -> dict[str, Any]:
    return ActionExecuted(name, policy="flow_policy", confidence=1.0, timestamp=_now())


def slot_set(name: str, value: Any) -> dict[str, Any]:
    return SlotSet(name, value, timestamp=_now())


def bot_uttered(message: dict[str, Any], utter_action: str | None = None) -> dict[str, Any]:
    """A ``bot`` event for an outgoing message, with Rasa's ``data`` keys."""
    data = {key: message.get(key) for key in _MESSAGE_DATA_KEYS}
    metadata = {"utter_action": utter_action} if utter_action else {}
    return BotUttered(message.get("text"), data=data, metadata=metadata, timestamp=_now())
