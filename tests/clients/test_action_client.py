"""ActionClient over both transports, against a real action server subprocess.

The same actions package runs in-process and behind the server; identical calls must give
identical results and identical error types.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from action_server.client.action_client import (
    ActionClient,
    ActionClientError,
    ActionNotFoundError,
    ActionProtocolError,
    ActionRejectedError,
    ActionServerError,
    ActionServerUnreachable,
    ActionTimeoutError,
    HttpTransport,
    InProcessTransport,
    domain_digest,
)
from action_server.config.endpoints import ActionEndpointConfig, ConfigError
from action_server.executor import ActionExecutor
from tests.clients.conftest import ACTIONS, TOKEN, webhook
from tests.helpers import ServerProcess, free_port

DOMAIN: dict[str, Any] = {
    "slots": {"name": {"type": "text"}, "greeted": {"type": "bool"}},
    "responses": {"utter_hi": [{"text": "hi"}]},
    "actions": ["action_greet"],
}


def make_call(
    action: str, slots: dict[str, Any] | None = None, domain: dict[str, Any] | None = DOMAIN
) -> dict[str, Any]:
    call: dict[str, Any] = {
        "next_action": action,
        "sender_id": "alice",
        "version": "3.10.0",
        "tracker": {
            "sender_id": "alice",
            "slots": slots or {},
            "latest_message": {"text": "hello there", "intent": {"name": "greet"}},
            "events": [{"event": "user", "text": "hello there"}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }
    if domain is not None:
        call["domain"] = domain
    return call


class Recorder(httpx.AsyncBaseTransport):
    """Real network underneath; remembers each request body and answer status."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []
        self.statuses: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = await self.inner.handle_async_request(request)
        self.statuses.append(response.status_code)
        return response

    def bodies(self) -> list[dict[str, Any]]:
        return [orjson.loads(request.content) for request in self.requests]

    async def aclose(self) -> None:
        await self.inner.aclose()


def in_process_client(action_timeout: float | None = None) -> ActionClient:
    executor = ActionExecutor(action_timeout=action_timeout)
    executor.register_package(ACTIONS)
    return ActionClient(InProcessTransport(executor))


@pytest.fixture
async def local() -> AsyncIterator[ActionClient]:
    client = in_process_client()
    yield client
    await client.close()


@pytest.fixture
async def remote(action_server: ServerProcess) -> AsyncIterator[ActionClient]:
    client = ActionClient(HttpTransport(webhook(action_server), token=TOKEN))
    yield client
    await client.close()


@pytest.fixture
async def both(local: ActionClient, remote: ActionClient) -> list[ActionClient]:
    return [local, remote]


# --- identical results ------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        make_call("action_greet", {"name": "Zoë"}),
        make_call("action_greet"),
        make_call("action_domain_keys"),
    ],
    ids=["greet-with-slot", "greet-without-slot", "domain"],
)
async def test_both_transports_give_identical_events_and_responses(
    local: ActionClient, remote: ActionClient, call: dict[str, Any]
) -> None:
    original = copy.deepcopy(call)
    from_local = await local.run(call)
    from_remote = await remote.run(call)
    assert from_local == from_remote
    assert from_local["responses"], "the comparison must cover real output"
    assert call == original, "the client must not change the caller's call"


async def test_in_process_results_are_plain_json_like_over_the_wire(local: ActionClient) -> None:
    result = await local.run(make_call("action_greet", {"name": "Bo"}))
    assert {"event": "slot", "name": "pair", "value": [1, 2]}.items() <= result["events"][1].items()
    assert result["responses"][0]["custom"] == {"shape": ["tuple", 1]}
    assert result["responses"][0]["text"] == "Hello Bo (alice), you said: hello there"


async def test_repeated_calls_give_the_same_result_with_domain_or_digest(
    remote: ActionClient,
) -> None:
    results = [await remote.run(make_call("action_domain_keys")) for _ in range(3)]
    assert results[0] == results[1] == results[2]
    assert results[0]["responses"][0]["text"] == "greeted,name"


# --- identical errors -------------------------------------------------------------------


async def test_unknown_action_raises_action_not_found_error_on_both_transports(
    both: list[ActionClient],
) -> None:
    for client in both:
        with pytest.raises(ActionNotFoundError, match="No registered action found for name 'nope'"):
            await client.run(make_call("nope"))


async def test_rejection_carries_the_action_message_on_both_transports(
    both: list[ActionClient],
) -> None:
    for client in both:
        with pytest.raises(ActionRejectedError) as caught:
            await client.run(make_call("action_reject"))
        assert caught.value.message == "I will not do that, Dave."
        assert caught.value.action_name == "action_reject"


