"""The benchmark action: reads two slots, utters once, returns one SlotSet.

Kept in sync and async variants because rasa-sdk runs sync actions on the event loop while we run
them in a thread pool; both costs are worth seeing. `action_sleep_one_second` exists for the
isolation measurement: a sync action that blocks for one second.
"""

import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher


def _book(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    cuisine = tracker.get_slot("cuisine")
    people = tracker.get_slot("num_people")
    dispatcher.utter_message(text=f"Booking a table for {people} people, {cuisine} cuisine.")
    return [SlotSet("booking_summary", f"{people}x{cuisine}")]


class ActionBookTable(Action):
    def name(self) -> str:
        return "action_book_table"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return _book(dispatcher, tracker)


class ActionBookTableAsync(Action):
    def name(self) -> str:
        return "action_book_table_async"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return _book(dispatcher, tracker)


class ActionSleepOneSecond(Action):
    def name(self) -> str:
        return "action_sleep_one_second"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        time.sleep(1.0)
        return []
