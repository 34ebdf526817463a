"""POST /webhooks/voice: one action per event, the rest delivered on the assistant's events."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.channels.helpers import event, speak
from tests.helpers import ServerProcess

AUDIO_16K = (
    "UklGRkQAAABXQVZFZm10IBAAAAABAAEAgD4AAAB9AAACABAAZGF0YSAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAA=="
)


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def new_session() -> str:
    return f"call-{uuid.uuid4()}"


def post(client: httpx.Client, kind: str, session_id: str, **fields: Any) -> httpx.Response:
    return client.post("/webhooks/voice", json=event(kind, session_id, **fields))


def action(client: httpx.Client, kind: str, session_id: str, **fields: Any) -> dict[str, Any]:
    response = post(client, kind, session_id, **fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def nothing(client: httpx.Client, kind: str, session_id: str, **fields: Any) -> None:
    response = post(client, kind, session_id, **fields)
    assert response.status_code == 204, response.text
    assert response.content == b""


def tracker(client: httpx.Client, session_id: str) -> dict[str, Any]:
    response = client.get(f"/conversations/{session_id}/tracker")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_whole_call_from_greeting_to_hangup(client: httpx.Client) -> None:
    call = new_session()
    first = action(client, "session_start", call)
    assert first == speak(call, "Welcome to the test line. For how many people?")
    nothing(client, "assistant_speak", call)
    nothing(client, "assistant_speech_ended", call)

    assert action(client, "dtmf_received", call, digit="4") == speak(call, "Under which name?")
    nothing(client, "assistant_speech_ended", call)

    goodbye = action(client, "user_speak", call, text="Ada", barged_in=False)
    assert goodbye == speak(call, "A table for 4.0 under Ada. Goodbye!")
    # The hangup waits until the goodbye has been heard to the end.
    nothing(client, "assistant_speak", call)
    assert action(client, "assistant_speech_ended", call) == {"session_id": call, "type": "hangup"}
    nothing(client, "assistant_speech_ended", call)

    state = tracker(client, call)
    assert state["ended"] is True
    assert state["slots"]["party_size"] == 4
    assert state["slots"]["guest_name"] == "Ada"
    users = [e for e in state["events"] if e["event"] == "user"]
    assert [u["text"] for u in users] == ["4", "Ada"]
    assert users[0]["input_channel"] == "voice"
    assert users[0]["parse_data"]["metadata"]["voice"]["dtmf"] == "4"
    assert users[1]["parse_data"]["metadata"]["voice"]["session"]["from_phone_number"]


def test_user_input_timeout_repeats_the_pending_question(client: httpx.Client) -> None:
    call = new_session()
    action(client, "session_start", call)
    assert action(client, "user_input_timeout", call) == speak(call, "For how many people?")
    assert action(client, "user_input_timeout", call) == speak(call, "For how many people?")
    bot_texts = [e["text"] for e in tracker(client, call)["events"] if e["event"] == "bot"]
    assert bot_texts[-2:] == ["For how many people?", "For how many people?"]
    # The question is still open: an answer fills it.
    assert action(client, "user_speak", call, text="2") == speak(call, "Under which name?")


def test_media_responses_become_ssml_and_audio_and_queue_in_order(client: httpx.Client) -> None:
    call = new_session()
    action(client, "session_start", call)
    first = action(client, "user_speak", call, text="/media")
    assert first == {
        "session_id": call,
        "type": "speak",
        "ssml": "<speak>Hello <break time='200ms'/> there</speak>",
    }
    assert action(client, "assistant_speak", call) == {
        "session_id": call,
        "type": "audio",
        "audio": AUDIO_16K,
    }
    # An 8 kHz recording is not playable on the phone line: its text is spoken instead.
    assert action(client, "assistant_speech_ended", call) == speak(call, "a broken chime")
    # Rasa's pattern_continue_interrupted asks whether to go back to the booking.
    assert action(client, "assistant_speak", call) == speak(call, "Shall we go back to call_start?")
    nothing(client, "assistant_speech_ended", call)


def test_new_user_input_replaces_what_was_still_queued(client: httpx.Client) -> None:
    call = new_session()
    action(client, "session_start", call)
    action(client, "user_speak", call, text="/media")  # three more actions are queued
    assert action(client, "user_speak", call, text="yes", barged_in=True) == speak(
        call, "For how many people?"
    )
    nothing(client, "assistant_speech_ended", call)


def test_transfer_step_action_transfers_the_call_after_the_announcement(
    client: httpx.Client,
) -> None:
    call = new_session()
    action(client, "session_start", call)
    announcement = action(client, "user_speak", call, text="/agent")
    assert announcement == speak(call, "Connecting you to a colleague.")
    nothing(client, "assistant_speak", call)
    assert action(client, "assistant_speech_ended", call) == {
        "session_id": call,
        "type": "transfer",
        "target_phone_number": "49301234567",
        "caller_id_name": "Test line",
        "caller_id_number": "49301112222",
        "timeout": 30,
    }
    assert tracker(client, call)["ended"] is True


def test_session_end_ends_the_conversation_and_drops_queued_actions(
    client: httpx.Client,
) -> None:
    call = new_session()
    action(client, "session_start", call)
    action(client, "user_speak", call, text="/media")
    nothing(client, "session_end", call)
    nothing(client, "assistant_speech_ended", call)
    state = tracker(client, call)
    assert state["ended"] is True
    assert state["events"][-1]["event"] == "session_ended"
    assert state["events"][-1]["metadata"] == {"reason": "session_end"}


def test_events_that_need_no_answer_return_204(client: httpx.Client) -> None:
    call = new_session()
    nothing(client, "assistant_speak", call)  # nothing was ever queued
    nothing(client, "user_speech_started", call)
    nothing(client, "session_end", call)  # a call we never saw


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the body is not valid JSON"),
        (b"", "the body is empty"),
        (b"[1, 2]", "an event must be a JSON object, got an array"),
        (b'{"session": {"id": "x"}}', "the event has no 'type'"),
        (b'{"type": "user_speak", "text": "hi"}', "event 'user_speak' has no 'session'"),
        (b'{"type": "user_speak", "session": {"id": "x"}}', "event 'user_speak': 'text'"),
        (b'{"type": "session_start", "session": {}}', "event 'session_start': 'session.id'"),
    ],
)
def test_bad_events_get_400_naming_the_problem(
    client: httpx.Client, body: bytes, message: str
) -> None:
    response = client.post(
        "/webhooks/voice", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert "Traceback" not in response.text


def test_bad_events_leave_the_conversation_unchanged(client: httpx.Client) -> None:
    call = new_session()
    action(client, "session_start", call)
    before = tracker(client, call)
    for bad in (
        {"type": "user_speak", "session": {"id": call}},
        {"type": "dtmf_received", "session": {"id": call}},
    ):
        assert client.post("/webhooks/voice", json=bad).status_code == 400
    after = tracker(client, call)
    assert after["events"] == before["events"]
    assert after["slots"] == before["slots"]


def test_queue_is_delivered_on_speech_ended_alone(client: httpx.Client) -> None:
    """Some TTS models send no assistant_speak: assistant_speech_ended delivers the queue."""
    call = new_session()
    action(client, "session_start", call)
    first = action(client, "user_speak", call, text="/media")
    assert first["ssml"].startswith("<speak>")
    delivered = [action(client, "assistant_speech_ended", call) for _ in range(3)]
    assert [a["type"] for a in delivered] == ["audio", "speak", "speak"]
    # Rasa's pattern_continue_interrupted asks before the interrupted booking goes on.
    assert delivered[-1] == speak(call, "Shall we go back to call_start?")
    nothing(client, "assistant_speech_ended", call)


def test_unknown_direction_and_event_types_do_not_break_a_call(client: httpx.Client) -> None:
    call = new_session()
    start = event("session_start", call)
    start["session"]["direction"] = "transferred"
    assert client.post("/webhooks/voice", json=start).json() == speak(
        call, "Welcome to the test line. For how many people?"
    )
    nothing(client, "user_dance", call)
    response = client.post("/webhooks/voice", json={"type": "sms_failed"})  # not even a session
    assert response.status_code == 204
    dtmf = event("dtmf_received", call, digit="3")
    dtmf["session"]["direction"] = "sideways"
    assert client.post("/webhooks/voice", json=dtmf).json() == speak(call, "Under which name?")
