"""POST /webhook, GET /actions and GET /health against a real server process."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import SERVER_ACTIONS, ServerFactory
from tests.helpers import ServerProcess, action_call

ACTION_TIMEOUT = 4


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory("--actions", SERVER_ACTIONS, "--action-timeout", str(ACTION_TIMEOUT))


@pytest.fixture
def client(server: ServerProcess) -> httpx.Client:
    with server.client() as client:
        yield client


def test_health_returns_status_ok(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_actions_lists_names_in_registration_order(client: httpx.Client) -> None:
    response = client.get("/actions")
    assert response.status_code == 200
    assert response.json() == [
        {"name": "action_greet"},
        {"name": "action_count_events"},
        {"name": "action_sleep_sync"},
        {"name": "action_sleep_async"},
        {"name": "action_reject"},
        {"name": "action_crash"},
        {"name": "action_unserialisable"},
    ]


def test_actions_describe_adds_kind_and_arguments(client: httpx.Client) -> None:
    described = client.get("/actions", params={"describe": "true"}).json()
    assert described[0]["name"] == "action_greet"
    assert described[0]["kind"] == "class"


def test_webhook_returns_events_and_responses(client: httpx.Client) -> None:
    response = client.post("/webhook", json=action_call("action_greet", slots={"name": "Ada"}))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["events"] == [
        {"event": "slot", "timestamp": None, "name": "greeted", "value": True}
    ]
    assert [message["text"] for message in body["responses"]] == ["Hello, Ada!"]


def test_webhook_accepts_a_large_tracker(client: httpx.Client) -> None:
    events = [
        {"event": "action", "name": "action_listen", "timestamp": float(i)} for i in range(20_000)
    ]
    response = client.post("/webhook", json=action_call("action_count_events", events=events))
    assert response.status_code == 200
    assert response.json()["responses"][0]["text"] == "20000 events"


def test_webhook_answers_449_when_the_domain_is_missing(client: httpx.Client) -> None:
    call = action_call("action_greet", domain_digest="digest-this-server-never-saw")
    del call["domain"]
    response = client.post("/webhook", json=call)
    assert response.status_code == 449
    assert response.json() == {
        "error": (
            "Missing domain context, assistant will retry the request and include the domain in "
            "the request payload. For more information please see https://rasa.com/docs/action-server/"
        ),
        "action_name": "action_greet",
    }


def test_webhook_answers_500_with_the_timeout_when_an_action_runs_too_long(
    client: httpx.Client,
) -> None:
    response = client.post(
        "/webhook", json=action_call("action_sleep_async", slots={"seconds": 60})
    )
    assert response.status_code == 500
    assert response.json() == {
        "error": f"Action 'action_sleep_async' timed out after {ACTION_TIMEOUT} s",
        "action_name": "action_sleep_async",
    }


def test_sync_action_sleeping_does_not_block_other_requests(server: ServerProcess) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool, server.client() as client:
        slow_started = time.monotonic()
        slow = pool.submit(
            client.post, "/webhook", json=action_call("action_sleep_sync", slots={"seconds": 2})
        )
        time.sleep(0.3)  # let the slow call reach the action
        with server.client() as other:
            started = time.monotonic()
            for _ in range(5):
                assert other.get("/health").status_code == 200
                greet = other.post("/webhook", json=action_call("action_greet"))
                assert greet.status_code == 200
            elapsed = time.monotonic() - started
        slow_response = slow.result(timeout=30)
        slow_elapsed = time.monotonic() - slow_started

    assert slow_response.status_code == 200
    assert slow_response.json()["responses"][0]["text"] == "slept"
    assert slow_elapsed >= 2.0
    # Ten small requests normally take milliseconds; the margin absorbs a busy machine.
    assert elapsed < 1.5, f"other requests waited {elapsed:.2f} s behind a sleeping sync action"


def test_app_hook_blueprints_are_served_behind_the_same_auth(
    server_factory: ServerFactory,
) -> None:
    hooked = server_factory(
        "--actions",
        SERVER_ACTIONS,
        "--app-hook",
        "tests.server.hooks:hello_extension",
        "--auth-token",
        "t0k",
    )
    with hooked.client() as client:
        assert client.get("/hello/").status_code == 401
        response = client.get("/hello/", params={"token": "t0k"})
    assert response.status_code == 200
    assert response.json() == {"hello": "world", "actions": 7}
