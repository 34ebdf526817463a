"""The example restaurant actions in actions/, run through the executor like Rasa would."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from action_server.events import FollowupAction, SlotSet
from action_server.executor import ActionExecutor

DOMAIN = {
    "slots": {
        "cuisine": {"type": "text"},
        "party_size": {"type": "float"},
        "time": {"type": "text"},
        "table_available": {"type": "bool"},
    },
    "forms": {"restaurant_form": {"required_slots": ["cuisine", "party_size", "time"]}},
}


@pytest.fixture(scope="module")
def executor() -> Iterator[ActionExecutor]:
    executor = ActionExecutor()
    executor.register_package("actions")
    yield executor
    executor.close()


def call(name: str, slots: dict[str, Any], events: list[dict[str, Any]] | None = None) -> dict:
    return {
        "next_action": name,
        "sender_id": "guest",
        "tracker": {
            "sender_id": "guest",
            "slots": slots,
            "events": events or [],
            "active_loop": {"name": "restaurant_form"},
        },
        "domain": DOMAIN,
        "version": "3.10.0",
    }


def test_example_package_registers_the_restaurant_actions(executor: ActionExecutor) -> None:
    names = list(executor.actions)
    for expected in ("action_check_availability", "action_book_table", "validate_restaurant_form"):
        assert expected in names


@pytest.mark.parametrize(
    ("slots", "available"),
    [
        ({"cuisine": "thai", "party_size": 4.0, "time": "19:30"}, True),
        ({"cuisine": "Italian", "party_size": "10", "time": "7pm"}, True),
        ({"cuisine": "sushi", "party_size": 5, "time": "19:00"}, False),  # over capacity
        ({"cuisine": "thai", "party_size": 2, "time": "23:00"}, False),  # closed
        ({"cuisine": "klingon", "party_size": 2, "time": "19:00"}, False),
        ({"cuisine": "thai", "party_size": None, "time": "19:00"}, False),
    ],
)
async def test_check_availability_sets_table_available(
    executor: ActionExecutor, slots: dict[str, Any], available: bool
) -> None:
    result = await executor.execute(call("action_check_availability", slots))
    assert result == {"events": [SlotSet("table_available", available)], "responses": []}


async def test_book_table_confirms_with_a_deterministic_reference(executor: ActionExecutor) -> None:
    slots = {"cuisine": "thai", "party_size": 2.0, "time": "19:30", "table_available": True}
    first = await executor.execute(call("action_book_table", slots))
    second = await executor.execute(call("action_book_table", slots))
    assert first == second
    reference = first["events"][0]["value"]
    assert reference.startswith("BK-")
    assert first["events"] == [
        SlotSet("booking_reference", reference),
        SlotSet("booking_confirmed", True),
        FollowupAction("action_listen"),
    ]
    assert first["responses"][0]["text"] == (
        f"Booked a thai table for 2 people at 19:30. Your reference is {reference}."
    )


async def test_book_table_refuses_when_no_table_is_available(executor: ActionExecutor) -> None:
    slots = {"cuisine": "sushi", "party_size": 5, "time": "19:00", "table_available": False}
    result = await executor.execute(call("action_book_table", slots))
    assert result["events"] == [SlotSet("booking_confirmed", False)]
    assert "no sushi table for 5" in result["responses"][0]["text"]


async def test_restaurant_form_validation_normalises_and_rejects_values(
    executor: ActionExecutor,
) -> None:
    just_set = [SlotSet("cuisine", " Thai"), SlotSet("party_size", 99), SlotSet("time", "7:30 pm")]
    the_call = call(
        "validate_restaurant_form",
        {"cuisine": " Thai", "party_size": 99, "time": "7:30 pm"},
        just_set,
    )
    before = copy.deepcopy(the_call)
    result = await executor.execute(the_call)
    assert result["events"] == [
        SlotSet("cuisine", "thai"),
        SlotSet("party_size", None),
        SlotSet("time", "19:30"),
    ]
    assert [r["text"] for r in result["responses"]] == ["We can seat parties of 1 to 10 people."]
    assert the_call == before  # the form updated its own copy of slots and events
