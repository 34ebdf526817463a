"""Actions the client tests run both in-process and over HTTP; results must match."""

from __future__ import annotations

import asyncio
from typing import Any

from action_server import Action, ActionExecutionRejection, Tracker
from action_server.events import SlotSet
from action_server.executor import CollectingDispatcher


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        name = tracker.get_slot("name") or "stranger"
        dispatcher.utter_message(
            text=f"Hello {name} ({tracker.sender_id}), you said: {tracker.latest_message.get('text')}",
            buttons=[{"title": "yes", "payload": "/affirm"}],
            json_message={"shape": ("tuple", 1)},
        )
        return [SlotSet("greeted", True), SlotSet("pair", (1, 2))]


class ActionDomainKeys(Action):
    """Answers with what it saw of the domain, to check the digest protocol."""

    def name(self) -> str:
        return "action_domain_keys"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=",".join(sorted(domain.get("slots", {}))))
        return []


class ActionReject(Action):
    def name(self) -> str:
        return "action_reject"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raise ActionExecutionRejection("action_reject", "I will not do that, Dave.")


class ActionExplode(Action):
    def name(self) -> str:
        return "action_explode"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raise RuntimeError("secret internal detail")


class ActionSlow(Action):
    def name(self) -> str:
        return "action_slow"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await asyncio.sleep(float(tracker.get_slot("delay") or 3))
        return []
