"""Slot mappings as plain dicts, at rasa-sdk's path (`rasa_sdk.slots.SlotMapping`).

`SlotMapping.from_entity(...)` and friends build the mapping dicts a domain lists under a
slot's `mappings`; `intent_is_desired` / `entity_is_desired` decide whether a mapping
applies to the latest user message (validation actions use them).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Union

from action_server.interfaces import Tracker
from action_server.types import DomainDict

__all__ = ["SlotMapping"]

Intents = Union[str, list[str], None]


class SlotMapping(Enum):
    """The mapping types; `str(member)` is the `type` value a mapping dict carries."""

    FROM_ENTITY = 0
    FROM_INTENT = 1
    FROM_TRIGGER_INTENT = 2
    FROM_TEXT = 3
    CUSTOM = 4

    def __str__(self) -> str:
        return self.name.lower()

    @staticmethod
    def to_list(x: Any | None) -> list[Any]:
        """`None` -> `[]`, a single value -> `[value]`, a list stays itself."""
        if x is None:
            return []
        return x if isinstance(x, list) else [x]

    @staticmethod
    def from_entity(
        entity: str,
        intent: Intents = None,
        not_intent: Intents = None,
        role: str | None = None,
        group: str | None = None,
    ) -> dict[str, Any]:
        """Fill the slot from an extracted entity (optionally of a role and group)."""
        return {
            "type": str(SlotMapping.FROM_ENTITY),
            "entity": entity,
            "intent": SlotMapping.to_list(intent),
            "not_intent": SlotMapping.to_list(not_intent),
            "role": role,
            "group": group,
        }

    @staticmethod
    def from_trigger_intent(
        value: Any, intent: Intents = None, not_intent: Intents = None
    ) -> dict[str, Any]:
        """Fill the slot with `value` when the intent that activated a form matches."""
        return {
            "type": str(SlotMapping.FROM_TRIGGER_INTENT),
            "value": value,
            "intent": SlotMapping.to_list(intent),
            "not_intent": SlotMapping.to_list(not_intent),
        }

    @staticmethod
    def from_intent(
        value: Any, intent: Intents = None, not_intent: Intents = None
    ) -> dict[str, Any]:
        """Fill the slot with `value` when the user's intent matches."""
        return {
            "type": str(SlotMapping.FROM_INTENT),
            "value": value,
            "intent": SlotMapping.to_list(intent),
            "not_intent": SlotMapping.to_list(not_intent),
        }

    @staticmethod
    def from_text(intent: Intents = None, not_intent: Intents = None) -> dict[str, Any]:
        """Fill the slot with the whole user message."""
        return {
            "type": str(SlotMapping.FROM_TEXT),
            "intent": SlotMapping.to_list(intent),
            "not_intent": SlotMapping.to_list(not_intent),
        }

    @staticmethod
    def intent_is_desired(mapping: dict[str, Any], tracker: Tracker, domain: DomainDict) -> bool:
        """True when the latest intent is one the mapping wants, or none it excludes.

        Inside an active form whose mapping has a matching `active_loop` condition, the
        form's `ignored_intents` count as excluded too.
        """
        wanted = SlotMapping.to_list(mapping.get("intent", []))
        excluded = SlotMapping.to_list(mapping.get("not_intent", []))
        loop = tracker.active_loop_name
        if loop:
            excluded = excluded + SlotMapping._get_ignored_intents(mapping, domain, loop)
        intent = tracker.latest_message.get("intent", {}).get("name")
        return (not wanted and intent not in excluded) or intent in wanted

    @staticmethod
    def entity_is_desired(mapping: dict[str, Any], tracker: Tracker) -> bool:
        """True when the latest message has the mapping's entity with its role and group."""
        for entity in tracker.latest_message.get("entities", []):
            if (
                mapping.get("entity") == entity["entity"]
                and mapping.get("role") == entity.get("role")
                and mapping.get("group") == entity.get("group")
            ):
                values = tracker.get_latest_entity_values(
                    mapping.get("entity", ""), mapping.get("role"), mapping.get("group")
                )
                return values is not None
        return False

    @staticmethod
    def _get_ignored_intents(mapping: dict[str, Any], domain: DomainDict, loop: str) -> list[str]:
        conditions = mapping.get("conditions") or []
        if not any(condition.get("active_loop") == loop for condition in conditions):
            return []
        ignored = domain.get("forms", {})[loop].get("ignored_intents", [])
        return ignored if isinstance(ignored, list) else [ignored]
