"""`action-server run --grpc`: TLS and mutual TLS, barge-in on a streamed response, and a
broken actions package, each through a real server process or a real gRPC client."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.json_format import MessageToDict

from action_server import Action
from action_server.events import SlotSet
from action_server.executor import ActionExecutor
from action_server.grpc_py import action_webhook_pb2 as pb
from action_server.grpc_py import action_webhook_pb2_grpc as pb_grpc
from action_server.grpc_server import create_grpc_server
from tests.helpers import HOST, REPO_ROOT, GrpcServer

ACTIONS = "tests.fixtures.server_actions"


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed; cannot make a test certificate")
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-days", "1", "-nodes",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    directory = tmp_path_factory.mktemp("grpc-tls")
    return {name: _self_signed(directory, name) for name in ("server", "client")}


def _server(
    tmp_path: Path, extra: list[str], credentials: grpc.ChannelCredentials | None
) -> Iterator[GrpcServer]:
    command = [sys.executable, "-m", "action_server", "run", "--grpc", "--host", HOST]
    command += ["--actions", ACTIONS, *extra]
    server = GrpcServer(
        command, {"PYTHONPATH": str(REPO_ROOT)}, REPO_ROOT, tmp_path / "grpc.log", credentials
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _actions(channel: grpc.Channel) -> list[str]:
    answer = pb_grpc.ActionServiceStub(channel).Actions(pb.ActionsRequest(), timeout=10)
    return [a["name"] for a in MessageToDict(answer)["actions"]]


def test_tls(certificates: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    cert, key = certificates["server"]
    trusted = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    args = ["--ssl-certificate", str(cert), "--ssl-keyfile", str(key)]
    for server in _server(tmp_path, args, trusted):
        with server.channel() as channel:
            assert "action_greet" in _actions(channel)
        with grpc.insecure_channel(server.address) as plain, pytest.raises(grpc.RpcError):
            _actions(plain)


def test_mutual_tls_requires_a_client_certificate_signed_by_the_ca(
    certificates: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    cert, key = certificates["server"]
    client_cert, client_key = certificates["client"]
    with_client = grpc.ssl_channel_credentials(
        root_certificates=cert.read_bytes(),
        private_key=client_key.read_bytes(),
        certificate_chain=client_cert.read_bytes(),
    )
    args = ["--ssl-certificate", str(cert), "--ssl-keyfile", str(key)]
    args += ["--ssl-ca-file", str(client_cert)]
    for server in _server(tmp_path, args, with_client):
        with server.channel() as channel:
            assert "action_greet" in _actions(channel)
        anonymous = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with (
            grpc.secure_channel(server.address, anonymous) as channel,
            pytest.raises(grpc.RpcError),
        ):
            _actions(channel)


def test_a_broken_actions_package_exits_with_file_and_line(tmp_path: Path) -> None:
    package = tmp_path / "broken_actions"
    package.mkdir()
    (package / "__init__.py").write_text("x = (\n")
    done = subprocess.run(
        [sys.executable, "-m", "action_server", "run", "--grpc", "--host", HOST, "-p", "0"]
        + ["--actions", "broken_actions"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "broken_actions" in done.stderr and "line" in done.stderr
    assert "Traceback" not in done.stderr


class ActionSlowStream(Action):
    """Streams up to 50 chunks, one every 20 ms, and stops early when the user barges in."""

    def name(self) -> str:
        return "action_slow_stream"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        await dispatcher.stream_start()
        for number in range(50):
            if dispatcher.is_streaming_cancelled:
                break
            await dispatcher.stream_chunk(text=f"word{number} ")
            await asyncio.sleep(0.02)
        await dispatcher.stream_end()
        return [SlotSet("interrupted", dispatcher.is_streaming_cancelled)]


async def test_barge_in_stops_the_stream_and_still_sends_the_result() -> None:
    executor = ActionExecutor()
    executor.register_action(ActionSlowStream)
    server, port = create_grpc_server(executor, 0, host=HOST)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"{HOST}:{port}") as channel:
            stub = pb_grpc.ActionServiceStub(channel)
            request = pb.WebhookRequest(
                next_action="action_slow_stream",
                tracker=pb.Tracker(sender_id="caller"),
                domain=pb.Domain(),
            )
            request.domain.slots.update({"interrupted": {}})
            kinds: list[str] = []
            final: dict[str, Any] = {}
            async for event in stub.WebhookStream(request, timeout=30):
                kind = event.WhichOneof("event")
                kinds.append(kind)
                if kind == "chunk" and kinds.count("chunk") == 3:
                    await stub.AckStreamChunks(
                        pb.StreamChunkAck(response_id=event.chunk.response_id), timeout=5
                    )
                if kind == "final_result":
                    final = MessageToDict(event.final_result)
    finally:
        await server.stop(0)
        executor.close()
    assert kinds[0] == "chunk_start" and kinds[-1] == "final_result"
    assert 3 <= kinds.count("chunk") < 10  # later chunks were dropped
    assert final["events"] == [
        {"event": "slot", "name": "interrupted", "value": True, "timestamp": None}
    ]


def _big_request(size: int) -> pb.WebhookRequest:
    request = pb.WebhookRequest(
        next_action="action_greet", tracker=pb.Tracker(sender_id="big"), domain=pb.Domain()
    )
    request.domain.slots.update({"x": {}})
    event = request.tracker.events.add()
    event.update({"event": "user", "text": "x" * size})
    return request


def test_request_size_is_bounded_by_max_body_size(tmp_path: Path) -> None:
    for server in _server(tmp_path, ["--max-body-size", "8MB"], None):
        with server.channel() as channel:
            stub = pb_grpc.ActionServiceStub(channel)
            answer = stub.Webhook(_big_request(6_000_000), timeout=30)  # above gRPC's 4 MB
            assert MessageToDict(answer)["responses"]
            with pytest.raises(grpc.RpcError) as refused:
                stub.Webhook(_big_request(9_000_000), timeout=30)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
