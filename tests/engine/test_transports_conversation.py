"""One booking conversation through the flow engine, actions in-process and over HTTP.

Both engines are built by ``FlowEngine.from_paths`` from an ``endpoints.yml``: one names the
example ``actions`` package, the other points ``url`` at a real action server serving it.
Every turn must give the same bot messages and the same events (timestamps aside), also
when the server has forgotten the engine's domain and answers 449 in the middle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from action_server.client.action_client import HttpTransport
from action_server.dialogue.engine import FlowEngine, TurnResult
from action_server.stores.store import InMemoryConversationStore
from tests.conftest import ServerFactory
from tests.helpers import REPO_ROOT, ServerProcess, action_call

TURNS = [
    "/greet",
    "/book_table",
    "/SetSlots(cuisine=italian)",
    "0",
    "4",
    "19:30",
    "Ada",
    "+44 20 7946 0000",
    "/cancel_booking",
    "/SetSlots(confirm_cancel=true)",
    "/book_table",  # everything is remembered: the availability check runs at once
]
TIME_KEYS = frozenset({"timestamp", "latest_event_time"})
# Before the second availability check: the HTTP client sends only the domain's digest then.
EVICT_BEFORE_TURN = len(TURNS) - 1


@pytest.fixture(scope="module")
def action_server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory("--actions", "actions")


def engine_for(tmp_path: Path, endpoint_yaml: str) -> FlowEngine:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"action_endpoint:\n{endpoint_yaml}", encoding="utf-8")
    return FlowEngine.from_paths(
        flows=[REPO_ROOT / "flows"], endpoints=endpoints, store=InMemoryConversationStore()
    )


def without_timestamps(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_timestamps(v) for k, v in value.items() if k not in TIME_KEYS}
    if isinstance(value, list):
        return [without_timestamps(v) for v in value]
    return value


def make_server_forget_our_domain(server: ServerProcess) -> None:
    """Another caller's domain replaces ours on the server (it holds one domain)."""
    call = action_call(
        "action_check_availability", domain={"slots": {"other": {}}}, domain_digest="other"
    )
    response = httpx.post(f"{server.url}/webhook", json=call, timeout=30.0)
    assert response.status_code == 200, response.text


async def test_in_process_and_http_engines_run_the_same_conversation_identically(
    tmp_path: Path, action_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    statuses: list[int] = []
    real_post = HttpTransport._post

    async def recording_post(
        self: HttpTransport, name: str, payload: dict[str, Any]
    ) -> httpx.Response:
        response = await real_post(self, name, payload)
        statuses.append(response.status_code)
        return response

    monkeypatch.setattr(HttpTransport, "_post", recording_post)
    (tmp_path / "local").mkdir()
    (tmp_path / "remote").mkdir()
    local = engine_for(tmp_path / "local", "  actions_module: actions\n")
    remote = engine_for(tmp_path / "remote", f"  url: {action_server.url}/webhook\n")
    assert isinstance(remote.action_client.transport, HttpTransport)
    # Names come from the server's GET /actions, so validate_<slot> & co. run the same way.
    assert remote.registered_actions == local.registered_actions
    try:
        for number, message in enumerate(TURNS):
            if number == EVICT_BEFORE_TURN:
                make_server_forget_our_domain(action_server)
            expected: TurnResult = await local.handle("guest", message)
            actual: TurnResult = await remote.handle("guest", message)
            assert actual.messages == expected.messages, message
            assert without_timestamps(actual.events) == without_timestamps(expected.events), message
        assert "Done! A italian table for 4 at 19:30 is booked for Ada." in [
            m.get("text") for m in actual.messages
        ]
        local_tracker = await local.tracker("guest")
        remote_tracker = await remote.tracker("guest")
        assert without_timestamps(remote_tracker) == without_timestamps(local_tracker)
        assert remote_tracker["slots"]["booking_confirmed"] is True
    finally:
        await local.close()
        await remote.close()
    # First check: domain sent. Second: digest only -> 449 -> re-sent with the domain.
    assert statuses == [200, 449, 200]
