"""Every failure of an action call is a JSON body with a precise message, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import SERVER_ACTIONS, ServerFactory
from tests.helpers import ServerProcess, action_call


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory("--actions", SERVER_ACTIONS, "--max-body-size", "64KB")


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def test_webhook_returns_404_for_unknown_action(client: httpx.Client) -> None:
    response = client.post("/webhook", json=action_call("action_nope"))
    assert response.status_code == 404
    assert response.json() == {
        "error": "No registered action found for name 'action_nope'.",
        "action_name": "action_nope",
    }


def test_webhook_returns_400_when_the_action_rejects_execution(client: httpx.Client) -> None:
    response = client.post("/webhook", json=action_call("action_reject"))
    assert response.status_code == 400
    assert response.json() == {
        "error": "Cannot run action_reject right now",
        "action_name": "action_reject",
    }


def test_webhook_returns_500_without_details_when_the_action_raises(
    server: ServerProcess, client: httpx.Client
) -> None:
    call = action_call("action_crash", sender_id="sender-crash-42", slots={"secret": "s3cr3t"})
    response = client.post("/webhook", json=call)
    assert response.status_code == 500
    assert response.json() == {
        "error": "An exception occurred while running action 'action_crash'.",
        "action_name": "action_crash",
    }
    assert "Traceback" not in response.text
    assert "s3cr3t" not in response.text
    # The cause is logged server-side, with the sender id.
    assert "internal detail that must not reach the client" in server.output
    assert "sender-crash-42" in server.output


def test_webhook_returns_500_when_the_result_is_not_json(client: httpx.Client) -> None:
    response = client.post("/webhook", json=action_call("action_unserialisable"))
    assert response.status_code == 500
    body = response.json()
    assert body["action_name"] == "action_unserialisable"
    assert body["error"].startswith(
        "Action 'action_unserialisable' returned events or responses that are not JSON-serialisable"
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "Empty request body: expected a JSON object with 'next_action' and 'tracker'"),
        (b"[1, 2]", "Request body must be a JSON object, got array"),
        (b'"text"', "Request body must be a JSON object, got string"),
        (
            b'{"tracker": {"sender_id": "a"}}',
            "Missing field 'next_action': the name of the action to run",
        ),
        (
            b'{"next_action": 7, "tracker": {"sender_id": "a"}}',
            "Field 'next_action' must be a string, got number",
        ),
        (b'{"next_action": "action_greet"}', "Missing field 'tracker'"),
        (
            b'{"next_action": "action_greet", "tracker": []}',
            "Field 'tracker' must be an object, got array",
        ),
        (b'{"next_action": "action_greet", "tracker": {}}', "Missing field 'tracker.sender_id'"),
        (
            b'{"next_action": "action_greet", "tracker": {"sender_id": "a"}, "domain": 3}',
            "Field 'domain' must be an object, got number",
        ),
    ],
)
def test_webhook_returns_400_naming_the_field_for_bad_calls(
    client: httpx.Client, body: bytes, error: str
) -> None:
    response = client.post("/webhook", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_webhook_returns_400_for_malformed_json_without_echoing_it(client: httpx.Client) -> None:
    response = client.post("/webhook", content=b'{"next_action": "secret-value",')
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("Malformed JSON in request body: ")
    assert "secret-value" not in error


def test_unknown_route_returns_404_json(client: httpx.Client) -> None:
    response = client.get("/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "Requested URL /does-not-exist not found"}


def test_wrong_method_returns_405_json(client: httpx.Client) -> None:
    response = client.get("/webhook")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json() == {"error": "Method GET not allowed for URL /webhook"}


def test_oversized_body_returns_413_json(client: httpx.Client) -> None:
    response = client.post("/webhook", content=b"x" * (65 * 1000))
    assert response.status_code == 413
    assert response.json() == {"error": "Request body exceeds the limit of 64000 bytes"}


def test_oversized_chunked_body_returns_413_json(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 1000

    response = client.post("/webhook", content=chunks())
    assert response.status_code == 413
    assert response.json() == {"error": "Request body exceeds the limit of 64000 bytes"}
