"""Validation actions: extract and validate slots with `extract_<slot>` / `validate_<slot>` methods.

Same semantics as `rasa_sdk.forms`: Rasa calls `action_validate_slot_mappings`
(a `ValidationAction`) for global slots, and `validate_<form name>` (a
`FormValidationAction`) while that form is active. Only slots Rasa has just set
(the trailing `slot` events of the tracker) are validated.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import warnings
from abc import ABC
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from action_server.events import EventType, SlotSet
from action_server.interfaces import Action

if TYPE_CHECKING:  # pragma: no cover
    from action_server.interfaces import Tracker
    from action_server.interfaces.dispatcher import CollectingDispatcher
    from action_server.types import DomainDict

logger = logging.getLogger(__name__)

__all__ = [
    "ACTION_VALIDATE_SLOT_MAPPINGS",
    "LOOP_INTERRUPTED_KEY",
    "REQUESTED_SLOT",
    "FormValidationAction",
    "ValidationAction",
]

# the slot a form uses to remember which slot it asked for
REQUESTED_SLOT = "requested_slot"
LOOP_INTERRUPTED_KEY = "is_interrupted"
ACTION_VALIDATE_SLOT_MAPPINGS = "action_validate_slot_mappings"


async def _call_user_method(method: Callable[..., Any], *args: Any) -> Any:
    """Await async methods on the loop; run plain ones in a thread so they cannot block it."""
    if inspect.iscoroutinefunction(method):
        return await method(*args)
    result = await asyncio.to_thread(method, *args)
    if inspect.isawaitable(result):
        return await result
    return result


def _method_suffix(slot_name: str) -> str:
    # Slot names may contain dashes; Python method names cannot.
    return slot_name.replace("-", "_")


class ValidationAction(Action, ABC):
    """Extracts and validates global slots (those not tied to a form).

    Define `extract_<slot>(dispatcher, tracker, domain) -> dict` to fill custom
    slots and `validate_<slot>(value, dispatcher, tracker, domain) -> dict` to
    check a value; return `{slot: None}` to reject it. Methods may be async.
    """

    def name(self) -> str:
        """Rasa calls this name after extracting slots; do not override it."""
        return ACTION_VALIDATE_SLOT_MAPPINGS

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        """Extract custom slots, then validate every just-set slot."""
        extraction_events = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extraction_events)
        # the validation events also cover the slots extracted above
        return await self._extract_validation_events(dispatcher, tracker, domain)

    async def _extract_validation_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        validation_events = await self.get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(validation_events)
        return validation_events

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Slots this action fills; override to add or drop slots dynamically."""
        return domain_slots

    async def get_extraction_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        """`SlotSet` events for slots filled by `extract_<slot>` methods."""
        domain_slots = self.domain_slots(domain)
        slots_to_extract = await self.required_slots(domain_slots, dispatcher, tracker, domain)
        extracted: dict[str, Any] = {}
        for slot in slots_to_extract:
            output = await self._extract_slot(slot, dispatcher, tracker, domain, domain_slots)
            extracted.update(output)
            # later extract_ methods see what earlier ones filled
            tracker.slots.update(output)
        return [SlotSet(slot, value) for slot, value in extracted.items()]

    async def get_validation_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        """`SlotSet` events for each just-set slot this action is responsible for."""
        slots_to_validate = await self.required_slots(
            self.domain_slots(domain), dispatcher, tracker, domain
        )
        slots: dict[str, Any] = tracker.slots_to_validate()

        for slot_name, slot_value in list(slots.items()):
            if slot_name not in slots_to_validate:
                slots.pop(slot_name)
                continue

            method_name = f"validate_{_method_suffix(slot_name)}"
            validate_method = getattr(self, method_name, None)
            if not validate_method:
                logger.warning(
                    "Skipping validation for `%s`: there is no validation method specified.",
                    slot_name,
                )
                continue

            output = await _call_user_method(
                validate_method, slot_value, dispatcher, tracker, domain
            )
            if isinstance(output, dict):
                slots.update(output)
                # later validate_ methods see what earlier ones decided
                tracker.slots.update(output)
            else:
                warnings.warn(
                    f"Cannot validate `{slot_name}`: make sure the validation method "
                    f"`{type(self).__name__}.{method_name}` returns a dict, "
                    f"got {type(output).__name__}.",
                    stacklevel=2,
                )

        return [SlotSet(slot, value) for slot, value in slots.items()]

    @staticmethod
    def _is_mapped_to_form(slot: Any) -> bool:
        if not isinstance(slot, dict):
            return False
        for mapping in slot.get("mappings") or ():
            if not isinstance(mapping, dict):
                continue
            for condition in mapping.get("conditions") or ():
                if isinstance(condition, dict) and condition.get("active_loop"):
                    return True
        return False

    def global_slots(self, domain: DomainDict) -> list[str]:
        """Domain slots with no mapping conditioned on an active form."""
        all_slots = domain.get("slots") or {}
        return [name for name, slot in all_slots.items() if not self._is_mapped_to_form(slot)]

    def domain_slots(self, domain: DomainDict) -> list[str]:
        """Slots this action handles by default: the global slots."""
        return self.global_slots(domain)

    async def _extract_slot(
        self,
        slot_name: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        domain_slots: list[str],
    ) -> dict[str, Any]:
        method_name = f"extract_{_method_suffix(slot_name)}"
        extract_method = getattr(self, method_name, None)
        if not extract_method:
            # Domain slots are filled by Rasa's own mappings; only slots added
            # through `required_slots` need an extract method.
            if slot_name not in domain_slots:
                warnings.warn(
                    f"No method '{method_name}' found for slot "
                    f"'{slot_name}'. Skipping extraction for this slot.",
                    stacklevel=2,
                )
            return {}

        extracted = await _call_user_method(extract_method, dispatcher, tracker, domain)
        if isinstance(extracted, dict):
            return extracted
        warnings.warn(
            f"Cannot extract `{slot_name}`: make sure the extract method "
            f"`{type(self).__name__}.{method_name}` returns a dict, "
            f"got {type(extracted).__name__}.",
            stacklevel=2,
        )
        return {}


class FormValidationAction(ValidationAction, ABC):
    """Extracts and validates the slots of one form; name it `validate_<form name>`."""

    def name(self) -> str:
        """Must be `validate_<form name>` for Rasa to call it."""
        raise NotImplementedError("An action must implement a name")

    def form_name(self) -> str:
        """The form this action validates, derived from `name()`."""
        return self.name().replace("validate_", "", 1)

    async def _extract_validation_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        validation_events = await super()._extract_validation_events(dispatcher, tracker, domain)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        if next_slot:
            validation_events.append(next_slot)
        return validation_events

    def domain_slots(self, domain: DomainDict) -> list[str]:
        """The form's `required_slots` as listed in the domain."""
        forms = domain.get("forms") or {}
        form = forms.get(self.form_name()) if isinstance(forms, dict) else None
        if isinstance(form, dict) and "required_slots" in form:
            return list(form.get("required_slots") or [])
        return []

    async def next_requested_slot(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> EventType | None:
        """`SlotSet(requested_slot, ...)` when `required_slots` was overridden, else None.

        Without an override Rasa's form picks the next slot itself. With one,
        the first required slot without a value is requested; None ends the form.
        """
        domain_slots = self.domain_slots(domain)
        required = await self.required_slots(domain_slots, dispatcher, tracker, domain)
        if required == domain_slots:
            return None
        missing = (slot for slot in required if tracker.slots.get(slot) is None)
        return SlotSet(REQUESTED_SLOT, next(missing, None))
