"""/webhook and the server around it on a real process: every bad input is a JSON 4xx naming
the problem, never a 500, a traceback, a leaked secret or a forged log line."""

from __future__ import annotations

import gzip
import json
import re
import socket
import threading
import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.hardening.conftest import AUTH_TOKEN, SECRET, ApiServer
from tests.helpers import ServerProcess, action_call

AUTH = {"Authorization": f"Bearer {AUTH_TOKEN}"}


def post(server: ServerProcess, body: bytes | dict[str, Any], **headers: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    with server.client() as client:
        return client.post(
            "/webhook",
            content=content,
            headers={**AUTH, "Content-Type": "application/json", **headers},
        )


def raw_call(tracker_extra: bytes, action: str = "action_count_events") -> bytes:
    return (
        b'{"next_action":"' + action.encode() + b'","domain":{},'
        b'"tracker":{"sender_id":"u1"' + tracker_extra + b"}}"
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (raw_call(b',"slots":{"s":1e999}'), "a number is too large to represent"),
        (raw_call(b',"slots":{"s":-' + b"9" * 5000 + b"}"), "a number is too large to represent"),
        (raw_call(b',"slots":{"s":' + b"[" * 5000 + b"]" * 5000 + b"}"), "nested too deeply"),
        (raw_call(b',"latest_message":{"text":"\xff\xfe"}'), "not valid UTF-8"),
        (b'{"next_action":"action_count_events","tracker":{"sender_id":"\xc3("}}', "UTF-8"),
        (raw_call(b',"slots":{"s":"\\ud800"}'), "surrogate"),
        (raw_call(b"", action="x") + b"\x00garbage", "Malformed JSON"),
    ],
    ids=["1e999", "5000-digits", "5000-deep", "utf8-value", "utf8-sender", "surrogate", "trailing"],
)
def test_undecodable_json_is_a_400_naming_the_problem(
    server: ServerProcess, body: bytes, problem: str
) -> None:
    response = post(server, body)
    assert response.status_code == 400, response.text
    assert problem in response.json()["error"]
    assert len(response.text) < 300


@pytest.mark.parametrize("action", ["action_count_events", "validate_trip_form", "countEvents"])
@pytest.mark.parametrize(
    ("events", "problem"),
    [
        (b"[1]", "Field 'tracker.events[0]' must be an object"),
        (b'[{"event":"slot"},"x"]', "Field 'tracker.events[1]' must be an object"),
        (b'[{"event":"slot","value":1e999}]', "a number is too large to represent"),
        (b"[" + b"[" * 3000 + b"]" * 3000 + b"]", "nested too deeply"),
    ],
    ids=["number", "string", "huge", "deep"],
)
def test_bad_events_are_the_callers_error_for_every_action_kind(
    server: ServerProcess, action: str, events: bytes, problem: str
) -> None:
    before = server.output.count("Traceback")
    body = raw_call(b',"slots":{"requested_slot":"city"},"events":' + events, action=action)
    response = post(server, body)
    assert response.status_code == 400, response.text
    assert problem in response.json()["error"]
    assert response.json().get("action_name", action) == action  # wire errors have none
    assert server.output.count("Traceback") == before


def test_header_bytes_that_are_not_utf8_cannot_raise(server: ServerProcess) -> None:
    body = json.dumps(action_call("action_count_events", domain={})).encode()
    with server.client() as client:
        bad_token = client.post(
            "/webhook", content=body, headers={"Authorization": b"Bearer \xff\xfe"}
        )
        bad_origin = client.post(
            "/webhook", content=body, headers={**AUTH, "Origin": b"https://\xff.example"}
        )
        preflight = client.options(
            "/webhook",
            headers={
                "Origin": b"https://\xff.example",
                "Access-Control-Request-Method": "POST",
            },
        )
        bad_request_headers = client.options(
            "/webhook",
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": b"x-\xff\xfe",
            },
        )
    assert bad_token.status_code == 401
    assert bad_origin.status_code == 200
    assert preflight.status_code == 403
    assert "not allowed by the CORS policy" in preflight.json()["error"]
    assert bad_request_headers.status_code == 204
    assert "\\x" not in bad_request_headers.headers["access-control-allow-headers"]
    assert "Traceback" not in server.output


def test_newlines_in_version_and_sender_id_cannot_forge_a_log_line(server: ServerProcess) -> None:
    call = action_call("action_count_events", domain={}, version="2.0\nFORGED ERROR version")
    call["tracker"]["sender_id"] = "u\nFORGED ERROR sender"
    call["tracker"]["events"] = [1]  # a 400: the failure is logged with the sender id
    post(server, call)
    post(server, action_call("action_count_events", domain={}, version="2.1\rFORGED"))
    lines = server.output.splitlines()
    assert not [line for line in lines if line.startswith("FORGED")]
    assert "'2.0\\nFORGED ERROR version'" in server.output


