"""gRPC differential: rasa-sdk's gRPC server (`python -m rasa_sdk --grpc`) and ours
(`action-server run --grpc`) answer the same calls identically.

Both load the same actions (tests/compat/rasa_sdk_actions, renamed for ours) and are called
through the stubs generated from our proto, so this also proves the two protos are the same on
the wire. A call is compared on status code, details and the response message as JSON; Struct
keys are compared sorted, because a protobuf map has no order on the wire. The corpus runs in
order against fresh servers (the domain cache makes calls depend on earlier ones).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.json_format import MessageToDict, ParseDict

from action_server.grpc_py import action_webhook_pb2 as pb
from action_server.grpc_py import action_webhook_pb2_grpc as pb_grpc
from tests.compat.conftest import ACTIONS_PACKAGE, COMPAT_DIR
from tests.compat.test_webhook import _DROP, call
from tests.helpers import HOST, GrpcServer

pytestmark = pytest.mark.compat

# rasa-sdk binds [::] and has no host option: the harness runs its real entry point with the
# bind address swapped for loopback, as SANIC_HOST does for its HTTP server.
RASA_SDK_GRPC_MAIN = """
import sys
import rasa_sdk.grpc_server as grpc_server

def _loopback_port(server, port, *_ignored):
    server.add_insecure_port(f"127.0.0.1:{port}")

