"""Deterministic actions for the RTVI tests."""

from __future__ import annotations

from typing import Any

from action_server import Action, Tracker
from action_server.events import SlotSet
from action_server.interfaces.dispatcher import CollectingDispatcher


class ActionLookupOrder(Action):
    """Look up an order by its number."""

    arguments = [
        {"name": "order_id", "type": "number"},
        {"name": "express", "type": "bool", "required": False},
    ]

    def name(self) -> str:
        return "action_lookup_order"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        order_id = tracker.get_slot("order_id")
        express = bool(tracker.get_slot("express"))
        dispatcher.utter_message(
            text=f"Order {order_id} has shipped{' (express)' if express else ''}."
        )
        return [SlotSet("order_status", "shipped")]


class ActionExplode(Action):
    def name(self) -> str:
        return "action_explode"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raise RuntimeError("secret internal detail")


class ActionWhoAmI(Action):
    """Say which conversation the action ran in and how many events it saw."""

    def name(self) -> str:
        return "action_who_am_i"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=f"{tracker.sender_id}: {len(tracker.events)} events")
        return []
