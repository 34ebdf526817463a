"""Type aliases users import from `rasa_sdk.types`, at the same names.

These are typing aids only: at run time a tracker state or a domain is a plain
`dict` parsed from JSON, never validated against these shapes.
"""

from __future__ import annotations

from typing import Any, TypedDict

from action_server.events import EventType

__all__ = ["ActionCall", "DomainDict", "EventType", "SlotValue", "TrackerState"]

# A slot can hold any JSON value (text, bool, float, list, dict or None).
SlotValue = Any


class TrackerState(TypedDict):
    """The tracker as Rasa sends it in an action call."""

    sender_id: str
    slots: dict[str, Any]
    latest_message: dict[str, Any] | None
    events: list[dict[str, Any]]
    paused: bool
    followup_action: str | None
    active_loop: dict[str, Any]
    # deprecated in favour of `active_loop`; still read for old Rasa versions
    active_form: dict[str, Any]
    latest_action_name: str | None


class DomainDict(TypedDict):
    """The domain as Rasa sends it in an action call."""

    intents: list[str | dict[str, Any]]
    entities: list[str]
    slots: dict[Any, dict[str, Any]]
    responses: dict[str, list[dict[str, Any]]]
    actions: list[str]
    forms: dict[str, Any]


class ActionCall(TypedDict):
    """The body Rasa posts to `/webhook`."""

    next_action: str | None
    sender_id: str
    tracker: TrackerState
    domain: DomainDict
    version: str
