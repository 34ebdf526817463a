"""Tracing: the spans of an instrumented executor match rasa-sdk's (names, attributes,
parents), captured with an in-memory exporter in both; the HTTP and gRPC servers export
them to a real OTLP receiver on loopback, continuing the caller's trace."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from action_server.grpc_py import action_webhook_pb2 as pb
from action_server.grpc_py import action_webhook_pb2_grpc as pb_grpc
from tests.compat.conftest import COMPAT_DIR, renamed_copy
from tests.helpers import HOST, REPO_ROOT, GrpcServer, ServerProcess, action_call

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.mark.compat
def test_spans_match_rasa_sdk(rasa_sdk_python: Path, tmp_path: Path) -> None:
    source = COMPAT_DIR / "tracing_cases.py"
    ours = renamed_copy(source, tmp_path / "tracing_cases.py")

    def spans(python: Path | str, script: Path) -> Any:
        done = subprocess.run(
            [str(python), str(script)], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    sdk = spans(rasa_sdk_python, source)
    assert [s["name"] for s in sdk][:2] == [
        "ActionExecutor._create_api_response",
        "ActionExecutor.run",
    ]
    assert spans(sys.executable, ours) == sdk


class OtlpReceiver(trace_service_pb2_grpc.TraceServiceServicer):
    """A minimal OTLP/gRPC trace collector: keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 (the RPC's name)
        with self._lock:
            for resource_spans in request.resource_spans:
                service = {
                    a.key: a.value.string_value for a in resource_spans.resource.attributes
                }.get("service.name")
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append(
                            {
                                "name": span.name,
                                "trace_id": span.trace_id.hex(),
                                "parent": span.parent_span_id.hex(),
                                "service": service,
                                "attributes": {
                                    a.key: getattr(a.value, a.value.WhichOneof("value"))
                                    for a in span.attributes
                                },
                            }
                        )
        return trace_service_pb2.ExportTraceServiceResponse()

    def wait_for(self, name: str, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [s for s in self.spans if s["name"] == name]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no span {name!r} received; got {[s['name'] for s in self.spans]}")


@pytest.fixture
def receiver() -> Iterator[tuple[OtlpReceiver, int]]:
    collector = OtlpReceiver()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)
    port = server.add_insecure_port(f"{HOST}:0")
    server.start()
    try:
        yield collector, port
    finally:
        server.stop(0)


def _endpoints(tmp_path: Path, port: int, kind: str = "otlp") -> Path:
    path = tmp_path / "endpoints.yml"
    if kind == "otlp":
        section = f"  type: otlp\n  endpoint: {HOST}:{port}\n  insecure: true\n"
    else:
        section = f"  type: jaeger\n  host: {HOST}\n  port: {port}\n"
    path.write_text(f"tracing:\n{section}  service_name: compat-actions\n")
    return path


# Export batches every 50 ms instead of every 5 s.
FAST_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "50"}


def test_http_server_exports_spans_to_an_otlp_receiver(
    receiver: tuple[OtlpReceiver, int], tmp_path: Path
) -> None:
    collector, port = receiver
    endpoints = _endpoints(tmp_path, port)
    args = ["--actions", "tests.fixtures.server_actions", "--endpoints", str(endpoints)]
    with ServerProcess(args, env=FAST_EXPORT) as server:
        answer = httpx.post(
            f"{server.url}/webhook",
            json=action_call("action_greet", sender_id="traced-user"),
            headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
            timeout=10,
        )
        assert answer.status_code == 200
        (webhook,) = collector.wait_for("create_app.webhook")
        (run,) = collector.wait_for("ActionExecutor.run")
    assert webhook["trace_id"] == TRACE_ID and webhook["parent"] == PARENT_ID
    assert webhook["service"] == "compat-actions"
    assert webhook["attributes"]["next_action"] == "action_greet"
    assert webhook["attributes"]["sender_id"] == "traced-user"
    assert webhook["attributes"]["http.route"] == "/webhook"
    assert run["trace_id"] == TRACE_ID
    assert run["attributes"] == {"sender_id": "traced-user", "action_name": "action_greet"}


def test_grpc_server_exports_spans_with_the_jaeger_type(
    receiver: tuple[OtlpReceiver, int], tmp_path: Path
) -> None:
    collector, port = receiver
    endpoints = _endpoints(tmp_path, port, kind="jaeger")
    command = [sys.executable, "-m", "action_server", "run", "--grpc", "--host", HOST]
    command += ["--actions", "tests.fixtures.server_actions", "--endpoints", str(endpoints)]
    env = {**FAST_EXPORT, "PYTHONPATH": str(REPO_ROOT)}
    server = GrpcServer(command, env, REPO_ROOT, tmp_path / "grpc.log")
    try:
        server.wait_ready()
        with grpc.insecure_channel(server.address) as channel:
            stub = pb_grpc.ActionServiceStub(channel)
            request = pb.WebhookRequest(
                next_action="action_greet",
                sender_id="grpc-user",
                tracker=pb.Tracker(sender_id="grpc-user"),
                domain=pb.Domain(),
                version="3.10.0",
            )
            request.domain.slots.update({"x": {}})
            metadata = (("traceparent", f"00-{TRACE_ID}-{PARENT_ID}-01"),)
            stub.Webhook(request, metadata=metadata, timeout=10)
        (webhook,) = collector.wait_for("GRPCActionServerWebhook.Webhook")
        (run,) = collector.wait_for("ActionExecutor.run")
    finally:
        server.stop()
    assert webhook["trace_id"] == TRACE_ID and webhook["parent"] == PARENT_ID
    assert webhook["attributes"]["grpc.method"] == "Webhook"
    assert run["attributes"]["action_name"] == "action_greet"


def test_no_tracing_section_means_no_export(
    receiver: tuple[OtlpReceiver, int], tmp_path: Path
) -> None:
    collector, _port = receiver
    (tmp_path / "endpoints.yml").write_text("tracker_store:\n  type: InMemoryTrackerStore\n")
    args = [
        "--actions",
        "tests.fixtures.server_actions",
        "--endpoints",
        str(tmp_path / "endpoints.yml"),
    ]
    with ServerProcess(args, env=FAST_EXPORT) as server:
        answer = httpx.post(f"{server.url}/webhook", json=action_call("action_greet"), timeout=10)
        assert answer.status_code == 200
        time.sleep(0.5)
    assert collector.spans == []
