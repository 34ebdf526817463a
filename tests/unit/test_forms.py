"""`ValidationAction` / `FormValidationAction` follow rasa-sdk's semantics."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from action_server import FormValidationAction, Tracker, ValidationAction
from action_server.events import ActionExecuted, SlotSet, UserUttered
from action_server.forms import (
    ACTION_VALIDATE_SLOT_MAPPINGS,
    LOOP_INTERRUPTED_KEY,
    REQUESTED_SLOT,
)
from action_server.interfaces.dispatcher import CollectingDispatcher
from action_server.types import DomainDict

FORM_CONDITION = [{"type": "from_text", "conditions": [{"active_loop": "trip_form"}]}]

DOMAIN: dict[str, Any] = {
    "slots": {
        "city": {"type": "text", "mappings": FORM_CONDITION},
        "date-of-trip": {"type": "text", "mappings": FORM_CONDITION},
        "mood": {"type": "text", "mappings": [{"type": "from_entity", "entity": "mood"}]},
        "counter": {"type": "float", "mappings": [{"type": "custom"}]},
        REQUESTED_SLOT: {"type": "any", "mappings": [{"type": "custom"}]},
    },
    "forms": {"trip_form": {"required_slots": ["city", "date-of-trip"]}},
}


def domain() -> DomainDict:
    return DOMAIN  # type: ignore[return-value]


def make_tracker(
    slots: dict[str, Any] | None = None,
    just_set: dict[str, Any] | None = None,
    text: str = "hello",
    active_loop: str | None = "trip_form",
) -> Tracker:
    """A tracker as Rasa sends it to a validation action: candidates are trailing SlotSets."""
    events = [ActionExecuted("action_listen"), UserUttered(text)]
    events += [SlotSet(name, value) for name, value in (just_set or {}).items()]
    return Tracker.from_dict(
        {
            "sender_id": "u",
            "slots": {**(slots or {}), **(just_set or {})},
            "events": events,
            "latest_message": {"text": text, "intent": {"name": "inform"}, "entities": []},
            "active_loop": {"name": active_loop} if active_loop else {},
        }
    )


def test_constants_match_rasa_sdk() -> None:
    assert REQUESTED_SLOT == "requested_slot"
    assert LOOP_INTERRUPTED_KEY == "is_interrupted"
    assert ACTION_VALIDATE_SLOT_MAPPINGS == "action_validate_slot_mappings"


def test_validation_action_default_name() -> None:
    class Validate(ValidationAction):
        pass

    assert Validate().name() == "action_validate_slot_mappings"


def test_form_validation_action_requires_a_name_and_derives_form_name() -> None:
    class NoName(FormValidationAction):
        pass

    with pytest.raises(NotImplementedError):
        NoName().name()

    class Trip(FormValidationAction):
        def name(self) -> str:
            return "validate_trip_form"

    assert Trip().form_name() == "trip_form"


def test_global_slots_exclude_slots_mapped_only_inside_a_form() -> None:
    action = ValidationAction()
    assert action.global_slots(domain()) == ["mood", "counter", REQUESTED_SLOT]
    assert action.domain_slots(domain()) == ["mood", "counter", REQUESTED_SLOT]


def test_form_domain_slots_are_the_forms_required_slots() -> None:
    class Trip(FormValidationAction):
        def name(self) -> str:
            return "validate_trip_form"

    class Unknown(FormValidationAction):
        def name(self) -> str:
            return "validate_other_form"

    assert Trip().domain_slots(domain()) == ["city", "date-of-trip"]
    assert Unknown().domain_slots(domain()) == []


class TripValidation(FormValidationAction):
    """Sync and async validators; one slot name has a dash."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def name(self) -> str:
        return "validate_trip_form"

    def validate_city(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        self.threads.append(threading.current_thread().name)
        if value.lower() not in {"berlin", "paris"}:
            dispatcher.utter_message(text=f"We don't fly to {value}.")
            return {"city": None}
        return {"city": value.title()}

    async def validate_date_of_trip(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"date-of-trip": value.upper()}


async def test_form_validation_validates_just_set_slots_sync_and_async() -> None:
    action = TripValidation()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(just_set={"city": "berlin", "date-of-trip": "monday"})
    events = await action.run(dispatcher, tracker, domain())
    assert events == [SlotSet("city", "Berlin"), SlotSet("date-of-trip", "MONDAY")]
    assert dispatcher.messages == []
    # plain methods run off the event loop thread
    assert action.threads and action.threads[0] != threading.main_thread().name


async def test_rejected_value_resets_slot_and_utters() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(just_set={"city": "Atlantis"})
    events = await TripValidation().run(dispatcher, tracker, domain())
    assert events == [SlotSet("city", None)]
    assert dispatcher.messages[0]["text"] == "We don't fly to Atlantis."
    assert tracker.get_slot("city") is None


async def test_only_slots_set_in_this_turn_are_validated() -> None:
    tracker = make_tracker(slots={"city": "Atlantis"}, just_set={"date-of-trip": "friday"})
    events = await TripValidation().run(CollectingDispatcher(), tracker, domain())
    assert events == [SlotSet("date-of-trip", "FRIDAY")]


async def test_form_action_ignores_global_slots_and_global_action_ignores_form_slots() -> None:
    tracker = make_tracker(just_set={"mood": "happy", "city": "paris"})
    form_events = await TripValidation().run(CollectingDispatcher(), tracker, domain())
    assert form_events == [SlotSet("city", "Paris")]

    class Global(ValidationAction):
        def validate_mood(self, value: Any, *_: Any) -> dict[str, Any]:
            return {"mood": f"very {value}"}

        def validate_city(self, value: Any, *_: Any) -> dict[str, Any]:
            raise AssertionError("form slots are not the global action's business")

    tracker = make_tracker(just_set={"mood": "happy", "city": "paris"}, active_loop=None)
    global_events = await Global().run(CollectingDispatcher(), tracker, domain())
    assert global_events == [SlotSet("mood", "very happy")]


async def test_slot_without_validate_method_keeps_its_candidate_value() -> None:
    class Global(ValidationAction):
        pass

    tracker = make_tracker(just_set={"mood": "sad"}, active_loop=None)
    assert await Global().run(CollectingDispatcher(), tracker, domain()) == [SlotSet("mood", "sad")]


async def test_extract_methods_fill_custom_slots_then_get_validated() -> None:
    class Global(ValidationAction):
        async def extract_counter(
            self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
        ) -> dict[str, Any]:
            return {"counter": (tracker.get_slot("counter") or 0) + 1}

        def validate_counter(self, value: Any, *_: Any) -> dict[str, Any]:
            return {"counter": min(value, 3)}

    tracker = make_tracker(slots={"counter": 3}, active_loop=None)
    events = await Global().run(CollectingDispatcher(), tracker, domain())
    assert events == [SlotSet("counter", 3)]
    assert tracker.get_slot("counter") == 3


async def test_later_extract_methods_see_earlier_results() -> None:
    class Global(ValidationAction):
        def extract_mood(self, *_: Any) -> dict[str, Any]:
            return {"mood": "curious"}

        def extract_counter(
            self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
        ) -> dict[str, Any]:
            return {"counter": 1.0 if tracker.get_slot("mood") == "curious" else 0.0}

    events = await Global().run(CollectingDispatcher(), make_tracker(active_loop=None), domain())
    assert events == [SlotSet("mood", "curious"), SlotSet("counter", 1.0)]


async def test_required_slots_override_adds_custom_slot_and_sets_requested_slot() -> None:
    class Trip(TripValidation):
        async def required_slots(
            self,
            domain_slots: list[str],
            dispatcher: CollectingDispatcher,
            tracker: Tracker,
            domain: DomainDict,
        ) -> list[str]:
            return ["budget-limit", *domain_slots]

        def extract_budget_limit(
            self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
        ) -> dict[str, Any]:
            text = tracker.latest_message.get("text", "")
            return {"budget-limit": int(text)} if text.isdigit() else {}

        def validate_budget_limit(self, value: Any, *_: Any) -> dict[str, Any]:
            return {"budget-limit": value if value > 0 else None}

    events = await Trip().run(CollectingDispatcher(), make_tracker(text="500"), domain())
    assert events == [SlotSet("budget-limit", 500), SlotSet(REQUESTED_SLOT, "city")]

    tracker = make_tracker(text="500", slots={"budget-limit": 500}, just_set={"city": "paris"})
    events = await Trip().run(CollectingDispatcher(), tracker, domain())
    assert events[-1] == SlotSet(REQUESTED_SLOT, "date-of-trip")

    tracker = make_tracker(
        text="x", slots={"budget-limit": 9, "city": "Paris"}, just_set={"date-of-trip": "mon"}
    )
    events = await Trip().run(CollectingDispatcher(), tracker, domain())
    # every required slot is filled: requested_slot None ends the form
    assert events == [SlotSet("date-of-trip", "MON"), SlotSet(REQUESTED_SLOT, None)]


async def test_without_required_slots_override_rasa_picks_the_next_slot() -> None:
    events = await TripValidation().run(
        CollectingDispatcher(), make_tracker(just_set={"city": "paris"}), domain()
    )
    assert all(event["name"] != REQUESTED_SLOT for event in events)


async def test_required_slots_can_drop_a_slot_from_validation() -> None:
    class Trip(TripValidation):
        async def required_slots(self, domain_slots: list[str], *_: Any) -> list[str]:
            return ["date-of-trip"]

    tracker = make_tracker(just_set={"city": "Atlantis", "date-of-trip": "sun"})
    events = await Trip().run(CollectingDispatcher(), tracker, domain())
    assert events == [SlotSet("date-of-trip", "SUN"), SlotSet(REQUESTED_SLOT, None)]


async def test_extra_required_slot_without_extract_method_warns() -> None:
    class Trip(TripValidation):
        async def required_slots(self, domain_slots: list[str], *_: Any) -> list[str]:
            return [*domain_slots, "seat"]

    with pytest.warns(UserWarning, match="No method 'extract_seat' found for slot 'seat'"):
        await Trip().run(CollectingDispatcher(), make_tracker(), domain())


async def test_validate_method_returning_non_dict_warns_and_keeps_value() -> None:
    class Global(ValidationAction):
        def validate_mood(self, value: Any, *_: Any) -> Any:
            return True

    tracker = make_tracker(just_set={"mood": "ok"}, active_loop=None)
    with pytest.warns(UserWarning, match="Cannot validate `mood`.*Global.validate_mood"):
        events = await Global().run(CollectingDispatcher(), tracker, domain())
    assert events == [SlotSet("mood", "ok")]


async def test_extract_method_returning_non_dict_warns_and_sets_nothing() -> None:
    class Global(ValidationAction):
        def extract_counter(self, *_: Any) -> Any:
            return 5

    with pytest.warns(UserWarning, match="Cannot extract `counter`"):
        events = await Global().run(
            CollectingDispatcher(), make_tracker(active_loop=None), domain()
        )
    assert events == []


async def test_validation_sees_slots_updated_by_earlier_validators() -> None:
    class Trip(TripValidation):
        def validate_date_of_trip(  # type: ignore[override]
            self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
        ) -> dict[str, Any]:
            return {"date-of-trip": f"{value} in {tracker.get_slot('city')}"}

    tracker = make_tracker(just_set={"city": "paris", "date-of-trip": "mon"})
    events = await Trip().run(CollectingDispatcher(), tracker, domain())
    assert events[-1] == SlotSet("date-of-trip", "mon in Paris")


async def test_domain_without_slots_or_forms_is_handled() -> None:
    events = await TripValidation().run(
        CollectingDispatcher(),
        make_tracker(just_set={"city": "paris"}),
        {},  # type: ignore[typeddict-item]
    )
    assert events == []
