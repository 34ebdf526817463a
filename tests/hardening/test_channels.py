"""The REST, voice and RTVI channels on a real server: one message cannot stall the loop, a
too-long message is a clear 4xx, and no error repeats more than ~100 characters of input."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import websockets

from tests.channels.conftest import SERVER_ARGS
from tests.channels.helpers import event
from tests.conftest import ServerFactory
from tests.helpers import ServerProcess

LONG = 40_000


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory(*SERVER_ARGS, "--websocket-max-size", "8KiB")


def rest(server: ServerProcess, message: Any, sender: str = "h1") -> Any:
    with server.client() as client:
        return client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})


@pytest.mark.parametrize(
    "message",
    ["/greet" + " " * LONG + "x", "/SetSlots" + " " * LONG + "x", "/SetSlots(" + "a=1," * 10_000],
)
def test_rest_message_over_the_limit_is_a_413_naming_the_field(
    server: ServerProcess, message: str
) -> None:
    started = time.perf_counter()
    response = rest(server, message)
    assert response.status_code == 413
    assert response.json() == {
        "error": f"'message' is {len(message):,} characters long; the limit is 10,000 "
        "characters per message",
        "field": "message",
    }
    assert time.perf_counter() - started < 2


def test_rest_payloads_just_under_the_limit_parse_at_once(server: ServerProcess) -> None:
    for message in ("/greet" + " " * 9_900 + "x", "/SetSlots(" + "a" * 9_980 + "=1)", "/x{" * 3000):
        started = time.perf_counter()
        assert rest(server, message).status_code == 200
        assert time.perf_counter() - started < 2


def test_rest_intent_entities_with_huge_numbers_or_deep_nesting_are_answered(
    server: ServerProcess,
) -> None:
    for entities in (
        '{"a": 1e999}',
        '{"a": ' + "1" * 5000 + "}",
        '{"a":' + "[" * 3000 + "]" * 3000 + "}",
    ):
        response = rest(server, "/agent" + entities)
        assert response.status_code == 200, response.text
        text = response.json()[0]["text"]
        assert "not valid JSON" in text
        assert len(text) < 400
    assert "Traceback" not in server.output


def test_rest_errors_quote_at_most_100_characters(server: ServerProcess) -> None:
    with server.client() as client:
        response = client.get("/conversations/x/tracker", params={"include_events": "Z" * 5_000})
    assert response.status_code == 400
    assert len(response.json()["error"]) < 250
    with server.client() as client:
        response = client.post("/webhooks/rest/webhook", content=b'{"message": 1e999}')
    assert response.status_code == 400
    assert "too large" in response.json()["error"]


def test_voice_odd_event_types_and_fields_are_answered_short(server: ServerProcess) -> None:
    with server.client() as client:
        # Unknown types are ignored (204), even an object or one nested 5,000 levels deep.
        ignored = client.post(
            "/webhooks/voice", json={"type": {"x": "y" * 100_000}, "session": {"id": "v"}}
        )
        deep_type = client.post(
            "/webhooks/voice",
            content=b'{"type":' + b"[" * 900 + b"]" * 900 + b',"session":{"id":"v"}}',
        )
        deeper = client.post(
            "/webhooks/voice", content=b'{"type":' + b"[" * 5000 + b"]" * 5000 + b"}"
        )
        bad_field = client.post(
            "/webhooks/voice",
            json={"type": "user_speak", "session": {"id": "v"}, "text": {"k" * 5000: 1}},
        )
    assert ignored.status_code == 204
    assert deep_type.status_code == 204
    assert deeper.status_code == 400
    assert "nested too deeply" in deeper.json()["error"]
    assert bad_field.status_code == 400
    assert len(bad_field.json()["error"]) < 350
    assert "Traceback" not in server.output


def test_voice_user_speech_over_the_limit_is_a_400(server: ServerProcess) -> None:
    with server.client() as client:
        client.post("/webhooks/voice", json=event("session_start", "v-long"))
        response = client.post(
            "/webhooks/voice", json=event("user_speak", "v-long", text="/greet" + " " * LONG + "x")
        )
    assert response.status_code == 400
    assert "'text' is 40,007 characters long" in response.json()["error"]


def _rtvi_send_text(text: str, message_id: str = "m1") -> dict[str, Any]:
    return {
        "label": "rtvi-ai",
        "type": "action",
        "id": message_id,
        "data": {
            "service": "conversation",
            "action": "send_text",
            "arguments": [{"name": "text", "value": text}],
        },
    }


async def test_rtvi_text_over_the_limit_and_long_values_answer_short_errors(
    server: ServerProcess,
) -> None:
    url = server.url.replace("http", "ws") + "/rtvi?conversation_id=r-long"
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps(_rtvi_send_text("x" * 7_000)))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert answer["type"] == "action-response"
        await ws.send(json.dumps({"label": "Q" * 5_000, "type": "x", "id": "1"}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert answer["type"] == "error"
        assert len(answer["data"]["error"]) < 250
        await ws.send(json.dumps({"label": "rtvi-ai", "type": "T" * 5_000, "id": "2"}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert len(answer["data"]["error"]) < 250
    with server.client() as client:
        response = client.post(
            "/rtvi/action",
            json={"conversation_id": "r-http", "actions": [_rtvi_send_text("x" * 10_001)]},
        )
    assert response.status_code == 200
    assert response.json()[0]["data"]["error"] == (
        "'text' is 10,001 characters long; the limit is 10,000 characters per message"
    )


async def test_websocket_message_limit_is_configurable_and_closes_with_1009(
    server: ServerProcess,
) -> None:
    url = server.url.replace("http", "ws") + "/rtvi?conversation_id=r-size"
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps(_rtvi_send_text("y" * 7_000)))  # under the 8 KiB set
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "action-response"
        await ws.send(json.dumps(_rtvi_send_text("y" * 9_000)))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
