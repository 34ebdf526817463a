"""Fuzzing with Hypothesis, in a fixed budget: random and adversarial input for every route of a
real server on loopback, and random YAML for every loader.

Deterministic (`derandomize=True`, no example database) so CI sees the same inputs every run.
A bad input must get a JSON 4xx (or a normal answer), never a 5xx, a traceback or an echo of
itself beyond ~100 characters; the server log must hold no traceback afterwards, and /health
must still answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from action_server.config.safe_yaml import safe_load
from action_server.config.yaml_lines import YamlSyntaxError, load_yaml_document
from action_server.flows.yaml_loader import YamlSyntaxError as FlowsYamlError
from action_server.flows.yaml_loader import load_yaml
from tests.channels.conftest import SERVER_ARGS
from tests.channels.helpers import session
from tests.conftest import ServerFactory
from tests.helpers import ServerProcess

BUDGET = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# An error body may quote ~100 characters of input (escaped) around a sentence of its own.
MAX_ERROR_BODY = 1_000

# --- strategies ---------------------------------------------------------------------------------

ADVERSARIAL_VALUES = [
    b"1e999",
    b"-1e999",
    b"9" * 5000,
    b"[" * 3000 + b"]" * 3000,
    b'{"a":' * 1500 + b"1" + b"}" * 1500,
    b'"\xff\xfe"',
    b'"\\ud800"',
    b'"\\u0000"',
    b"NaN",
    b'"' + b"x" * 200_000 + b'"',
    b'"line\\nFORGED ERROR"',
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` three times in four, any JSON value otherwise: most inputs get past the
    first check and reach deeper code, and every check still sees wrong types."""
    return st.one_of(valid, valid, valid, json_values)


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


@st.composite
def with_adversarial(draw: st.DrawFn, value: st.SearchStrategy[Any]) -> bytes:
    """A JSON document with one value replaced by raw adversarial JSON text."""
    document = _encode(draw(value))
    raw = draw(st.sampled_from(ADVERSARIAL_VALUES))
    spots = [i for i, c in enumerate(document) if c in b":,["] or [len(document)]
    spot = draw(st.sampled_from(spots)) + 1
    # Replace the token after the spot by the adversarial value (the result may be invalid).
    end = spot
    while end < len(document) and document[end : end + 1] not in b",]}":
        end += 1
    return document[:spot] + raw + document[end:]


def _bodies(structured: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=200),
        json_values.map(_encode),
        structured.map(_encode),
        structured.map(_encode),
        with_adversarial(structured),
    )


ACTIONS = ["action_lookup_order", "action_who_am_i", "no_such_action", ""]
slash_payloads = st.builds(
    lambda name, gap, rest: f"/{name}{gap}{rest}",
    st.sampled_from(["SetSlots", "StartFlow", "CancelFlow", "restart", "agent", "media", "x"]),
    st.sampled_from(["", " ", "  \t", "\n"]),
    st.text(alphabet="(){}[]=,'\" \\:a1.-", max_size=30),
)
messages = st.one_of(st.text(max_size=60), slash_payloads)


def _valid_call(action: str, sender: str, text: str, order_id: Any, events: list[Any]) -> Any:
    return {
        "next_action": action,
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "events": events,
            "latest_message": {"text": text, "metadata": {"args": {"order_id": order_id}}},
        },
    }


# Calls that pass the wire checks, so the actions themselves get odd values.
valid_calls = st.builds(
    _valid_call,
    st.sampled_from(["action_lookup_order", "action_who_am_i"]),
    st.text(min_size=1, max_size=20),
    messages,
    st.integers(0, 10**6) | json_values,
    st.lists(st.just({"event": "slot", "name": "x", "value": 1}), max_size=3) | json_values,
)