async def test_failing_action_raises_action_server_error_without_internal_details(
    both: list[ActionClient],
) -> None:
    messages = []
    for client in both:
        with pytest.raises(ActionServerError) as caught:
            await client.run(make_call("action_explode"))
        messages.append(str(caught.value))
        assert "secret internal detail" not in str(caught.value)
    assert (
        messages[0]
        == messages[1]
        == ("An exception occurred while running action 'action_explode'.")
    )


async def test_action_timeout_raises_action_timeout_error_in_process() -> None:
    client = in_process_client(action_timeout=0.2)
    with pytest.raises(ActionTimeoutError, match="Action 'action_slow' timed out after 0.2 s"):
        await client.run(make_call("action_slow", {"delay": 5}))
    await client.close()


async def test_http_timeout_raises_action_timeout_error_naming_url_and_action(
    action_server: ServerProcess,
) -> None:
    client = ActionClient(HttpTransport(webhook(action_server), token=TOKEN, timeout=0.3))
    with pytest.raises(ActionTimeoutError) as caught:
        await client.run(make_call("action_slow", {"delay": 3}))
    assert "action_slow" in str(caught.value) and webhook(action_server) in str(caught.value)
    await client.close()


async def test_server_side_action_timeout_raises_the_same_error_as_in_process(
    impatient_server: ServerProcess,
) -> None:
    remote = ActionClient(HttpTransport(webhook(impatient_server)))
    local = in_process_client(action_timeout=0.2)
    errors = []
    for client in (local, remote):
        with pytest.raises(ActionTimeoutError) as caught:
            await client.run(make_call("action_slow", {"delay": 5}))
        errors.append(str(caught.value))
        await client.close()
    assert errors[0] == errors[1] == "Action 'action_slow' timed out after 0.2 s"


async def test_refused_connection_raises_action_server_unreachable_naming_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/webhook"
    client = ActionClient(HttpTransport(url))
    with pytest.raises(ActionServerUnreachable) as caught:
        await client.run(make_call("action_greet"))
    assert url in str(caught.value) and "action_greet" in str(caught.value)
    await client.close()


async def test_wrong_token_is_an_unexpected_status_error(action_server: ServerProcess) -> None:
    client = ActionClient(HttpTransport(webhook(action_server), token="wrong"))
    with pytest.raises(ActionProtocolError, match="unexpected status 401") as caught:
        await client.run(make_call("action_greet"))
    assert caught.value.status == 401
    await client.close()


async def test_wrong_path_is_not_mistaken_for_an_unknown_action(
    action_server: ServerProcess,
) -> None:
    url = f"{action_server.url}/not-the-webhook"
    client = ActionClient(HttpTransport(url, token=TOKEN))
    with pytest.raises(ActionProtocolError, match="unexpected status 404"):
        await client.run(make_call("action_greet"))
    await client.close()


# --- domain digest protocol -------------------------------------------------------------


async def test_http_client_sends_the_domain_once_then_only_its_digest(
    action_server: ServerProcess,
) -> None:
    recorder = Recorder()
    client = ActionClient(HttpTransport(webhook(action_server), token=TOKEN, transport=recorder))
    domain = {"slots": {"only_here": {}}}
    for _ in range(3):
        result = await client.run(make_call("action_domain_keys", domain=domain))
        assert result["responses"][0]["text"] == "only_here"
    bodies = recorder.bodies()
    assert [("domain" in body) for body in bodies] == [True, False, False]
    assert {body["domain_digest"] for body in bodies} == {domain_digest(domain)}
    assert all(request.url.params["token"] == TOKEN for request in recorder.requests)
    await client.close()


async def test_http_client_resends_the_domain_when_the_server_answers_449(
    action_server: ServerProcess,
) -> None:
    recorder = Recorder()
    client = ActionClient(HttpTransport(webhook(action_server), token=TOKEN, transport=recorder))
    first, second = {"slots": {"first": {}}}, {"slots": {"second": {}}}
    await client.run(make_call("action_domain_keys", domain=first))
    # Another caller makes the server hold a different domain, so `first` is gone there.
    other = ActionClient(HttpTransport(webhook(action_server), token=TOKEN))
    await other.run(make_call("action_domain_keys", domain=second))
    await other.close()
    result = await client.run(make_call("action_domain_keys", domain=first))
    assert result["responses"][0]["text"] == "first"
    assert recorder.statuses == [200, 449, 200]
    assert [("domain" in body) for body in recorder.bodies()] == [True, False, True]
    await client.close()


async def test_449_in_answer_to_a_call_with_domain_is_a_protocol_error() -> None:
    def always_449(request: httpx.Request) -> httpx.Response:
        return httpx.Response(449, json={"error": "Domain context is missing."})

    transport = HttpTransport(
        "http://actions.test/webhook", transport=httpx.MockTransport(always_449)
    )
    with pytest.raises(ActionProtocolError, match="449") as caught:
        await ActionClient(transport).run(make_call("action_greet"))
    assert caught.value.status == 449