grpc_server._initialise_port = _loopback_port
from rasa_sdk.__main__ import main
sys.argv = ["rasa_sdk", *sys.argv[1:]]
main()
"""


def _started(server: GrpcServer) -> Iterator[GrpcServer]:
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def sdk_grpc(
    rasa_sdk_python: Path, actions_roots: tuple[Path, Path], grpc_logs: Path
) -> Iterator[GrpcServer]:
    command = [str(rasa_sdk_python), "-c", RASA_SDK_GRPC_MAIN, "--grpc"]
    command += ["--actions", ACTIONS_PACKAGE]
    env = {"PYTHONPATH": str(actions_roots[0])}
    yield from _started(GrpcServer(command, env, actions_roots[0], grpc_logs / "sdk.log"))


@pytest.fixture(scope="module")
def our_grpc(actions_roots: tuple[Path, Path], grpc_logs: Path) -> Iterator[GrpcServer]:
    command = [sys.executable, "-m", "action_server", "run", "--grpc", "--host", HOST]
    command += ["--actions", ACTIONS_PACKAGE]
    env = {"PYTHONPATH": os.pathsep.join([str(actions_roots[1]), str(COMPAT_DIR.parents[1])])}
    yield from _started(GrpcServer(command, env, actions_roots[1], grpc_logs / "ours.log"))


@pytest.fixture(scope="module")
def grpc_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("grpc-compat")


@dataclass(frozen=True)
class Case:
    case_id: str
    rpc: str  # Webhook, WebhookStream, Actions
    body: Any = None
    # deliberate divergence: what we answer (code name, details JSON), and why
    ours: tuple[str, dict[str, Any]] | None = None
    why: str = ""


CORPUS: list[Case] = [
    Case("actions", "Actions"),
    Case("missing_domain_before_any", "Webhook", call("action_inspect", domain=_DROP)),
    Case("success", "Webhook", call("action_greet")),
    Case("domain_with_digest", "Webhook", call("action_inspect", domain_digest="d1")),
    Case("digest_reuse", "Webhook", call("action_inspect", domain=_DROP, domain_digest="d1")),
    Case("unknown_digest", "Webhook", call("action_inspect", domain=_DROP, domain_digest="x")),
    Case("followup", "Webhook", call("action_followup")),
    Case("reminder", "Webhook", call("action_reminder")),
    Case("returns_none", "Webhook", call("action_nothing")),
    Case("streamed_on_unary", "Webhook", call("action_stream")),
    Case("invalid_events_dropped", "Webhook", call("action_drops_invalid_events")),
    Case(
        "form_validation",
        "Webhook",
        call("validate_booking_form", trailing=(("city", "berlin"), ("people", "4"))),
    ),
    Case(
        "form_rejects",
        "Webhook",
        call("validate_booking_form", trailing=(("city", "Atlantis"),)),
    ),
    Case("unknown_action", "Webhook", call("action_does_not_exist")),
    Case("no_version", "Webhook", call("action_followup", version=_DROP)),
    Case("rejection", "Webhook", call("action_reject")),
    Case("rejection_with_message", "Webhook", call("action_reject_with_message")),
    Case("no_next_action", "Webhook", call("action_greet", next_action=_DROP)),
    Case(
        "action_exception",
        "Webhook",
        call("action_fail"),
        ours=(
            "UNKNOWN",
            {
                "action_name": "action_fail",
                "message": "An exception occurred while running action 'action_fail'.",
            },
        ),
        why="rasa-sdk lets the exception escape, so gRPC answers UNKNOWN with "
        "'Unexpected <class ...>: <exception text>'; we keep the status, log the exception and "
        "send rasa-sdk's ActionExecutionFailed JSON without its text",
    ),
    Case(
        "missing_tracker",
        "Webhook",
        call("action_greet", tracker=_DROP),
        ours=(
            "INVALID_ARGUMENT",
            {
                "action_name": "action_greet",
                "message": "The call of action 'action_greet' has no 'tracker' object.",
            },
        ),
        why="rasa-sdk raises KeyError('tracker'), which gRPC answers as UNKNOWN with the text",
    ),
    Case("stream_streaming_action", "WebhookStream", call("action_stream")),
    Case("stream_plain_action", "WebhookStream", call("action_greet")),
    Case("stream_unknown_action", "WebhookStream", call("action_does_not_exist")),
    Case("stream_rejection", "WebhookStream", call("action_reject")),
    Case(
        "stream_action_exception",
        "WebhookStream",
        call("action_fail"),
        ours=(
            "UNKNOWN",
            {
                "action_name": "action_fail",
                "message": "An exception occurred while running action 'action_fail'.",
            },
        ),
        why="rasa-sdk answers INTERNAL with the exception text as details and in the error "
        "event; we answer as for the unary call and the error event carries our sentence",
    ),
]


def _request(body: Any) -> pb.WebhookRequest:
    return ParseDict(body, pb.WebhookRequest(), ignore_unknown_fields=True)


def _json(message: Any) -> Any:
    return MessageToDict(message, preserving_proto_field_name=True)


def _outcome(stub: pb_grpc.ActionServiceStub, case: Case) -> dict[str, Any]:
    try:
        if case.rpc == "Actions":
            answer = _json(stub.Actions(pb.ActionsRequest(), timeout=30))
            return {"code": "OK", "actions": sorted(a["name"] for a in answer["actions"])}
        if case.rpc == "Webhook":
            return {"code": "OK", "response": _json(stub.Webhook(_request(case.body), timeout=30))}
        events = []
        ids: dict[str, str] = {}
        stream = stub.WebhookStream(_request(case.body), timeout=30)
        try:
            for event in stream:
                item = _json(event)
                for part in item.values():
                    if isinstance(part, dict) and "response_id" in part:
                        # random per run: compare which events share an id, not the id
                        part["response_id"] = ids.setdefault(part["response_id"], f"id{len(ids)}")
                events.append(item)
        except grpc.RpcError as error:
            return {"events": events, "code": error.code().name, "details": error.details()}
        return {"events": events, "code": "OK"}
    except grpc.RpcError as error:
        return {"code": error.code().name, "details": error.details()}


def _text(outcome: dict[str, Any]) -> str:
    details = outcome.get("details")
    if isinstance(details, str) and details.startswith("{"):
        outcome = {**outcome, "details": json.loads(details)}
    return json.dumps(outcome, sort_keys=True)


@pytest.fixture(scope="module")
def outcomes(sdk_grpc: GrpcServer, our_grpc: GrpcServer) -> dict[str, tuple[str, str]]:
    results = {}
    with (
        grpc.insecure_channel(sdk_grpc.address) as sdk_channel,
        grpc.insecure_channel(our_grpc.address) as our_channel,
    ):
        sdk, ours = pb_grpc.ActionServiceStub(sdk_channel), pb_grpc.ActionServiceStub(our_channel)
        for case in CORPUS:
            results[case.case_id] = (_text(_outcome(sdk, case)), _text(_outcome(ours, case)))
    return results


@pytest.mark.parametrize("case", [c for c in CORPUS if c.ours is None], ids=lambda c: c.case_id)
def test_grpc_answers_exactly_like_rasa_sdk(
    outcomes: dict[str, tuple[str, str]], case: Case
) -> None:
    sdk, ours = outcomes[case.case_id]
    assert ours == sdk


@pytest.mark.parametrize("case", [c for c in CORPUS if c.ours], ids=lambda c: c.case_id)
def test_grpc_deliberately_differs_from_rasa_sdk(
    outcomes: dict[str, tuple[str, str]], case: Case
) -> None:
    assert case.ours is not None and case.why
    sdk, ours = outcomes[case.case_id]
    code, details = case.ours
    got = json.loads(ours)
    assert (got["code"], got["details"]) == (code, details)
    for event in got.get("events", []):  # a stream's error event: our sentence, no echo
        assert event == {
            "error": {"action_name": details["action_name"], "message": details["message"]}
        }
    assert ours != sdk, f"rasa-sdk now answers like us; compare exactly instead ({case.why})"


def test_the_corpus_reaches_every_outcome(outcomes: dict[str, tuple[str, str]]) -> None:
    """Guards against two servers that agree because both fail the same way."""
    sdk = {case_id: json.loads(pair[0]) for case_id, pair in outcomes.items()}
    assert sdk["success"]["code"] == "OK" and sdk["success"]["response"]["events"]
    assert sdk["missing_domain_before_any"]["details"]["resource_type"] == "DOMAIN"
    assert sdk["unknown_action"]["details"]["resource_type"] == "ACTION"
    assert sdk["rejection"]["code"] == "INTERNAL"
    kinds = [next(iter(e)) for e in sdk["stream_streaming_action"]["events"]]
    assert kinds == ["chunk_start", "chunk", "chunk", "chunk", "chunk_end", "final_result"]


def test_our_proto_is_rasa_sdks_proto(rasa_sdk_python: Path) -> None:
    """Same package, services, methods, messages, field names, numbers, types and labels."""

    def describe(python: str, module: str) -> Any:
        script = (
            "import json, sys\n"
            f"from {module} import action_webhook_pb2 as m\n"
            "from google.protobuf import descriptor_pb2\n"
            "p = descriptor_pb2.FileDescriptorProto(); m.DESCRIPTOR.CopyToProto(p)\n"
            "p.ClearField('name')\n"
            "from google.protobuf.json_format import MessageToDict\n"
            "print(json.dumps(MessageToDict(p), sort_keys=True))\n"
        )
        done = subprocess.run(
            [python, "-c", script], capture_output=True, text=True, timeout=60, check=True
        )
        return json.loads(done.stdout)

    assert describe(sys.executable, "action_server.grpc_py") == describe(
        str(rasa_sdk_python), "rasa_sdk.grpc_py"
    )
