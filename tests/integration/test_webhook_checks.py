"""POST /webhook checks against a real server: tracker field types, declared arguments of class
actions, and a stream an action left open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.helpers import ServerProcess, action_call

CHECKED_ACTIONS = "tests.fixtures.checked_actions"


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory("--actions", CHECKED_ACTIONS)


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def _with_tracker(**fields: Any) -> dict[str, Any]:
    call = action_call("action_plain", slots={"a": 1})
    call["tracker"].update(fields)
    return call


# --- tracker field types --------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("slots", [], "Field 'tracker.slots' must be an object, got array"),
        ("events", 5, "Field 'tracker.events' must be an array, got number"),
        ("events", {"event": "action"}, "Field 'tracker.events' must be an array, got object"),
        ("latest_message", "hi", "Field 'tracker.latest_message' must be an object, got string"),
        ("sender_id", 123, "Field 'tracker.sender_id' must be a string, got number"),
    ],
)
def test_webhook_returns_400_naming_a_tracker_field_of_the_wrong_type(
    client: httpx.Client, field: str, value: Any, message: str
) -> None:
    response = client.post("/webhook", json=_with_tracker(**{field: value}))
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_webhook_returns_400_for_a_domain_that_is_not_an_object(client: httpx.Client) -> None:
    call = action_call("action_plain")
    call["domain"] = []
    response = client.post("/webhook", json=call)
    assert response.status_code == 400
    assert response.json() == {"error": "Field 'domain' must be an object, got array"}


def test_webhook_reads_null_optional_tracker_fields_as_empty(client: httpx.Client) -> None:
    call = _with_tracker(
        slots=None,
        events=None,
        latest_message=None,
        followup_action=None,
        active_loop=None,
        latest_action_name=None,
    )
    response = client.post("/webhook", json=call)
    assert response.status_code == 200
    assert response.json()["responses"][0]["text"] == "slots: []"


def test_webhook_accepts_events_with_whitespace_before_the_array(client: httpx.Client) -> None:
    body = (
        b'{"next_action": "action_plain", "tracker": {"sender_id": "u", "events":   \n [ ] },'
        b' "domain": {}}'
    )
    response = client.post("/webhook", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200


# --- declared arguments of class actions ----------------------------------------------


def test_webhook_runs_a_class_action_whose_declared_arguments_fit(client: httpx.Client) -> None:
    response = client.post(
        "/webhook", json=action_call("action_lookup_order", slots={"order_id": 7})
    )
    assert response.status_code == 200
    assert response.json()["responses"][0]["text"] == "Order 7 has shipped."


def test_webhook_returns_400_naming_a_class_action_argument_of_the_wrong_type(
    client: httpx.Client,
) -> None:
    call = action_call("action_lookup_order", slots={"order_id": "seven", "express": True})
    response = client.post("/webhook", json=call)
    assert response.status_code == 400
    assert response.json() == {
        "error": "action_lookup_order: argument 'order_id': expected number, got 'seven'",
        "action_name": "action_lookup_order",
    }


def test_webhook_returns_400_listing_missing_required_class_action_arguments(
    client: httpx.Client,
) -> None:
    response = client.post("/webhook", json=action_call("action_lookup_order", slots={}))
    assert response.status_code == 400
    assert response.json() == {
        "error": "action_lookup_order: missing required argument: 'order_id' (number)",
        "action_name": "action_lookup_order",
    }


def test_webhook_takes_class_action_arguments_from_message_metadata(client: httpx.Client) -> None:
    call = action_call("action_lookup_order", slots={})
    call["tracker"]["latest_message"] = {"metadata": {"args": {"order_id": "12"}}}
    response = client.post("/webhook", json=call)
    assert response.status_code == 200


# --- a stream left open -------------------------------------------------------------------


def test_webhook_closes_a_stream_left_open_and_keeps_its_chunks_as_messages(
    client: httpx.Client, server: ServerProcess
) -> None:
    response = client.post("/webhook", json=action_call("action_stream_left_open"))
    assert response.status_code == 200
    body = response.json()
    assert [message["text"] for message in body["responses"]] == ["Hello, ", "world"]
    assert body["events"] == [
        {"event": "slot", "timestamp": None, "name": "streamed", "value": True}
    ]
    assert "never called stream_end()" in server.output
