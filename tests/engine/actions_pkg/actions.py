"""Small actions exercising what the engine must handle: slots, messages, follow-ups, errors."""

from __future__ import annotations

from typing import Any

from action_server import Action, Tracker
from action_server.events import FollowupAction, SlotSet
from action_server.executor import CollectingDispatcher
from action_server.interfaces import ActionExecutionRejection
from action_server.types import DomainDict


class ActionSetFlag(Action):
    """Sets ``flag`` from the ``answer`` slot, so flows can branch on an action's result."""

    def name(self) -> str:
        return "action_set_flag"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="checking")
        return [SlotSet("flag", tracker.get_slot("answer") == "yes")]


class ActionEchoCall(Action):
    """Reports what it received, so tests can check the action call the engine built."""

    def name(self) -> str:
        return "action_echo_call"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text=f"sender={tracker.sender_id} answer={tracker.get_slot('answer')} "
            f"latest={tracker.latest_message.get('text')} "
            f"domain_slots={','.join(sorted(domain.get('slots', {})))}"
        )
        dispatcher.utter_message(response="utter_hello", who="echo")
        return []


class ValidateAge(Action):
    """Rejects ages over 120 by resetting the slot, as a validation action does."""

    def name(self) -> str:
        return "validate_age"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        age = tracker.get_slot("age")
        if age is not None and age > 120:
            dispatcher.utter_message(text="Nobody is that old.")
            return [SlotSet("age", None)]
        return [SlotSet("age", age)]


class ActionAskColor(Action):
    """Asks for the ``color`` slot (``action_ask_<slot>``)."""

    def name(self) -> str:
        return "action_ask_color"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="Pick a color", buttons=[{"title": "Red", "payload": "red"}])
        return []


class ActionBoom(Action):
    def name(self) -> str:
        return "action_boom"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        raise RuntimeError("kaboom")


class ActionReject(Action):
    def name(self) -> str:
        return "action_reject"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        raise ActionExecutionRejection("action_reject", "not now")


class ActionWithFollowup(Action):
    def name(self) -> str:
        return "action_with_followup"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="first")
        return [FollowupAction("action_set_flag")]


class ActionTriggerSearch(Action):
    """A project's own search action: it wins over the engine's default of the same name."""

    def name(self) -> str:
        return "action_trigger_search"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="Found it in the project's own knowledge base.")
        return []
