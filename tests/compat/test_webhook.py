"""Webhook differential: the same HTTP calls to rasa-sdk and to our server, same answers.

Both servers load the same actions (tests/compat/rasa_sdk_actions, renamed for ours). The
corpus runs in order against fresh servers, because the domain cache makes calls depend on
earlier ones. A call is compared on status and JSON body text (key order included), except
where rasa-sdk's behaviour is arguably broken; there we assert our documented answer and say
what rasa-sdk does.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.compat.conftest import RasaSdkServer
from tests.helpers import ServerProcess

pytestmark = pytest.mark.compat

DOMAIN: dict[str, Any] = {
    "slots": {"city": {"type": "text"}, "people": {"type": "float"}},
    "responses": {"utter_menu": [{"text": "Menu"}], "utter_unknown_city": [{"text": "?"}]},
    "forms": {"booking_form": {"required_slots": ["city", "people"]}},
}


def call(action: str, *, trailing: tuple[tuple[str, Any], ...] = (), **extra: Any) -> Any:
    """An action call as Rasa 3 sends it; `extra` overrides or adds top-level keys."""
    tracker = {
        "sender_id": "compat-user",
        "slots": {"name": "Ann", **dict(trailing)},
        "latest_message": {
            "intent": {"name": "inform", "confidence": 0.9},
            "intent_ranking": [{"name": "inform", "confidence": 0.9}],
            "entities": [],
            "text": "hi",
        },
        "events": [
            {"event": "action", "timestamp": 1.0, "name": "action_listen"},
            {"event": "user", "timestamp": 2.0, "text": "hi", "input_channel": "rest"},
            *[{"event": "slot", "timestamp": 3.0, "name": n, "value": v} for n, v in trailing],
        ],
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": "booking_form"},
        "latest_action_name": "action_listen",
    }
    body = {
        "next_action": action,
        "sender_id": "compat-user",
        "tracker": tracker,
        "domain": DOMAIN,
        "version": "3.10.0",
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not _DROP}


_DROP: Any = object()


@dataclass(frozen=True)
class Call:
    """One request of the corpus; `ours` set means a deliberate divergence."""

    case_id: str
    method: str
    path: str
    body: Any = None
    raw: bytes | None = None
    # deliberate divergence: our exact (status, body), and what rasa-sdk does instead
    ours: tuple[int, Any] | None = None
    why: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    # same status and same list items, order not compared (deliberate, see `why`)
    unordered: bool = False


CORPUS: list[Call] = [
    Call("health", "GET", "/health"),
    Call(
        "actions_list",
        "GET",
        "/actions",
        unordered=True,
        why="rasa-sdk lists actions in class-hierarchy order (all direct Action subclasses, "
        "then validation actions); we list them in the order they are defined in the package",
    ),
    # rasa-sdk 449s any call without a domain before it has cached one
    Call("missing_domain_before_any", "POST", "/webhook", call("action_inspect", domain=_DROP)),
    Call("success_events_and_responses", "POST", "/webhook", call("action_greet")),
    Call("domain_sent_with_digest", "POST", "/webhook", call("action_inspect", domain_digest="d1")),
    Call(
        "domain_digest_reuse",
        "POST",
        "/webhook",
        call("action_inspect", domain=_DROP, domain_digest="d1"),
    ),
    Call(
        "missing_domain_unknown_digest",
        "POST",
        "/webhook",
        call("action_inspect", domain=_DROP, domain_digest="never-sent"),
    ),
    Call("followup_action", "POST", "/webhook", call("action_followup")),
    Call("reminder_event", "POST", "/webhook", call("action_reminder")),
    Call("action_returns_none", "POST", "/webhook", call("action_nothing")),
    Call("streamed_responses", "POST", "/webhook", call("action_stream")),
    Call("invalid_events_dropped", "POST", "/webhook", call("action_drops_invalid_events")),
    Call(
        "form_validation",
        "POST",
        "/webhook",
        call("validate_booking_form", trailing=(("city", "berlin"), ("people", "4"))),
    ),
    Call(
        "form_validation_rejects",
        "POST",
        "/webhook",
        call("validate_booking_form", trailing=(("city", "Atlantis"),)),
    ),
    Call("unknown_action_404", "POST", "/webhook", call("action_does_not_exist")),
    Call("no_version_field", "POST", "/webhook", call("action_followup", version=_DROP)),
    Call(
        "deflate_compressed_call",
        "POST",
        "/webhook",
        raw=zlib.compress(json.dumps(call("action_greet")).encode()),
        headers={"content-type": "application/json", "content-encoding": "deflate"},
    ),
    Call("rejection_400", "POST", "/webhook", call("action_reject")),
    Call("rejection_with_message_400", "POST", "/webhook", call("action_reject_with_message")),
    Call(
        "action_exception_500",
        "POST",
        "/webhook",
        call("action_fail"),
        ours=(
            500,
            {
                "error": "An exception occurred while running action 'action_fail'.",
                "action_name": "action_fail",
            },
        ),
        why="rasa-sdk answers {'error': str(exception), 'request_body': <the whole call>}: it "
        "leaks the exception text and echoes the tracker; we log both and name the action",
    ),
    Call(
        "malformed_json",
        "POST",
        "/webhook",
        raw=b'{"next_action": "action_greet",',
        headers={"content-type": "application/json"},
        ours=(
            400,
            {
                "error": "Malformed JSON in request body: unexpected end of data: line 1 column 32 (char 31)"
            },
        ),
        why="same status; rasa-sdk passes on Sanic's generic {'description': 'Bad Request',"
        " 'status': 400, 'message': 'Failed when parsing body as json'}, our one error key"
        " says where the JSON broke",
    ),
    Call(
        "body_is_null",
        "POST",
        "/webhook",
        raw=b"null",
        headers={"content-type": "application/json"},
        ours=(400, {"error": "Request body must be a JSON object, got null"}),
        why="same status as rasa-sdk ({'error': 'Invalid body request'}); our text says what"
        " was wrong",
    ),
    Call(
        "missing_tracker",
        "POST",
        "/webhook",
        call("action_greet", tracker=_DROP),
        ours=(400, {"error": "Missing field 'tracker'"}),
        why="rasa-sdk raises KeyError('tracker') and answers 500 echoing the request body",
    ),
    Call(
        "missing_next_action",
        "POST",
        "/webhook",
        call("action_greet", next_action=_DROP),
        ours=(400, {"error": "Missing field 'next_action': the name of the action to run"}),
        why="rasa-sdk answers 200 with the body `null`, which Rasa cannot use",
    ),
]


@dataclass(frozen=True)
class Answer:
    status: int
    text: str  # the body re-serialised without sorting: key order is compared too

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        try:
            return cls(response.status_code, json.dumps(response.json()))
        except ValueError:
            return cls(response.status_code, "<not JSON> " + response.text[:200])


def _send(client: httpx.Client, item: Call) -> Answer:
    if item.raw is not None:
        response = client.request(item.method, item.path, content=item.raw, headers=item.headers)
    elif item.body is not None:
        response = client.request(item.method, item.path, json=item.body, headers=item.headers)
    else:
        response = client.request(item.method, item.path, headers=item.headers)
    return Answer.of(response)


@pytest.fixture(scope="module")
def answers(
    rasa_sdk_server: RasaSdkServer, our_server: ServerProcess
) -> dict[str, tuple[Answer, Answer]]:
    """case id -> (rasa-sdk's answer, ours), the corpus sent in order to both servers."""
    results: dict[str, tuple[Answer, Answer]] = {}
    with (
        httpx.Client(base_url=rasa_sdk_server.url, timeout=30.0) as sdk,
        httpx.Client(base_url=our_server.url, timeout=30.0) as ours,
    ):
        for item in CORPUS:
            results[item.case_id] = (_send(sdk, item), _send(ours, item))
    return results


@pytest.mark.parametrize("item", [c for c in CORPUS if c.ours is None], ids=lambda c: c.case_id)
def test_webhook_answers_exactly_like_rasa_sdk(
    answers: dict[str, tuple[Answer, Answer]], item: Call
) -> None:
    sdk, ours = answers[item.case_id]
    if item.unordered:
        assert item.why
        assert ours.status == sdk.status
        assert sorted(map(json.dumps, json.loads(ours.text))) == sorted(
            map(json.dumps, json.loads(sdk.text))
        )
        return
    assert ours == sdk


@pytest.mark.parametrize("item", [c for c in CORPUS if c.ours is not None], ids=lambda c: c.case_id)
def test_webhook_deliberately_differs_from_rasa_sdk(
    answers: dict[str, tuple[Answer, Answer]], item: Call
) -> None:
    assert item.ours is not None and item.why
    sdk, ours = answers[item.case_id]
    status, body = item.ours
    assert ours == Answer(status, json.dumps(body)), f"rasa-sdk: {sdk}"
    assert ours != sdk, f"rasa-sdk now answers like us; compare exactly instead ({item.why})"
