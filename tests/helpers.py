"""Run the real server as a subprocess on a free 127.0.0.1 port, for integration tests.

    server = ServerProcess(["--actions", "tests.fixtures.server_actions"]).start()
    try:
        response = httpx.get(server.url + "/health")
    finally:
        server.stop()

`ServerProcess` is also a context manager. In tests prefer the `server_factory` fixture from
tests/conftest.py, which stops every server it started when the module ends:

    @pytest.fixture(scope="module")
    def server(server_factory):
        return server_factory("--actions", "tests.fixtures.server_actions")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

__all__ = ["REPO_ROOT", "ServerProcess", "action_call", "free_port"]

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def action_call(
    action: str,
    *,
    slots: Mapping[str, Any] | None = None,
    events: Sequence[Mapping[str, Any]] = (),
    sender_id: str = "test-user",
    domain: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A minimal action call as Rasa posts it to /webhook (domain defaults to {})."""
    return {
        "next_action": action,
        "sender_id": sender_id,
        "tracker": {
            "sender_id": sender_id,
            "slots": dict(slots or {}),
            "latest_message": {},
            "events": [dict(e) for e in events],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        },
        "domain": dict(domain or {}),
        "version": "3.10.0",
        **extra,
    }


class ServerProcess:
    """`python -m action_server run --host 127.0.0.1 -p PORT *args` in its own process group.

    args: extra `run` arguments, e.g. ["--actions", "tests.fixtures.server_actions"].
    env: extra environment variables (merged over the current environment).
    cwd: working directory (default: the repository root, so `tests.*` packages import).
    https: talk TLS (pass --ssl-certificate/--ssl-keyfile in args); certificates are not verified.
    command: the words before the options; () tests that `run` is the default command.
    host: the --host to pass; None passes none (tests of SANIC_HOST), the server is still
        reached on 127.0.0.1.
    """

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        https: bool = False,
        startup_timeout: float = 30.0,
        command: Sequence[str] = ("run",),
        host: str | None = HOST,
    ) -> None:
        self.args = list(args)
        self.command = list(command)
        self.host = host
        self.env = dict(env or {})
        self.cwd = Path(cwd) if cwd is not None else REPO_ROOT
        self.scheme = "https" if https else "http"
        self.startup_timeout = startup_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the process
            prefix="action-server-", suffix=".log", delete=False
        )
        self._started_at = 0.0

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321 (no trailing slash)."""
        return f"{self.scheme}://{HOST}:{self.port}"

    @property
    def output(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def client(self, **kwargs: object) -> httpx.Client:
        """An httpx client bound to this server (TLS not verified)."""
        return httpx.Client(base_url=self.url, verify=False, timeout=30.0, **kwargs)  # type: ignore[arg-type]

    def start(self) -> ServerProcess:
        """Start and wait until GET /health answers; raise with the server output if it fails."""
        for attempt in range(3):
            self.port = free_port()
            self._spawn()
            try:
                self._wait_ready()
                return self
            except RuntimeError:
                port_taken = "address already in use" in self.output.lower()
                self.stop()
                if not port_taken or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _spawn(self) -> None:
        env = {**os.environ, **self.env}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._log.truncate(0)
        self._log.seek(0)
        command = [
            sys.executable,
            "-m",
            "action_server",
            *self.command,
            *(["--host", self.host] if self.host is not None else []),
            "-p",
            str(self.port),
            *self.args,
        ]
        self._started_at = time.monotonic()
        self.process = subprocess.Popen(
            command,
            cwd=self.cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one group: stop() reaches every worker
        )

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(verify=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"server exited with code {self.process.returncode}:\n{self.output}"
                    )
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise RuntimeError(f"server not ready after {self.startup_timeout} s:\n{self.output}")

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL to the whole group if it has not exited after `timeout` s."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            # Sanic 25.12 can spin forever on a SIGTERM that arrives within ~1 s of start-up.
            settle = 1.0 - (time.monotonic() - self._started_at)
            if settle > 0:
                time.sleep(settle)
            process.send_signal(signal.SIGTERM)  # the main process stops its own workers
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                process.wait(timeout)
        # Workers of a multi-worker server may outlive their parent by a moment.
        self._signal(signal.SIGKILL)
        return process.returncode

    def _signal(self, signum: int) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def close(self) -> None:
        """Stop the server and delete its log file."""
        self.stop()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class GrpcServer:
    """A gRPC action server process on 127.0.0.1, ready once its health service says SERVING."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        cwd: Path,
        log: Path,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        self.credentials = credentials
        self.port = free_port()
        self.address = f"{HOST}:{self.port}"
        self._log_path = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [*command, "-p", str(self.port)],
            cwd=cwd,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        with self.channel() as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"gRPC server exited:\n{self._log_path.read_text()}")
                try:
                    answer = health.Check(
                        health_pb2.HealthCheckRequest(service="ActionServer"), timeout=2.0
                    )
                    if answer.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"gRPC server not ready:\n{self._log_path.read_text()}")

    def channel(self) -> grpc.Channel:
        """A channel to the server: TLS with `credentials` when given."""
        if self.credentials is None:
            return grpc.insecure_channel(self.address)
        return grpc.secure_channel(self.address, self.credentials)

    @property
    def output(self) -> str:
        return self._log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()