async def test_call_without_domain_is_sent_with_an_empty_domain() -> None:
    seen: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(orjson.loads(request.content))
        return httpx.Response(200, json={"events": [], "responses": []})

    http = ActionClient(
        HttpTransport("http://a.test/webhook", transport=httpx.MockTransport(answer))
    )
    assert await http.run(make_call("action_greet", domain=None)) == {"events": [], "responses": []}
    assert seen[0]["domain"] == {} and "domain_digest" not in seen[0]
    local = in_process_client()
    result = await local.run(make_call("action_domain_keys", domain=None))
    assert result["responses"][0]["text"] == ""


# --- odd answers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "match"),
    [
        (200, b"<html>hi</html>", ActionProtocolError, "answered 200 with a body that is not JSON"),
        (200, b"[1, 2]", ActionProtocolError, "answered list, expected a JSON object"),
        (200, b'{"events": {}}', ActionProtocolError, "'events' as dict, expected a list"),
        (502, b"<html>Bad Gateway</html>", ActionServerError, "Bad Gateway"),
        (503, b"", ActionServerError, "HTTP 503 with an empty body"),
        (500, b'{"error": "Action \'x\' timed out after 2 s"}', ActionTimeoutError, "timed out"),
        (418, b'{"error": "teapot"}', ActionProtocolError, "unexpected status 418: teapot"),
        (404, b'{"error": "nope"}', ActionProtocolError, "unexpected status 404"),
    ],
)
async def test_odd_answers_become_precise_client_errors(
    status: int, body: bytes, error: type[ActionClientError], match: str
) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    client = ActionClient(HttpTransport("http://a.test/webhook", transport=transport))
    with pytest.raises(error, match=match) as caught:
        await client.run(make_call("action_greet"))
    assert caught.value.action_name == "action_greet"


async def test_missing_events_or_responses_mean_empty_lists() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"events": None}))
    client = ActionClient(HttpTransport("http://a.test/webhook", transport=transport))
    assert await client.run(make_call("x")) == {"events": [], "responses": []}


async def test_token_name_headers_and_basic_auth_are_sent() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"events": [], "responses": []})

    transport = HttpTransport(
        "http://a.test/webhook?x=1",
        token="t0k",
        token_name="auth",
        headers={"X-Tenant": "acme"},
        basic_auth=("user", "pw"),
        transport=httpx.MockTransport(answer),
    )
    await ActionClient(transport).run(make_call("action_greet"))
    request = seen[0]
    assert request.url.params["auth"] == "t0k" and request.url.params["x"] == "1"
    assert request.headers["x-tenant"] == "acme"
    assert request.headers["authorization"].startswith("Basic ")
    assert request.headers["content-type"] == "application/json"


# --- configuration ----------------------------------------------------------------------


async def test_from_endpoint_with_actions_module_runs_in_process() -> None:
    client = ActionClient.from_endpoint(ActionEndpointConfig(actions_module=ACTIONS))
    assert isinstance(client.transport, InProcessTransport)
    result = await client.run(make_call("action_greet"))
    assert result["events"][0]["name"] == "greeted"
    with pytest.raises(ActionNotFoundError, match=f"package '{ACTIONS}'"):
        await client.run(make_call("nope"))
    await client.close()


async def test_from_endpoint_with_url_talks_http() -> None:
    client = ActionClient.from_endpoint(
        ActionEndpointConfig(url="http://127.0.0.1:5055/webhook", token="t", timeout=3)
    )
    assert isinstance(client.transport, HttpTransport)
    assert client.transport.timeout == 3
    await client.close()


def test_from_endpoint_prefers_actions_module_over_url_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="action_server.client.action_client"):
        client = ActionClient.from_endpoint(
            ActionEndpointConfig(url="http://127.0.0.1:5055/webhook", actions_module=ACTIONS)
        )
    assert isinstance(client.transport, InProcessTransport)
    assert "both actions_module" in caplog.text and "ignoring the url" in caplog.text


def test_from_endpoint_without_url_or_actions_module_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="set either 'url'.*or 'actions_module'"):
        ActionClient.from_endpoint(ActionEndpointConfig())


def test_from_endpoint_with_unreadable_cafile_is_a_config_error(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="cafile: cannot load"):
        ActionClient.from_endpoint(
            ActionEndpointConfig(url="https://a.test/webhook", cafile=str(tmp_path / "none.pem"))
        )


@pytest.mark.parametrize("url", ["localhost:5055/webhook", "ftp://a.test/x", "http://"])
def test_from_endpoint_with_a_non_http_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="action_endpoint.url"):
        ActionClient.from_endpoint(ActionEndpointConfig(url=url))
