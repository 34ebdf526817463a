"""What an action returned, applied to a turn: its events (slots, follow-ups, bot messages) and
its dispatcher messages rendered as bot messages (named responses from the domain).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from action_server.dialogue.responses import MESSAGE_KEYS, render_response
from action_server.dialogue.turn import Turn
from action_server.flows.model import Domain

__all__ = ["apply_action_events", "message_from_dispatcher"]

logger = logging.getLogger(__name__)


def apply_action_events(
    turn: Turn, domain: Domain, action: str, events: list[dict[str, Any]]
) -> list[str]:
    """Apply events an action returned; returns follow-up actions to run next."""
    followups: list[str] = []
    slots = turn.state.slots
    for event in events:
        if not isinstance(event, dict):
            logger.warning("action '%s' returned a non-object event: %r", action, event)
            continue
        event = dict(event)
        if event.get("timestamp") is None:
            event["timestamp"] = time.time()
        kind = event.get("event")
        if kind == "slot":
            name = event.get("name")
            if name not in domain.slots:
                logger.warning("action '%s' set unknown slot %r; ignored", action, name)
                continue
            slots[str(name)] = event.get("value")
        elif kind == "reset_slots":
            slots.update(domain.initial_slots())
        elif kind == "followup" and isinstance(event.get("name"), str):
            followups.append(event["name"])
        elif kind == "bot":
            data = event.get("data") or {}
            message = {"text": event.get("text"), **{k: v for k, v in data.items() if v}}
            turn.messages.append({k: v for k, v in message.items() if v is not None})
        turn.record(event)
    return followups


def message_from_dispatcher(
    turn: Turn, domain: Domain, channel: str | None, action: str, response: Any
) -> dict[str, Any] | None:
    """A dispatcher message as a bot message: named responses are rendered from the domain."""
    if not isinstance(response, dict):
        logger.warning("action '%s' returned a non-object response: %r", action, response)
        return None
    template = response.get("response") or response.get("template")
    if template:
        known = {*MESSAGE_KEYS, "response", "template"}
        extra = {k: v for k, v in response.items() if k not in known}
        message = render_response(str(template), domain, turn.state.slots, extra, channel)
        if message is None:
            logger.warning("action '%s' uttered unknown response '%s'", action, template)
            return None
        # As in Rasa: buttons (and other parts) given with the call are added to the response.
        for key in MESSAGE_KEYS:
            if key == "buttons" and response.get(key):
                message["buttons"] = [*(message.get("buttons") or []), *response[key]]
            elif key != "text" and response.get(key) and key not in message:
                message[key] = response[key]
        return message
    message = {k: response[k] for k in MESSAGE_KEYS if response.get(k)}
    return message or None
