"""Spans of an instrumented executor and validation actions, under rasa-sdk and, renamed, us.

Run as a script: prints the finished spans (name, attributes, parent span's name) captured
with an in-memory exporter, in the order they ended. Keep it standalone.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rasa_sdk import Action, FormValidationAction, ValidationAction
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.tracing.config import configure_tracing


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        dispatcher.utter_message(response="utter_greet")
        dispatcher.utter_message(text="plain")
        return [SlotSet("greeted", True), SlotSet("requested_slot", None), SlotSet("greeted", 1)]


class ValidateBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    def validate_city(self, value: Any, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        return {"city": value.title()}


class ValidatePredefined(ValidationAction):
    def validate_people(self, value: Any, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        return {"people": int(value)}


DOMAIN = {
    "slots": {"city": {"type": "text", "mappings": [{"type": "from_text"}]}, "people": {}},
    "forms": {"booking_form": {"required_slots": ["city"]}},
}


def call(name: str, slots: dict[str, Any], loop: str | None) -> dict[str, Any]:
    events = [{"event": "user", "timestamp": 1.0, "text": "x"}]
    events += [{"event": "slot", "timestamp": 2.0, "name": k, "value": v} for k, v in slots.items()]
    return {
        "next_action": name,
        "sender_id": "ann",
        "tracker": {
            "sender_id": "ann",
            "slots": slots,
            "latest_message": {"intent": {"name": "inform"}, "entities": [], "text": "x"},
            "events": events,
            "active_loop": {"name": loop} if loop else {},
            "latest_action_name": "action_listen",
        },
        "domain": DOMAIN,
        "version": "3.10.0",
    }


async def main() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    configure_tracing(provider)
    configure_tracing(provider)  # a second time changes nothing
    executor = ActionExecutor()
    for action in (ActionGreet, ValidateBookingForm, ValidatePredefined):
        executor.register_action(action)
    await executor.run(call("action_greet", {}, None))
    await executor.run(call("validate_booking_form", {"city": "berlin"}, "booking_form"))
    await executor.run(call("action_validate_slot_mappings", {"people": "4"}, None))
    spans = exporter.get_finished_spans()
    by_id = {span.context.span_id: span.name for span in spans}
    json.dump(
        [
            {
                "name": span.name,
                "attributes": dict(span.attributes or {}),
                "parent": by_id.get(span.parent.span_id) if span.parent else None,
            }
            for span in spans
        ],
        sys.stdout,
    )


asyncio.run(main())