mutated_calls = st.fixed_dictionaries(
    {
        "next_action": mostly(st.sampled_from(ACTIONS)),
        "domain": mostly(st.just({})),
        "tracker": st.fixed_dictionaries(
            {"sender_id": mostly(st.text(max_size=20))},
            optional={
                "events": mostly(
                    st.lists(
                        st.one_of(st.just({"event": "slot", "name": "x", "value": 1}), json_values),
                        max_size=4,
                    )
                ),
                "slots": mostly(st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
                "latest_message": mostly(
                    st.fixed_dictionaries(
                        {"text": messages},
                        optional={
                            "metadata": st.fixed_dictionaries(
                                {"args": mostly(st.just({"order_id": 12}))}
                            )
                        },
                    )
                ),
            },
        ),
    },
    optional={
        "version": mostly(st.text(max_size=20)),
        "domain_digest": json_values,
    },
)

action_calls = st.one_of(valid_calls, mutated_calls)

rest_messages = st.fixed_dictionaries(
    {"message": mostly(messages)},
    optional={
        "sender": mostly(st.text(min_size=1, max_size=12)),
        "metadata": mostly(st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
    },
)

EVENT_TYPES = [
    "session_start",
    "user_speak",
    "dtmf_received",
    "assistant_speak",
    "assistant_speech_ended",
    "user_input_timeout",
    "session_end",
    "nope",
]
voice_events = st.fixed_dictionaries(
    {
        "type": mostly(st.sampled_from(EVENT_TYPES)),
        "session": mostly(st.builds(session, st.sampled_from(["fz-1", "fz-2"]))),
    },
    optional={
        "text": mostly(messages),
        "digit": mostly(st.text(max_size=3)),
        "barged_in": mostly(st.booleans()),
    },
)

rtvi_messages = st.fixed_dictionaries(
    {
        "label": mostly(st.just("rtvi-ai")),
        "type": mostly(
            st.sampled_from(["action", "client-message", "describe-actions", "client-ready"])
        ),
        "id": mostly(st.text(max_size=8)),
    },
    optional={
        "data": st.fixed_dictionaries(
            {
                "service": mostly(st.sampled_from(["actions", "conversation", "tts"])),
                "action": mostly(st.sampled_from(["send_text", "say", *ACTIONS])),
            },
            optional={
                "arguments": mostly(
                    st.lists(
                        st.fixed_dictionaries(
                            {
                                "name": st.sampled_from(["text", "order_id", "x"]),
                                "value": mostly(messages),
                            }
                        ),
                        max_size=3,
                    )
                ),
                "t": st.text(max_size=20) | json_values,
                "d": json_values,
            },
        )
        | json_values,
    },
)
rtvi_bodies = st.fixed_dictionaries(
    {"actions": mostly(st.lists(rtvi_messages, max_size=3))},
    optional={"conversation_id": mostly(st.text(max_size=8))},
)

# --- the server -----------------------------------------------------------------------------------


class Probe:
    """Sends bodies and keeps the figures for the module's closing check."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.client = server.client()
        self.sent = 0
        self.statuses: dict[tuple[str, int], int] = {}

    def post(self, path: str, body: bytes) -> httpx.Response:
        self.sent += 1
        response = self.client.post(
            path, content=body, headers={"Content-Type": "application/json"}
        )
        key = (path, response.status_code)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        assert response.status_code < 500, (path, body[:300], response.status_code, response.text)
        assert "Traceback" not in response.text
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/json")
            assert isinstance(response.json(), dict)
            assert len(response.content) < MAX_ERROR_BODY, (path, body[:200], response.text[:300])
        return response


@pytest.fixture(scope="module")
def probe(server_factory: ServerFactory) -> Iterator[Probe]:
    server = server_factory(*SERVER_ARGS)
    probe = Probe(server)
    yield probe
    started = time.perf_counter()
    health = probe.client.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert time.perf_counter() - started < 2
    probe.client.close()
    assert "Traceback" not in server.output, server.output[-3000:]
    assert probe.sent >= 5 * 200
    # Not only rejected at the door: every route also answered some inputs normally.
    for path in ("/webhook", "/webhooks/rest/webhook", "/webhooks/voice", "/rtvi/action"):
        assert any(p == path and s < 300 for p, s in probe.statuses), probe.statuses


@BUDGET
@given(body=_bodies(action_calls))
def test_fuzz_webhook(probe: Probe, body: bytes) -> None:
    probe.post("/webhook", body)


@BUDGET
@given(body=_bodies(rest_messages))
def test_fuzz_rest_channel(probe: Probe, body: bytes) -> None:
    probe.post("/webhooks/rest/webhook", body)


@BUDGET
@given(body=_bodies(voice_events))
def test_fuzz_voice_channel(probe: Probe, body: bytes) -> None:
    probe.post("/webhooks/voice", body)


@BUDGET
@given(body=_bodies(rtvi_bodies))
def test_fuzz_rtvi_channel(probe: Probe, body: bytes) -> None:
    probe.post("/rtvi/action", body)


def _socket_answers(ws: ClientConnection, body: bytes, expected: int) -> list[dict[str, Any]]:
    """Send one text message; collect what comes back within a short quiet period."""
    ws.send(body.decode("utf-8", "replace"))
    answers: list[dict[str, Any]] = []
    while True:
        try:
            raw = ws.recv(timeout=2 if len(answers) < expected else 0.05)
        except TimeoutError:
            return answers
        answers.append(json.loads(raw))


@pytest.fixture(scope="module")
def sockets(probe: Probe) -> Iterator[dict[str, ClientConnection]]:
    url = probe.server.url.replace("http", "ws")
    with (
        connect(f"{url}/webhooks/voice/ws") as voice,
        connect(f"{url}/rtvi?conversation_id=fuzz") as rtvi,
    ):
        yield {"voice": voice, "rtvi": rtvi}


@BUDGET
@given(
    body=_bodies(voice_events) | _bodies(rtvi_messages), channel=st.sampled_from(["voice", "rtvi"])
)
def test_fuzz_websockets_answer_every_message_and_stay_open(
    probe: Probe, sockets: dict[str, ClientConnection], body: bytes, channel: str
) -> None:
    probe.sent += 1
    # RTVI answers every message; voice answers errors, and events only when there is an action.
    answers = _socket_answers(sockets[channel], body, expected=1 if channel == "rtvi" else 0)
    for answer in answers:
        error = answer.get("error") or (answer.get("data") or {}).get("error")
        if error is not None:
            assert "Traceback" not in error and len(error) < MAX_ERROR_BODY, error


# --- YAML -------------------------------------------------------------------------------------------

yaml_fragments = st.sampled_from(
    [
        "&a ",
        "*a ",
        "&b [*a, *a, *a]",
        "<<: *a\n",
        "[",
        "]",
        "{",
        "}",
        ": ",
        "- ",
        "\n  ",
        "\n",
        "'",
        '"',
        "#",
        "!!python/object:os.system ",
        "\x00",
        "\x1b",
        "\t",
        "? ",
        "---\n",
        "%YAML 1.1\n",
        "\ufeff",
    ]
)


@st.composite
def yaml_documents(draw: st.DrawFn) -> str:
    base = yaml.safe_dump(draw(json_values), allow_unicode=True)
    pieces = draw(st.lists(st.tuples(st.integers(0, len(base)), yaml_fragments), max_size=6))
    for at, fragment in sorted(pieces, reverse=True):
        base = base[:at] + fragment + base[at:]
    return base


@settings(BUDGET, max_examples=400)
@given(text=yaml_documents() | st.text(max_size=80))
def test_fuzz_yaml_loaders(text: str) -> None:
    started = time.perf_counter()
    for load, errors in (
        (lambda: load_yaml_document(text, "f.yml"), YamlSyntaxError),
        (lambda: load_yaml(text, "f.yml"), FlowsYamlError),
    ):
        try:
            load()
        except errors as exc:
            assert str(exc).startswith("f.yml:"), str(exc)
    try:
        safe_load(text)
    except yaml.YAMLError:
        pass
    assert time.perf_counter() - started < 2
