"""A whole sipgate AI Flow call, event by event, over HTTP and WebSocket, every answer asserted.

The events are shaped as sipgate documents them (full ``session``, ``X-API-TOKEN`` header);
the call includes an older ``transcript`` field, event types we ignore, the caller speaking
during the transfer announcement (the transfer still happens), a failed transfer (sipgate sends
``session_start`` again and the conversation goes on), manual barge-in and the end of the call.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.channels.conftest import ACTIONS, DATA
from tests.channels.helpers import event
from tests.conftest import ServerFactory
from tests.helpers import ServerProcess

TOKEN = "sipgate-shared-secret"
TIMEOUT = 10.0
FALLBACK = "Nobody is free right now. What else can I do for you?"
MENU = "Press 1 for bookings or 2 for opening hours."

Step = tuple[dict[str, Any], list[dict[str, Any]]]


def speak(call: str, text: str, **options: Any) -> dict[str, Any]:
    return {"session_id": call, "type": "speak", "text": text, **options}


def transfer(call: str) -> dict[str, Any]:
    return {
        "session_id": call,
        "type": "transfer",
        "target_phone_number": "49301234567",
        "caller_id_name": "Test line",
        "caller_id_number": "49301112222",
        "timeout": 30,
    }


def raw(kind: str, call: str, **fields: Any) -> dict[str, Any]:
    """An event with only the session id, as sipgate sends the later events of a call."""
    return {"type": kind, "session": {"id": call}, **fields}


def http_call(call: str) -> list[Step]:
    """(event, answer) pairs over HTTP: one action per event, the rest on assistant events."""
    return [
        (
            event("session_start", call),
            [speak(call, "Welcome to the test line. For how many people?")],
        ),
        (raw("assistant_speak", call, text="Welcome", duration_ms=2100), []),
        (raw("assistant_speech_ended", call), []),
        (event("user_speak", call, transcript="2"), [speak(call, "Under which name?")]),
        (raw("sms_failed", call, phone_number="4915112345678"), []),
        (raw("user_barge_in", call, text="x"), []),  # deprecated: ignored
        (event("user_speak", call, text="/agent"), [speak(call, "Connecting you to a colleague.")]),
        (raw("assistant_speak", call), []),  # the transfer waits until the words were heard
        # The caller talks over the announcement: the transfer goes ahead, not a hangup.
        (event("user_speak", call, text="hello?", barged_in=True), [transfer(call)]),
        (raw("assistant_speech_ended", call), []),
        # The transfer failed: sipgate starts the same session again; the conversation goes on.
        (event("session_start", call), [speak(call, FALLBACK)]),
        (raw("assistant_speech_ended", call), []),
        (
            event("user_speak", call, text="/menu"),
            [speak(call, MENU, barge_in={"strategy": "manual"})],
        ),
        (raw("assistant_speak", call), []),
        # A key during speech the platform will not interrupt: we stop it, then answer.
        (event("dtmf_received", call, digit="1"), [{"session_id": call, "type": "barge_in"}]),
        (raw("assistant_speak", call), [speak(call, "You chose 1.")]),
        (raw("assistant_speech_ended", call), []),
        (raw("session_end", call), []),
    ]


def ws_call(call: str) -> list[Step]:
    """The same call over the WebSocket: every action of a turn is sent at once."""
    return [
        (
            event("session_start", call),
            [speak(call, "Welcome to the test line. For how many people?")],
        ),
        (raw("assistant_speak", call, text="Welcome", duration_ms=2100), []),
        (raw("assistant_speech_ended", call), []),
        (event("user_speak", call, transcript="2"), [speak(call, "Under which name?")]),
        (raw("sms_failed", call, phone_number="4915112345678"), []),
        (raw("user_barge_in", call, text="x"), []),
        (
            event("user_speak", call, text="/agent"),
            [speak(call, "Connecting you to a colleague."), transfer(call)],
        ),
        (raw("user_speech_started", call), []),
        (event("user_speak", call, text="hello?", barged_in=True), []),  # already transferring
        (event("session_start", call), [speak(call, FALLBACK)]),
        (
            event("user_speak", call, text="/menu"),
            [speak(call, MENU, barge_in={"strategy": "manual"})],
        ),
        (
            event("dtmf_received", call, digit="1"),
            [{"session_id": call, "type": "barge_in"}, speak(call, "You chose 1.")],
        ),
        (raw("session_end", call), []),
    ]


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory(
        "--actions",
        ACTIONS,
        "--flows",
        DATA,
        "--endpoints",
        f"{DATA}/endpoints.yml",
        "--auth-token",
        TOKEN,
        "--quiet",
    )


def test_whole_call_over_http(server: ServerProcess) -> None:
    call = str(uuid.uuid4())
    with httpx.Client(base_url=server.url, headers={"X-API-TOKEN": TOKEN}) as http:
        for number, (sent, expected) in enumerate(http_call(call)):
            response = http.post("/webhooks/voice", json=sent)
            if not expected:
                assert response.status_code == 204, (number, sent, response.text)
                continue
            assert response.status_code == 200, (number, sent, response.text)
            assert [response.json()] == expected, (number, sent)
        tracker = http.get(f"/conversations/{call}/tracker").json()
    assert tracker["ended"] is True
    bots = [e["text"] for e in tracker["events"] if e["event"] == "bot"]
    assert FALLBACK in bots


async def test_whole_call_over_websocket(server: ServerProcess) -> None:
    call = str(uuid.uuid4())
    url = server.url.replace("http://", "ws://") + "/webhooks/voice/ws"
    headers = {"X-API-TOKEN": TOKEN}
    async with websockets.connect(url, additional_headers=headers, open_timeout=TIMEOUT) as ws:
        for number, (sent, expected) in enumerate(ws_call(call)):
            await ws.send(json.dumps(sent))
            got = [json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)) for _ in expected]
            assert got == expected, (number, sent)
        # Nothing else was sent: the next message is the answer to a new call.
        other = str(uuid.uuid4())
        await ws.send(json.dumps(event("session_start", other)))
        greeting = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        assert greeting["session_id"] == other


def test_without_the_token_events_are_refused(server: ServerProcess) -> None:
    call = str(uuid.uuid4())
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/webhooks/voice", json=event("session_start", call)).status_code == 401
        wrong = http.post(
            "/webhooks/voice",
            json=event("session_start", call),
            headers={"X-API-TOKEN": "nope"},
        )
        assert wrong.status_code == 401


@pytest.fixture(scope="module")
def array_server(
    server_factory: ServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> ServerProcess:
    endpoints = tmp_path_factory.mktemp("arrays") / "endpoints.yml"
    endpoints.write_text(
        Path(DATA, "endpoints.yml").read_text() + "  action_arrays: true\n", encoding="utf-8"
    )
    return server_factory(
        "--actions", ACTIONS, "--flows", DATA, "--endpoints", str(endpoints), "--quiet"
    )


def test_action_arrays_answer_a_turn_at_once_over_http(array_server: ServerProcess) -> None:
    call = str(uuid.uuid4())
    with array_server.client() as http:
        first = http.post("/webhooks/voice", json=event("session_start", call))
        assert first.json() == speak(call, "Welcome to the test line. For how many people?")
        media = http.post("/webhooks/voice", json=event("user_speak", call, text="/media")).json()
        # SSML, the recording, the text of the unplayable one, then Rasa's "shall we go back?".
        assert [a["type"] for a in media] == ["speak", "audio", "speak", "speak"]
        assert media[3] == speak(call, "Shall we go back to call_start?")
        assert media[0]["ssml"].startswith("<speak>")
        # Nothing was queued: the assistant's events get 204.
        for kind in ("assistant_speak", "assistant_speech_ended"):
            assert http.post("/webhooks/voice", json=raw(kind, call)).status_code == 204
        agent = http.post("/webhooks/voice", json=event("user_speak", call, text="/agent")).json()
        assert agent == [speak(call, "Connecting you to a colleague."), transfer(call)]


async def test_action_arrays_go_in_one_websocket_message(array_server: ServerProcess) -> None:
    call = str(uuid.uuid4())
    url = array_server.url.replace("http://", "ws://") + "/webhooks/voice/ws"
    async with websockets.connect(url, open_timeout=TIMEOUT) as ws:
        await ws.send(json.dumps(event("session_start", call)))
        assert json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["type"] == "speak"
        await ws.send(json.dumps(event("user_speak", call, text="/agent")))
        message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        assert message == [speak(call, "Connecting you to a colleague."), transfer(call)]
