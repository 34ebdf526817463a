"""`action_book_table`: confirms the booking the user asked for."""

from __future__ import annotations

import zlib
from typing import Any

from action_server import Action, Tracker
from action_server.events import FollowupAction, SlotSet
from action_server.executor import CollectingDispatcher
from action_server.types import DomainDict

from .restaurant import parse_cuisine, parse_party_size, parse_time


def booking_reference(sender_id: str, cuisine: str, party_size: int, time_of_day: str) -> str:
    """Deterministic, so a repeated request gets the same reference (and tests can pin it)."""
    digest = zlib.crc32(f"{sender_id}|{cuisine}|{party_size}|{time_of_day}".encode())
    return f"BK-{digest:08X}"


class ActionBookTable(Action):
    """A sync action: it runs in the executor's thread pool, off the event loop."""

    def name(self) -> str:
        return "action_book_table"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        cuisine = parse_cuisine(tracker.get_slot("cuisine"))
        party_size = parse_party_size(tracker.get_slot("party_size"))
        time_of_day = parse_time(tracker.get_slot("time"))
        if cuisine is None or party_size is None or time_of_day is None:
            dispatcher.utter_message(
                text="I need a cuisine, a party size and a time before I can book a table."
            )
            return [SlotSet("booking_confirmed", False)]
        if tracker.get_slot("table_available") is False:
            dispatcher.utter_message(
                text=f"Sorry, there is no {cuisine} table for {party_size} at {time_of_day}."
            )
            return [SlotSet("booking_confirmed", False)]

        reference = booking_reference(tracker.sender_id, cuisine, party_size, time_of_day)
        people = "person" if party_size == 1 else "people"
        dispatcher.utter_message(
            text=(
                f"Booked a {cuisine} table for {party_size} {people} at {time_of_day}. "
                f"Your reference is {reference}."
            )
        )
        return [
            SlotSet("booking_reference", reference),
            SlotSet("booking_confirmed", True),
            FollowupAction("action_listen"),
        ]
