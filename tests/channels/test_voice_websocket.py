"""/webhooks/voice/ws: every action of an event is sent at once, in order; errors keep it open."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets

from tests.channels.conftest import SERVER_ARGS
from tests.channels.helpers import event
from tests.conftest import ServerFactory
from tests.helpers import ServerProcess

TIMEOUT = 10.0  # generous: only a hung server would get near it


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory) -> ServerProcess:
    """A silent caller runs flow `still_there`; every question waits 8 s for an answer."""
    return server_factory(
        *SERVER_ARGS, "--voice-timeout-flow", "still_there", "--voice-input-timeout", "8"
    )


@pytest.fixture
async def ws(server: ServerProcess) -> AsyncIterator[Any]:
    url = server.url.replace("http://", "ws://") + "/webhooks/voice/ws"
    async with websockets.connect(url, open_timeout=TIMEOUT) as socket:
        yield socket


async def send(ws: Any, message: dict[str, Any] | str) -> None:
    await ws.send(message if isinstance(message, str) else json.dumps(message))


async def receive(ws: Any, count: int) -> list[dict[str, Any]]:
    return [json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)) for _ in range(count)]


async def exchange(ws: Any, message: dict[str, Any] | str, count: int) -> list[dict[str, Any]]:
    await send(ws, message)
    return await receive(ws, count)


def speak(call: str, text: str, timeout: float | None = 8.0) -> dict[str, Any]:
    action: dict[str, Any] = {"session_id": call, "type": "speak", "text": text}
    if timeout is not None:
        action["user_input_timeout_seconds"] = timeout
    return action


async def test_whole_call_over_websocket_sends_every_action_in_order(ws: Any) -> None:
    call = f"ws-{uuid.uuid4()}"
    assert await exchange(ws, event("session_start", call), 1) == [
        speak(call, "Welcome to the test line. For how many people?")
    ]
    # The configured timeout flow runs, then the booking flow asks again.
    assert await exchange(ws, event("user_input_timeout", call), 1) == [
        speak(call, "Are you still there? For how many people?")
    ]
    media = await exchange(ws, event("user_speak", call, text="/media"), 4)
    assert [a["type"] for a in media] == ["speak", "audio", "speak", "speak"]
    assert media[0]["ssml"].startswith("<speak>")
    assert media[2]["text"] == "a broken chime"
    # Rasa's pattern_continue_interrupted asks before the booking flow goes on.
    assert media[3] == speak(call, "Shall we go back to call_start?")
    assert await exchange(ws, event("user_speak", call, text="yes"), 1) == [
        speak(call, "For how many people?")
    ]
    assert await exchange(ws, event("dtmf_received", call, digit="2"), 1) == [
        speak(call, "Under which name?")
    ]
    assert await exchange(ws, event("user_speak", call, text="Grace"), 2) == [
        speak(call, "A table for 2.0 under Grace. Goodbye!", timeout=None),
        {"session_id": call, "type": "hangup"},
    ]


async def test_transfer_over_websocket(ws: Any) -> None:
    call = f"ws-{uuid.uuid4()}"
    await exchange(ws, event("session_start", call), 1)
    assert await exchange(ws, event("user_speak", call, text="/agent"), 2) == [
        speak(call, "Connecting you to a colleague.", timeout=None),
        {
            "session_id": call,
            "type": "transfer",
            "target_phone_number": "49301234567",
            "caller_id_name": "Test line",
            "caller_id_number": "49301112222",
            "timeout": 30,
        },
    ]


async def test_bad_messages_get_an_error_and_the_socket_stays_open(ws: Any) -> None:
    call = f"ws-{uuid.uuid4()}"
    (error,) = await exchange(ws, "not json", 1)
    assert error["type"] == "error"
    assert "the message is not valid JSON" in error["error"]
    await send(ws, {"type": "user_whisper", "session": {"id": call}})  # ignored: no answer
    (error,) = await exchange(ws, {"type": "dtmf_received", "session": {"id": call}}, 1)
    assert error["error"] == "event 'dtmf_received': 'digit': Field required"
    # Still open, and the call works.
    assert await exchange(ws, event("session_start", call), 1) == [
        speak(call, "Welcome to the test line. For how many people?")
    ]


async def test_events_without_actions_send_nothing(ws: Any) -> None:
    call = f"ws-{uuid.uuid4()}"
    await exchange(ws, event("session_start", call), 1)
    for kind in ("assistant_speak", "user_speech_started", "assistant_speech_ended"):
        await send(ws, event(kind, call))
    # The next answer is the first thing that arrives.
    assert await exchange(ws, event("dtmf_received", call, digit="5"), 1) == [
        speak(call, "Under which name?")
    ]
