"""`validate_restaurant_form`: cleans up what the user said before the form accepts it."""

from __future__ import annotations

from typing import Any

from action_server import FormValidationAction, Tracker
from action_server.executor import CollectingDispatcher
from action_server.types import DomainDict

from .restaurant import (
    CUISINES,
    MAX_PARTY_SIZE,
    is_open_at,
    parse_cuisine,
    parse_party_size,
    parse_time,
)


class ValidateRestaurantForm(FormValidationAction):
    def name(self) -> str:
        return "validate_restaurant_form"

    def validate_cuisine(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        cuisine = parse_cuisine(slot_value)
        if cuisine is None:
            dispatcher.utter_message(
                text=f"We do not serve {slot_value}. We have: {', '.join(CUISINES)}."
            )
        return {"cuisine": cuisine}

    def validate_party_size(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        party_size = parse_party_size(slot_value)
        if party_size is None or party_size > MAX_PARTY_SIZE:
            dispatcher.utter_message(text=f"We can seat parties of 1 to {MAX_PARTY_SIZE} people.")
            return {"party_size": None}
        return {"party_size": party_size}

    async def validate_time(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        time_of_day = parse_time(slot_value)
        if time_of_day is None or not is_open_at(time_of_day):
            dispatcher.utter_message(text="We take bookings from 12:00 to 22:00.")
            return {"time": None}
        return {"time": time_of_day}
