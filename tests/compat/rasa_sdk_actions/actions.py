"""One action per behaviour the webhook differential compares."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, ActionExecutionRejection, FormValidationAction, Tracker
from rasa_sdk.events import (
    ActiveLoop,
    BotUttered,
    FollowupAction,
    ReminderScheduled,
    SessionStarted,
    SlotSet,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Any:
        dispatcher.utter_message(text=f"Hello {tracker.get_slot('name') or 'there'}!")
        dispatcher.utter_message(response="utter_menu", buttons=[{"title": "A", "payload": "/a"}])
        dispatcher.utter_message(json_message={"kind": "card"}, channel="web")
        return [SlotSet("greeted", True), BotUttered("side note", {"k": 1}, {"m": 2}, 3.5)]


class ActionInspect(Action):
    """Reports what it was given: proves tracker and domain arrive the same way."""

    def name(self) -> str:
        return "action_inspect"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Any:
        return [
            SlotSet("sender", tracker.sender_id),
            SlotSet("domain_responses", sorted((domain or {}).get("responses", {}))),
            SlotSet("channel", tracker.get_latest_input_channel()),
            SlotSet("intent", tracker.get_intent_of_latest_message()),
            SlotSet("applied", len(tracker.applied_events())),
            SlotSet("paused", tracker.is_paused()),
            SlotSet("loop", tracker.active_loop_name),
        ]


class ActionFollowup(Action):
    def name(self) -> str:
        return "action_followup"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Any:
        return [FollowupAction("action_greet"), ActiveLoop(None), SessionStarted(7.0)]


class ActionReminder(Action):
    def name(self) -> str:
        return "action_reminder"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Any:
        import datetime

        when = datetime.datetime(2030, 5, 6, 7, 8, 9)
        return [ReminderScheduled("remind_me", when, {"a": "b"}, "r", False, 1.0)]


class ActionNothing(Action):
    def name(self) -> str:
        return "action_nothing"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Any:
        return None


class ActionDropsInvalidEvents(Action):
    def name(self) -> str:
        return "action_drops_invalid_events"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Any:
        return [{"name": "no event key"}, SlotSet("kept", 1), "not an event", {"event": ""}]


class ActionReject(Action):
    def name(self) -> str:
        return "action_reject"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Any:
        raise ActionExecutionRejection(self.name())


class ActionRejectWithMessage(Action):
    def name(self) -> str:
        return "action_reject_with_message"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Any:
        raise ActionExecutionRejection(self.name(), "Not in this state.")


class ActionFail(Action):
    def name(self) -> str:
        return "action_fail"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Any:
        raise ValueError("secret internal detail")


class ValidateBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    def validate_city(self, value: Any, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        if value == "Atlantis":
            dispatcher.utter_message(response="utter_unknown_city", city=value)
            return {"city": None}
        return {"city": str(value).title()}

    async def validate_people(self, value: Any, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        return {"people": int(value)}


class ActionStream(Action):
    """Streams on a unary transport: the chunks come back as ordinary responses."""

    def name(self) -> str:
        return "action_stream"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Any:
        await dispatcher.stream_start()
        for word in ("Hel", "lo"):
            await dispatcher.stream_chunk(text=word)
        await dispatcher.stream_chunk(json_message={"done": True})
        await dispatcher.stream_end()
        return [SlotSet("streamed", True)]
