"""A real action server subprocess serving ``tests.clients.client_actions`` on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = "tests.clients.client_actions"
TOKEN = "s3cret"

# Until `python -m action_server run` exists everywhere, start the app the way the CLI does.
_LAUNCHER = """
import sys
from action_server.executor import ActionExecutor
from action_server.server.app import create_app
from action_server.server.settings import ServerSettings

actions, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3] or None
settings = ServerSettings(actions=actions, host="127.0.0.1", port=port, auth_token=token,
                          endpoints=None, log_level="WARNING")
executor = ActionExecutor()
executor.register_package(actions)
app = create_app(settings, executor)
app.run(host="127.0.0.1", port=port, single_process=True, access_log=False, motd=False)
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int
    token: str | None
    log: IO[bytes]

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def start_server(token: str | None = None, port: int | None = None) -> RunningServer:
    port = port or free_port()
    if (ROOT / "action_server" / "__main__.py").exists():
        command = [sys.executable, "-m", "action_server", "run", "--actions", ACTIONS]
        command += ["-p", str(port), "--host", "127.0.0.1"]
        if token:
            command += ["--auth-token", token]
    else:
        command = [sys.executable, "-c", _LAUNCHER, ACTIONS, str(port), token or ""]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # A file, not a pipe: a pipe nobody reads would block a chatty server.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    server = RunningServer(process, port, token, log)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"action server exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            pytest.fail(f"action server did not answer /health on port {port} within 60 s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def action_server() -> Iterator[RunningServer]:
    server = start_server(token=TOKEN)
    try:
        yield server
    finally:
        server.stop()
