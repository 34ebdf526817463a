"""The bank's custom actions: balance (with buttons added to a domain response), transfers,
and an action whose backend is down (to show pattern_internal_error)."""

from __future__ import annotations

from typing import Any

from action_server import Action, Tracker
from action_server.events import SlotSet
from action_server.executor import CollectingDispatcher
from action_server.types import DomainDict

BALANCE = 1250.5


class ActionCheckBalance(Action):
    def name(self) -> str:
        return "action_check_balance"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            response="utter_current_balance",
            buttons=[{"title": "Recent transactions", "payload": "/StartFlow(list_transactions)"}],
            current_balance=BALANCE,
        )
        return [SlotSet("current_balance", BALANCE)]


class ActionExecuteTransfer(Action):
    def name(self) -> str:
        return "action_execute_transfer"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        amount = float(tracker.get_slot("amount") or 0)
        return [SlotSet("current_balance", BALANCE - amount)]


class ActionFreezeAccount(Action):
    def name(self) -> str:
        return "action_freeze_account"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        raise ConnectionError("the core banking system does not answer")
