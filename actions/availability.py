"""`action_check_availability`: sets `table_available`, which the booking flow branches on."""

from __future__ import annotations

from typing import Any

from action_server import Action, Tracker
from action_server.events import SlotSet
from action_server.executor import CollectingDispatcher
from action_server.types import DomainDict

from .restaurant import has_table, parse_cuisine, parse_party_size, parse_time


class ActionCheckAvailability(Action):
    """An async action: a real one would await a reservation system here."""

    def name(self) -> str:
        return "action_check_availability"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        cuisine = parse_cuisine(tracker.get_slot("cuisine"))
        party_size = parse_party_size(tracker.get_slot("party_size"))
        time_of_day = parse_time(tracker.get_slot("time"))
        available = (
            cuisine is not None
            and party_size is not None
            and time_of_day is not None
            and has_table(cuisine, party_size, time_of_day)
        )
        return [SlotSet("table_available", available)]
