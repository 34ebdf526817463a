"""Rasa's REST channel and tracker endpoint on a real `action-server run --flows` process."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.flows_cli.helpers import MEMORY_ENDPOINTS
from tests.helpers import ServerProcess

TOKEN = "s3cret"


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory(
        "--actions", "actions", "--flows", "flows", "--endpoints", str(MEMORY_ENDPOINTS)
    )


def say(client: httpx.Client, sender: str, message: str) -> list[dict[str, object]]:
    response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
    assert response.status_code == 200, response.text
    data: list[dict[str, object]] = response.json()
    return data


def test_rest_health_answers_status_ok(server: ServerProcess) -> None:
    with server.client() as client:
        response = client.get("/webhooks/rest/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_rest_webhook_runs_a_multi_turn_booking_in_rasa_output_shape(
    server: ServerProcess,
) -> None:
    with server.client() as client:
        first = say(client, "alice", "/book_table")
        assert first[0]["recipient_id"] == "alice"
        assert first[0]["text"] == "Which cuisine would you like?"
        assert first[0]["buttons"][0] == {  # type: ignore[index]
            "title": "Italian",
            "payload": "/SetSlots(cuisine=italian)",
        }
        assert say(client, "alice", "/SetSlots(cuisine=italian)") == [
            {"recipient_id": "alice", "text": "For how many people?"}
        ]
        say(client, "alice", "4")
        assert say(client, "alice", "19:30") == [
            {"recipient_id": "alice", "text": "Let me check 19:30 for you..."},
            {"recipient_id": "alice", "text": "Under which name should I book the table?"},
        ]
        say(client, "alice", "Ann")
        assert say(client, "alice", "+44 20 7946 0000") == [
            {
                "recipient_id": "alice",
                "text": "Done! A italian table for 4 at 19:30 is booked for Ann.",
            },
            {"recipient_id": "alice", "image": "https://example.com/images/table.png"},
            {"recipient_id": "alice", "text": "We'll text a reminder to +44 20 7946 0000."},
            {"recipient_id": "alice", "text": "Is there anything else I can help you with?"},
        ]


def test_tracker_endpoint_returns_slots_events_and_stack(server: ServerProcess) -> None:
    with server.client() as client:
        say(client, "bob", "/book_table")
        say(client, "bob", "/SetSlots(cuisine=indian)")
        response = client.get("/conversations/bob/tracker")
    assert response.status_code == 200
    tracker = response.json()
    assert tracker["sender_id"] == "bob"
    assert tracker["slots"]["cuisine"] == "indian"
    assert tracker["stack"][0]["flow_id"] == "book_table"
    assert {"event": "slot", "name": "cuisine", "value": "indian"}.items() <= next(
        e for e in tracker["events"] if e["event"] == "slot" and e["name"] == "cuisine"
    ).items()
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == [
        "/book_table",
        "/SetSlots(cuisine=indian)",
    ]


def test_tracker_include_events_after_restart_none_and_bad_values(server: ServerProcess) -> None:
    with server.client() as client:
        say(client, "carol", "/book_table")
        say(client, "carol", "/restart")
        say(client, "carol", "/greet")
        full = client.get("/conversations/carol/tracker").json()["events"]
        after = client.get("/conversations/carol/tracker?include_events=AFTER_RESTART").json()
        applied = client.get("/conversations/carol/tracker?include_events=applied").json()
        none = client.get("/conversations/carol/tracker?include_events=NONE").json()
        bad = client.get("/conversations/carol/tracker?include_events=SOME")
    assert [e["text"] for e in full if e["event"] == "user"] == [
        "/book_table",
        "/restart",
        "/greet",
    ]
    assert after["events"] == applied["events"] == full[len(full) - len(after["events"]) :]
    assert [e["text"] for e in after["events"] if e["event"] == "user"] == ["/greet"]
    assert "events" not in none and none["sender_id"] == "carol"
    assert bad.status_code == 400
    assert bad.json()["field"] == "include_events"


def test_tracker_of_an_unknown_conversation_is_empty(server: ServerProcess) -> None:
    with server.client() as client:
        response = client.get("/conversations/nobody-yet/tracker")
    assert response.status_code == 200
    assert response.json()["events"] == []


@pytest.mark.parametrize(
    ("body", "field", "error"),
    [
        (b"{not json", "body", "Request body is not valid JSON"),
        (b"[1, 2]", "body", "Request body must be a JSON object, got array"),
        (b'{"sender": "x"}', "message", "'message' is required"),
        (b'{"sender": "x", "message": 5}', "message", "'message' must be a string"),
        (b'{"sender": ["x"], "message": "hi"}', "sender", "'sender' must be a string"),
        (b'{"sender": "", "message": "hi"}', "sender", "'sender' must not be empty"),
        (b'{"sender": "x", "message": "hi", "metadata": 1}', "metadata", "'metadata' must be"),
    ],
)
def test_rest_webhook_answers_400_naming_the_bad_field(
    server: ServerProcess, body: bytes, field: str, error: str
) -> None:
    with server.client() as client:
        response = client.post(
            "/webhooks/rest/webhook", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    data = response.json()
    assert data["field"] == field
    assert data["error"].startswith(error)


def test_rest_channel_requires_the_auth_token_when_one_is_set(
    server_factory: ServerFactory,
) -> None:
    server = server_factory(
        "--actions",
        "actions",
        "--flows",
        "flows",
        "--endpoints",
        str(MEMORY_ENDPOINTS),
        "--auth-token",
        TOKEN,
    )
    body = {"sender": "carol", "message": "/book_table"}
    with server.client() as client:
        assert client.post("/webhooks/rest/webhook", json=body).status_code == 401
        assert client.get("/conversations/carol/tracker").status_code == 401
        allowed = client.post("/webhooks/rest/webhook", params={"token": TOKEN}, json=body)
    assert allowed.status_code == 200
    assert allowed.json()[0]["text"] == "Which cuisine would you like?"


def test_sqlite_conversation_continues_after_a_server_restart(tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "action_endpoint:\n  actions_module: actions\n"
        f"tracker_store:\n  type: sqlite\n  path: {tmp_path / 'conversations.db'}\n",
        encoding="utf-8",
    )
    args = ["--actions", "actions", "--flows", "flows", "--endpoints", str(endpoints)]
    with ServerProcess(args) as first, first.client() as client:
        say(client, "dave", "/book_table")
        say(client, "dave", "/SetSlots(cuisine=mexican)")
    with ServerProcess(args) as second, second.client() as client:
        assert say(client, "dave", "3") == [
            {
                "recipient_id": "dave",
                "text": "What time would you like the table (for example 19:30)?",
            }
        ]
        tracker = client.get("/conversations/dave/tracker").json()
    assert tracker["slots"]["cuisine"] == "mexican"
    assert tracker["slots"]["party_size"] == 3


def test_run_without_flows_has_no_rest_channel(server_factory: ServerFactory) -> None:
    server = server_factory("--actions", "actions", "--endpoints", str(MEMORY_ENDPOINTS))
    with server.client() as client:
        assert client.get("/webhooks/rest/").status_code == 404