def test_distinct_bad_versions_are_logged_short_and_a_bounded_number_of_times(
    server: ServerProcess,
) -> None:
    huge = "9" * 1_000_000
    assert (
        post(server, action_call("action_count_events", domain={}, version=huge)).status_code == 200
    )
    assert max(len(line) for line in server.output.splitlines()) < 5_000
    for index in range(300):
        post(server, action_call("action_count_events", domain={}, version=f"1.{index}"))
    assert server.output.count("may not be compatible") <= 256


def test_secrets_never_reach_the_log_of_any_logger(
    server: ServerProcess, apis: tuple[ApiServer, ApiServer]
) -> None:
    call = action_call("getWithKey", slots={"p": "lamp"}, domain={})
    with server.client() as client:
        # The token in the query: Sanic's access log (at -vv) writes the request line.
        response = client.post(f"/webhook?token={AUTH_TOKEN}", json=call)
    assert response.status_code == 200, response.text
    first, _ = apis
    assert any(
        SECRET in quote(r["path"], safe="/?=&%") or quote(SECRET, safe="") in r["path"]
        for r in first.requests
    )  # the secret did go out, to the API
    output = server.output
    assert "HTTP Request: GET" in output  # httpx's own INFO line is there...
    assert "key=***" in output  # ...with the secret hidden
    for leaked in (SECRET, quote(SECRET, safe=""), AUTH_TOKEN):
        assert leaked not in output
    assert "token=***" in output


def test_path_arguments_cannot_climb_out_of_the_path(
    server: ServerProcess, apis: tuple[ApiServer, ApiServer]
) -> None:
    first, _ = apis
    for value, sent in [
        ("..", "/items/%2E%2E/detail"),
        (".", "/items/%2E/detail"),
        ("../../admin", "/items/..%2F..%2Fadmin/detail"),
    ]:
        response = post(server, action_call("getItem", slots={"p": value}, domain={}))
        assert response.status_code == 200, response.text
        assert first.requests[-1]["path"] == sent


def test_an_invalid_filled_in_url_is_an_action_error_not_a_crash(server: ServerProcess) -> None:
    before = server.output.count("Traceback")
    response = post(server, action_call("brokenBase", domain={}))
    assert response.status_code == 200, response.text
    errors = [e["value"] for e in response.json()["events"] if e.get("name") == "brokenBase_error"]
    assert errors and "invalid request" in errors[0]
    assert server.output.count("Traceback") == before


def test_a_body_with_secrets_is_never_resent_to_another_origin(
    server: ServerProcess, apis: tuple[ApiServer, ApiServer]
) -> None:
    _, other = apis
    response = post(server, action_call("postSecret", slots={"p": "x"}, domain={}))
    assert response.status_code == 200, response.text
    errors = [e["value"] for e in response.json()["events"] if e.get("name") == "postSecret_error"]
    assert errors and "redirected to another origin" in errors[0]
    assert other.requests == []


def test_a_small_compressed_bomb_is_inflated_off_the_event_loop(server: ServerProcess) -> None:
    bomb = gzip.compress(b" " * 100_000_000, compresslevel=9)  # ~100 KB -> 100 MB
    assert len(bomb) < 200_000
    latencies: list[float] = []
    done = threading.Event()

    def send_bomb() -> None:
        with server.client() as client:
            response = client.post(
                "/webhook", content=bomb, headers={**AUTH, "Content-Encoding": "gzip"}
            )
        assert response.status_code in (400, 413)
        done.set()

    thread = threading.Thread(target=send_bomb)
    started = time.perf_counter()
    thread.start()
    with server.client() as client:
        while not done.is_set() and time.perf_counter() - started < 20:
            sent = time.perf_counter()
            assert client.get("/health").status_code == 200
            latencies.append(time.perf_counter() - sent)
    thread.join(20)
    bomb_seconds = time.perf_counter() - started
    # Relative, not absolute: /health answers while the bomb is inflating elsewhere.
    assert max(latencies) < max(0.05, bomb_seconds / 2), (max(latencies), bomb_seconds)


def test_a_client_that_half_closes_is_not_an_error(server: ServerProcess) -> None:
    for request in (
        b'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":',
        b"GET /health HTTP/1.1\r\nHost: x\r\n",
    ):
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(5)
            sock.recv(1000)
    time.sleep(0.3)
    assert "RequestCancelled" not in server.output
    assert not re.search(r"^[\d-]+ [\d:,]+ ERROR ", server.output, re.MULTILINE)
