"""Span attributes from the arguments of the traced methods, with rasa-sdk's names."""

from __future__ import annotations

import json
from typing import Any

from action_server.forms import ValidationAction
from action_server.interfaces import Tracker

__all__ = [
    "extract_attrs_for_action_executor",
    "extract_attrs_for_action_executor_create_api_response",
    "extract_attrs_for_validation_action",
]


def extract_attrs_for_action_executor(
    self: Any, action_call: dict[str, Any], *args: Any, **kwargs: Any
) -> dict[str, Any]:
    """`sender_id` (top-level, "None" if absent) and `action_name` of an action call."""
    attributes = {"sender_id": action_call.get("sender_id", "None")}
    action_name = action_call.get("next_action")
    if action_name:
        attributes["action_name"] = action_name
    return attributes


def extract_attrs_for_validation_action(
    self: ValidationAction, dispatcher: Any, tracker: Tracker, domain: Any
) -> dict[str, Any]:
    return {
        "class_name": self.__class__.__name__,
        "sender_id": tracker.sender_id,
        "slots_to_validate": json.dumps(list(tracker.slots_to_validate().keys())),
        "action_name": self.name(),
    }


def extract_attrs_for_action_executor_create_api_response(
    events: list[dict[str, Any]], messages: list[dict[str, Any]]
) -> dict[str, Any]:
    """Distinct event types and set slots (without `requested_slot`), responses, count."""
    event_names = [event.get("event") for event in events]
    slot_names = [
        event.get("name")
        for event in events
        if event.get("event") == "slot" and event.get("name") != "requested_slot"
    ]
    return {
        "events": json.dumps(list(dict.fromkeys(event_names))),
        "slots": json.dumps(list(dict.fromkeys(slot_names))),
        "utters": json.dumps([m.get("response") for m in messages if m.get("response")]),
        "message_count": len(messages),
    }
