"""Token auth (query `token` as Rasa sends it, or a Bearer header) and exact-origin CORS."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import SERVER_ACTIONS, ServerFactory
from tests.helpers import ServerProcess, action_call

TOKEN = "s3cret-token"
ORIGIN = "https://app.example.com"
UNAUTHORIZED = {
    "error": "Missing or invalid auth token: pass it as the 'token' query parameter "
    "or as 'Authorization: Bearer <token>'"
}


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory(
        "--actions",
        SERVER_ACTIONS,
        "--auth-token",
        TOKEN,
        "--cors",
        ORIGIN,
        "http://localhost:3000",
    )


@pytest.fixture(scope="module")
def open_cors_server(server_factory: ServerFactory) -> ServerProcess:
    """Token from the environment, any origin allowed."""
    return server_factory(
        "--actions", SERVER_ACTIONS, "--cors", "*", env={"ACTION_SERVER_AUTH_TOKEN": TOKEN}
    )


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def test_health_needs_no_token(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/actions"), ("GET", "/metrics"), ("POST", "/webhook")]
)
def test_routes_return_401_without_a_token(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path, json=action_call("action_greet"))
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_wrong_token_returns_401(client: httpx.Client) -> None:
    response = client.get("/actions", params={"token": "s3cret-tokeN"})
    assert response.status_code == 401
    response = client.get("/actions", headers={"authorization": "Bearer nope"})
    assert response.status_code == 401


def test_token_in_query_parameter_is_accepted(client: httpx.Client) -> None:
    response = client.post("/webhook", params={"token": TOKEN}, json=action_call("action_greet"))
    assert response.status_code == 200
    assert response.json()["responses"][0]["text"] == "Hello, stranger!"


def test_bearer_token_is_accepted(client: httpx.Client) -> None:
    response = client.get("/actions", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200


def test_token_from_environment_variable_is_required(open_cors_server: ServerProcess) -> None:
    with open_cors_server.client() as client:
        assert client.get("/actions").status_code == 401
        assert client.get("/actions", params={"token": TOKEN}).status_code == 200


def test_preflight_for_an_allowed_origin_returns_204(client: httpx.Client) -> None:
    response = client.options(
        "/webhook",
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, authorization",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "content-type, authorization"
    assert response.headers["vary"] == "Origin"


def test_preflight_for_another_origin_returns_403(client: httpx.Client) -> None:
    response = client.options(
        "/webhook",
        headers={"origin": "https://evil.example.com", "access-control-request-method": "POST"},
    )
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert response.json() == {
        "error": "Origin 'https://evil.example.com' is not allowed by the CORS policy"
    }


def test_responses_to_an_allowed_origin_carry_cors_headers(client: httpx.Client) -> None:
    response = client.post(
        "/webhook",
        params={"token": TOKEN},
        json=action_call("action_greet"),
        headers={"origin": "http://localhost:3000"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["vary"] == "Origin"


def test_errors_to_an_allowed_origin_carry_cors_headers(client: httpx.Client) -> None:
    response = client.get("/actions", headers={"origin": ORIGIN})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_origin_matching_is_exact(client: httpx.Client) -> None:
    response = client.get("/health", headers={"origin": "https://app.example.com.evil.net"})
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"


def test_wildcard_allows_any_origin(open_cors_server: ServerProcess) -> None:
    with open_cors_server.client() as client:
        preflight = client.options(
            "/webhook",
            headers={"origin": "https://anything.test", "access-control-request-method": "POST"},
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        response = client.get("/health", headers={"origin": "https://anything.test"})
        assert response.headers["access-control-allow-origin"] == "*"
