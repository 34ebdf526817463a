"""Slot names and helpers of the knowledge-base actions: which object the user means, which
attribute slots filter a query, and resetting them afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from action_server.events import SlotSet
from action_server.interfaces import Tracker

__all__ = [
    "SLOT_ATTRIBUTE",
    "SLOT_LAST_OBJECT",
    "SLOT_LAST_OBJECT_TYPE",
    "SLOT_LISTED_OBJECTS",
    "SLOT_MENTION",
    "SLOT_OBJECT_TYPE",
    "get_attribute_slots",
    "get_object_name",
    "match_extracted_entities_to_object_type",
    "reset_attribute_slots",
    "resolve_mention",
]

SLOT_MENTION = "mention"
SLOT_OBJECT_TYPE = "object_type"
SLOT_ATTRIBUTE = "attribute"
SLOT_LISTED_OBJECTS = "knowledge_base_listed_objects"
SLOT_LAST_OBJECT = "knowledge_base_last_object"
SLOT_LAST_OBJECT_TYPE = "knowledge_base_last_object_type"


def get_object_name(
    tracker: Tracker,
    ordinal_mention_mapping: dict[str, Callable[..., Any]],
    use_last_object_mention: bool = True,
) -> Any:
    """The key of the object the user means: a resolved mention ("the first one", "it"),
    else the slot named after the object type, else (optionally) the last object."""
    if tracker.get_slot(SLOT_MENTION):
        return resolve_mention(tracker, ordinal_mention_mapping)
    object_type = tracker.get_slot(SLOT_OBJECT_TYPE)
    object_name = tracker.get_slot(object_type)  # type: ignore[arg-type]
    if object_name:
        return object_name
    return tracker.get_slot(SLOT_LAST_OBJECT) if use_last_object_mention else None


def resolve_mention(
    tracker: Tracker, ordinal_mention_mapping: dict[str, Callable[..., Any]]
) -> Any:
    """An ordinal mention picks from the listed objects; any other mention means the last
    object (when an object type was talked about)."""
    mention = tracker.get_slot(SLOT_MENTION)
    if not mention:
        return None
    listed = tracker.get_slot(SLOT_LISTED_OBJECTS)
    if listed and mention in ordinal_mention_mapping:
        return ordinal_mention_mapping[mention](listed)
    if tracker.get_slot(SLOT_LAST_OBJECT_TYPE):
        return tracker.get_slot(SLOT_LAST_OBJECT)
    return None


def _set_attributes(tracker: Tracker, object_attributes: list[str]) -> list[tuple[str, Any]]:
    values = (
        (name, tracker.get_slot(name) if name in tracker.slots else None)
        for name in object_attributes
    )
    return [(name, value) for name, value in values if value is not None]


def get_attribute_slots(tracker: Tracker, object_attributes: list[str]) -> list[dict[str, Any]]:
    """`[{"name": attribute, "value": slot value}]` for each attribute slot that is set."""
    return [
        {"name": name, "value": value}
        for name, value in _set_attributes(tracker, object_attributes)
    ]


def reset_attribute_slots(tracker: Tracker, object_attributes: list[str]) -> list[dict[str, Any]]:
    """`SlotSet(attribute, None)` for each set attribute slot, so the next query starts clean."""
    return [SlotSet(name, None) for name, _ in _set_attributes(tracker, object_attributes)]


def match_extracted_entities_to_object_type(
    tracker: Tracker, object_types: list[str]
) -> str | None:
    """The first entity of the latest message that names an object type, if any."""
    for entity in tracker.latest_message.get("entities", []):
        if entity.get("entity") in object_types:
            name: str = entity["entity"]
            return name
    return None
