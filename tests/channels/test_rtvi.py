"""RTVI over WebSocket (/rtvi) and its HTTP fallback (POST /rtvi/action)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from action_server.channels.rtvi_frames import decode_frame, encode_message
from tests.channels.conftest import SERVER_ARGS
from tests.conftest import ServerFactory
from tests.helpers import ServerProcess

TIMEOUT = 10.0


def rtvi(kind: str, message_id: str, data: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"label": "rtvi-ai", "type": kind, "id": message_id}
    if data is not None:
        message["data"] = data
    return message


def run(message_id: str, service: str, action: str, **arguments: Any) -> dict[str, Any]:
    data = {
        "service": service,
        "action": action,
        "arguments": [{"name": k, "value": v} for k, v in arguments.items()],
    }
    return rtvi("action", message_id, data)


@pytest.fixture
def conversation_id() -> str:
    return f"rtvi-{uuid.uuid4()}"


@pytest.fixture
async def ws(server: ServerProcess, conversation_id: str) -> AsyncIterator[Any]:
    url = server.url.replace("http://", "ws://") + f"/rtvi?conversation_id={conversation_id}"
    async with websockets.connect(url, open_timeout=TIMEOUT) as socket:
        yield socket


async def ask(ws: Any, message: dict[str, Any] | str) -> dict[str, Any]:
    await ws.send(message if isinstance(message, str) else json.dumps(message))
    answer: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    return answer


async def test_describe_actions_lists_registered_and_builtin_actions(ws: Any) -> None:
    answer = await ask(ws, rtvi("describe-actions", "d-1"))
    assert answer["label"] == "rtvi-ai"
    assert answer["type"] == "actions-available"
    assert answer["id"] == "d-1"
    actions = {(a["service"], a["action"]): a for a in answer["data"]["actions"]}
    assert actions[("actions", "action_lookup_order")] == {
        "service": "actions",
        "action": "action_lookup_order",
        "arguments": [{"name": "order_id", "type": "number"}, {"name": "express", "type": "bool"}],
        "result": "object",
    }
    assert actions[("actions", "action_explode")]["arguments"] == []
    assert actions[("conversation", "send_text")] == {
        "service": "conversation",
        "action": "send_text",
        "arguments": [{"name": "text", "type": "string"}],
        "result": "array",
    }
    assert actions[("tts", "say")]["arguments"] == [{"name": "text", "type": "string"}]


async def test_action_with_valid_arguments_answers_action_response(ws: Any) -> None:
    answer = await ask(
        ws, run("a-1", "actions", "action_lookup_order", order_id="12", express=True)
    )
    assert answer["type"] == "action-response"
    assert answer["id"] == "a-1"
    result = answer["data"]["result"]
    assert result["responses"][0]["text"] == "Order 12 has shipped (express)."
    assert result["events"][0]["event"] == "slot"
    assert result["events"][0]["name"] == "order_status"


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (
            {"order_id": "twelve"},
            "action 'actions:action_lookup_order': argument 'order_id': expected number, "
            "got 'twelve'",
        ),
        (
            {"order_id": 1, "express": "maybe"},
            "action 'actions:action_lookup_order': argument 'express': expected bool, got 'maybe'",
        ),
        (
            {},
            "action 'actions:action_lookup_order': missing required argument: 'order_id' (number)",
        ),
        (
            {"order_id": 1, "colour": "red"},
            "action 'actions:action_lookup_order': unknown argument 'colour' "
            "(declared: express, order_id)",
        ),
    ],
)
async def test_action_with_bad_arguments_answers_error_response(
    ws: Any, arguments: dict[str, Any], error: str
) -> None:
    answer = await ask(ws, run("bad-1", "actions", "action_lookup_order", **arguments))
    assert answer == {
        "label": "rtvi-ai",
        "type": "error-response",
        "id": "bad-1",
        "data": {"error": error},
    }


async def test_unknown_action_and_unknown_service_are_not_registered(ws: Any) -> None:
    answer = await ask(ws, run("u-1", "actions", "action_missing"))
    assert answer["data"] == {"error": "Action actions:action_missing not registered"}
    answer = await ask(ws, run("u-2", "llm", "action_lookup_order"))
    assert answer["type"] == "error-response"
    assert answer["id"] == "u-2"
    assert answer["data"] == {"error": "Action llm:action_lookup_order not registered"}


async def test_failing_action_answers_error_response_without_internals(ws: Any) -> None:
    answer = await ask(ws, run("f-1", "actions", "action_explode"))
    assert answer["type"] == "error-response"
    assert answer["id"] == "f-1"
    assert answer["data"]["error"] == "An exception occurred while running action 'action_explode'."
    assert "secret" not in json.dumps(answer)


async def test_malformed_action_data_names_the_field(ws: Any) -> None:
    answer = await ask(ws, rtvi("action", "m-1", {"service": "actions"}))
    assert answer["type"] == "error-response"
    assert answer["data"]["error"] == "Invalid message: data.action: Field required"


async def test_unsupported_type_answers_error_response(ws: Any) -> None:
    answer = await ask(ws, rtvi("update-config", "t-1", {}))
    assert answer == {
        "label": "rtvi-ai",
        "type": "error-response",
        "id": "t-1",
        "data": {"error": "Unsupported type update-config"},
    }


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("{{{", "message is not valid JSON"),
        ('["describe-actions"]', "an RTVI message must be a JSON object"),
        ('{"type": "describe-actions", "id": "1"}', "not an RTVI message: 'label' must be"),
        ('{"label": "rtvi-ai", "type": "describe-actions"}', "invalid RTVI message: id"),
    ],
)
async def test_unparseable_messages_get_an_error_and_the_socket_stays_open(
    ws: Any, message: str, error: str
) -> None:
    answer = await ask(ws, message)
    assert answer["label"] == "rtvi-ai"
    assert answer["type"] == "error"
    assert error in answer["data"]["error"]
    assert answer["data"]["fatal"] is False
    assert (await ask(ws, rtvi("describe-actions", "after")))["id"] == "after"


async def test_pipelined_messages_are_answered_in_order_with_their_ids(ws: Any) -> None:
    ids = [f"p-{n}" for n in range(5)]
    for n, message_id in enumerate(ids):
        await ws.send(json.dumps(run(message_id, "actions", "action_lookup_order", order_id=n)))
    answers = [json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)) for _ in ids]
    assert [a["id"] for a in answers] == ids
    assert [a["data"]["result"]["responses"][0]["text"] for a in answers] == [
        f"Order {n} has shipped." for n in range(5)
    ]


async def test_client_message_runs_the_action_named_by_t(ws: Any, conversation_id: str) -> None:
    answer = await ask(ws, rtvi("client-message", "c-1", {"t": "action_who_am_i", "d": {}}))
    assert answer["type"] == "server-response"
    assert answer["id"] == "c-1"
    assert answer["data"]["t"] == "action_who_am_i"
    assert answer["data"]["d"]["responses"][0]["text"] == f"{conversation_id}: 0 events"
    answer = await ask(
        ws, rtvi("client-message", "c-2", {"t": "action_lookup_order", "d": {"order_id": "x"}})
    )
    assert answer["type"] == "error-response"
    assert answer["id"] == "c-2"
    assert "argument 'order_id': expected number" in answer["data"]["error"]
    answer = await ask(ws, rtvi("client-message", "c-3", {"d": {}}))
    assert answer["data"]["error"] == "Invalid message: data.t: Field required"


async def test_conversation_send_text_and_tts_say_drive_the_conversation(
    ws: Any, server: ServerProcess, conversation_id: str
) -> None:
    answer = await ask(ws, run("s-1", "conversation", "send_text", text="/agent"))
    assert answer["type"] == "action-response"
    assert answer["data"]["result"] == [
        {"text": "Connecting you to a colleague."},
        {
            "custom": {
                "type": "transfer",
                "target": "+49 30 1234567",
                "caller_id_name": "Test line",
                "caller_id_number": "+49301112222",
                "fallback_text": "Nobody is free right now. What else can I do for you?",
                "timeout": 30,
            }
        },
    ]
    answer = await ask(ws, rtvi("client-message", "s-2", {"t": "tts:say", "d": {"text": "Bye"}}))
    assert answer["data"] == {"t": "tts:say", "d": True}
    answer = await ask(ws, run("s-3", "tts", "say", text=["Bye"]))
    assert answer["data"]["error"] == (
        "action 'tts:say': argument 'text': expected string, got ['Bye']"
    )

    with server.client() as http:
        events = http.get(f"/conversations/{conversation_id}/tracker").json()["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == ["/agent"]
    assert [e["input_channel"] for e in events if e["event"] == "user"] == ["rtvi"]
    assert [e["text"] for e in events if e["event"] == "bot"][-1] == "Bye"
    # Actions run against the conversation's tracker.
    answer = await ask(ws, rtvi("client-message", "s-4", {"t": "action_who_am_i"}))
    assert answer["data"]["d"]["responses"][0]["text"] == f"{conversation_id}: {len(events)} events"


@pytest.mark.parametrize(
    ("client_version", "bot_version"),
    [
        ("1.0.0", "1.0.0"),
        ("1.2.0", "1.0.0"),
        ("2.0.0", "2.1.0"),
        ("2.1.0", "2.1.0"),
        ("3.0.0", "2.1.0"),
        ("0.3.0", "1.0.0"),
        (None, "1.0.0"),
    ],
)
async def test_client_ready_answers_bot_ready_with_the_negotiated_version(
    ws: Any, client_version: str | None, bot_version: str
) -> None:
    data = {"about": {"library": "test"}}
    if client_version is not None:
        data["version"] = client_version
    answer = await ask(ws, rtvi("client-ready", "r-1", data))
    assert answer == {
        "label": "rtvi-ai",
        "type": "bot-ready",
        "id": "r-1",
        "data": {"version": bot_version, "about": {"library": "action_server"}},
    }


async def ask_binary(ws: Any, message: dict[str, Any] | bytes) -> dict[str, Any]:
    await ws.send(message if isinstance(message, bytes) else encode_message(json.dumps(message)))
    raw = await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert isinstance(raw, bytes), f"expected a binary frame, got {raw!r}"
    frame = decode_frame(raw)
    assert frame.kind == "message" and frame.data is not None
    answer: dict[str, Any] = json.loads(frame.data)
    return answer


async def test_binary_protobuf_frames_are_answered_in_kind(ws: Any) -> None:
    answer = await ask_binary(ws, rtvi("client-ready", "b-1", {"version": "2.1.0"}))
    assert (answer["type"], answer["id"], answer["data"]["version"]) == (
        "bot-ready",
        "b-1",
        "2.1.0",
    )
    # Microphone audio frames carry no RTVI message: skipped, the next message is answered.
    await ws.send(b"\x12\x04\x1a\x02\x00\x00")
    answer = await ask_binary(
        ws, rtvi("client-message", "b-2", {"t": "action_lookup_order", "d": {"order_id": 3}})
    )
    assert answer["data"]["d"]["responses"][0]["text"] == "Order 3 has shipped."
    answer = await ask_binary(ws, b"\x22\x09\x0a\x07{broken")
    assert answer["type"] == "error"
    assert "message is not valid JSON" in answer["data"]["error"]
    answer = await ask_binary(ws, b"\x22\xff")
    assert (
        "binary message is not a pipecat Frame: Frame: truncated varint" in answer["data"]["error"]
    )
    # A text frame switches the answers back to text.
    assert (await ask(ws, rtvi("describe-actions", "b-3")))["id"] == "b-3"


async def test_send_text_runs_a_turn_and_pushes_the_bot_output(
    ws: Any, server: ServerProcess, conversation_id: str
) -> None:
    await ws.send(json.dumps(rtvi("send-text", "t-1", {"content": "/book", "options": {}})))
    answers = [json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)) for _ in range(5)]
    assert [a["type"] for a in answers] == [
        "user-transcription",
        "bot-llm-started",
        "bot-llm-text",
        "bot-llm-stopped",
        "bot-output",
    ]
    assert answers[0]["data"]["text"] == "/book"
    assert answers[0]["data"]["final"] is True
    assert answers[0]["data"]["user_id"] == conversation_id
    assert answers[2]["data"] == {"text": "For how many people?"}
    assert answers[4]["data"] == {
        "text": "For how many people?",
        "aggregated_by": "sentence",
        "spoken": False,
        "will_be_spoken": False,
    }
    # Protocol 2.0 clients send one {button} per key.
    await ws.send(json.dumps(rtvi("dtmf", "t-2", {"button": "6"})))
    answers = [json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)) for _ in range(5)]
    assert answers[0]["data"]["text"] == "6"
    assert answers[4]["data"]["text"] == "Noted: 6.0 people."  # a float slot renders as in Rasa
    with server.client() as http:
        events = http.get(f"/conversations/{conversation_id}/tracker").json()["events"]
    users = [e for e in events if e["event"] == "user"]
    assert [(u["text"], u["input_channel"]) for u in users] == [("/book", "rtvi"), ("6", "rtvi")]
    assert users[1]["parse_data"]["metadata"]["rtvi"] == {"dtmf": "6"}


@pytest.mark.parametrize(
    ("kind", "data", "error"),
    [
        ("send-text", {"options": {}}, "Invalid message: data.content must be a non-empty string"),
        ("send-text", {"content": "  "}, "Invalid message: data.content must be a non-empty"),
        ("dtmf", {"buttons": ["1", "A"]}, "Invalid message: data.buttons: 'A' is not a DTMF key"),
        ("dtmf", {"buttons": []}, "Invalid message: data.buttons must be a non-empty list"),
        ("dtmf", {}, "Invalid message: data.buttons: Field required"),
        ("dtmf", "1", "Invalid message: data must be an object with 'buttons'"),
    ],
)
async def test_bad_send_text_and_dtmf_answer_error_response(
    ws: Any, kind: str, data: Any, error: str
) -> None:
    answer = await ask(ws, rtvi(kind, "x-1", data))
    assert answer["type"] == "error-response"
    assert answer["id"] == "x-1"
    assert answer["data"]["error"].startswith(error)


async def test_ui_messages_are_accepted_without_an_answer(ws: Any) -> None:
    for kind in ("ui-event", "ui-snapshot", "ui-cancel-job-group"):
        await ws.send(json.dumps(rtvi(kind, f"{kind}-1", {"event": "click"})))
    assert (await ask(ws, rtvi("describe-actions", "after-ui")))["id"] == "after-ui"


async def test_disconnect_bot_closes_the_socket(ws: Any) -> None:
    await ws.send(json.dumps(rtvi("disconnect-bot", "q-1", {})))
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), TIMEOUT)


def test_start_endpoint_answers_only_connection_params(server: ServerProcess) -> None:
    with server.client() as http:
        params = http.post("/rtvi/start", json={"conversation_id": "abc 1"}).json()
        assert params == {
            "wsUrl": server.url.replace("http://", "ws://") + "/rtvi?conversation_id=abc+1"
        }
        fresh = http.post("/rtvi/start").json()
        assert fresh["wsUrl"].startswith(
            server.url.replace("http://", "ws://") + "/rtvi?conversation_id="
        )
        assert fresh["wsUrl"] != http.post("/rtvi/start").json()["wsUrl"]
        with_token = http.post("/rtvi/start", headers={"Authorization": "Bearer t0k"}).json()
        assert with_token["token"] == "t0k"
        bad = http.post("/rtvi/start", json={"conversation_id": 5})
        assert bad.status_code == 400
        assert bad.json() == {"error": "'conversation_id' must be a string"}
        bad = http.post("/rtvi/start", content=b"{")
        assert bad.status_code == 400
        assert "not valid JSON" in bad.json()["error"]


def test_http_fallback_answers_the_same_messages_as_a_list(server: ServerProcess) -> None:
    body = {
        "conversation_id": "http-rtvi",
        "actions": [
            run("h-1", "actions", "action_lookup_order", order_id=7),
            run("h-2", "actions", "action_lookup_order", order_id="seven"),
            rtvi("describe-actions", "h-3"),
            rtvi("teleport", "h-4"),
            {"type": "action"},
            rtvi("client-message", "h-5", {"t": "action_who_am_i"}),
        ],
    }
    with server.client() as http:
        response = http.post("/rtvi/action", json=body)
    assert response.status_code == 200
    answers = response.json()
    assert [(a["type"], a.get("id")) for a in answers] == [
        ("action-response", "h-1"),
        ("error-response", "h-2"),
        ("actions-available", "h-3"),
        ("error-response", "h-4"),
        ("error", None),
        ("server-response", "h-5"),
    ]
    assert answers[0]["data"]["result"]["responses"][0]["text"] == "Order 7 has shipped."
    assert answers[3]["data"]["error"] == "Unsupported type teleport"
    assert answers[5]["data"]["d"]["responses"][0]["text"].startswith("http-rtvi: ")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"nope", "the body is not valid JSON"),
        (b"[]", "the body must be a JSON object with 'actions'"),
        (b'{"actions": {}}', "'actions' must be a list of RTVI messages"),
        (b'{"actions": [], "conversation_id": 5}', "'conversation_id' must be a string"),
    ],
)
def test_http_fallback_rejects_bad_bodies_with_400(
    server: ServerProcess, body: bytes, error: str
) -> None:
    with server.client() as http:
        response = http.post(
            "/rtvi/action", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert error in response.json()["error"]


def test_rtvi_is_not_mounted_without_flows(server_factory: Any) -> None:
    plain = server_factory("--actions", "tests.channels.channel_actions", "--quiet")
    with plain.client() as http:
        assert http.post("/rtvi/action", json={"actions": []}).status_code == 404
        assert http.post("/webhooks/voice", json={}).status_code == 404


def test_unknown_voice_start_flow_stops_the_server_with_a_clear_error(tmp_path: Any) -> None:
    from tests.channels.conftest import SERVER_ARGS

    process = ServerProcess([*SERVER_ARGS, "--voice-start-flow", "no_such_flow"])
    with pytest.raises(RuntimeError) as failure:
        process.start()
    process.close()
    assert "voice.start_flow: there is no flow named 'no_such_flow'" in str(failure.value)
    assert "Traceback" not in str(failure.value)


def test_http_fallback_id_is_echoed_even_for_failures(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        answers = http.post(
            "/rtvi/action", json={"actions": [run("x-9", "actions", "action_explode")]}
        ).json()
    assert answers == [
        {
            "label": "rtvi-ai",
            "type": "error-response",
            "id": "x-9",
            "data": {"error": "An exception occurred while running action 'action_explode'."},
        }
    ]


@pytest.fixture(scope="module")
def auth_server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory(*SERVER_ARGS, "--auth-token", "rtvi-s3cret")


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("&token=rtvi-s3cret", {}),
        ("", {"X-API-TOKEN": "rtvi-s3cret"}),
        ("", {"Authorization": "Bearer rtvi-s3cret"}),
    ],
)
async def test_socket_auth_by_query_or_header(
    auth_server: ServerProcess, query: str, headers: dict[str, str]
) -> None:
    url = auth_server.url.replace("http://", "ws://") + f"/rtvi?conversation_id=a{query}"
    async with websockets.connect(url, additional_headers=headers, open_timeout=TIMEOUT) as ws:
        answer = await ask(ws, rtvi("client-ready", "auth-1", {"version": "2.1.0"}))
        assert answer["type"] == "bot-ready"


async def test_socket_without_the_token_is_refused(auth_server: ServerProcess) -> None:
    url = auth_server.url.replace("http://", "ws://") + "/rtvi?conversation_id=a&token=wrong"
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, open_timeout=TIMEOUT):
            pass
    assert refused.value.response.status_code == 401
    with auth_server.client() as http:
        assert http.post("/rtvi/start").status_code == 401
