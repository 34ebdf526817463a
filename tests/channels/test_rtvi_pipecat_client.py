"""The official Pipecat RTVI client under Node against a real server on loopback.

`tests/channels/pipecat_client/` pins `@pipecat-ai/client-js` and
`@pipecat-ai/websocket-transport` (package-lock.json); `npm ci` runs once and is cached in that
folder's node_modules. Without node/npm the test is skipped, except in CI, where
ACTION_SERVER_REQUIRE_NODE=1 (see .ci/run) makes it fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.channels.conftest import SERVER_ARGS
from tests.conftest import ServerFactory

CLIENT_DIR = Path(__file__).parent / "pipecat_client"
STAMP = CLIENT_DIR / "node_modules" / ".installed-lock-sha256"
TOKEN = "pipecat-s3cret"
NPM_TIMEOUT = 300
DRIVER_TIMEOUT = 60


def _tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    if os.environ.get("ACTION_SERVER_REQUIRE_NODE") == "1":
        pytest.fail("ACTION_SERVER_REQUIRE_NODE=1 but node/npm are not on PATH")
    pytest.skip("node and npm are needed for the Pipecat client test")


def _install(npm: str) -> None:
    """`npm ci` unless node_modules already holds exactly what package-lock.json pins."""
    digest = hashlib.sha256((CLIENT_DIR / "package-lock.json").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text() == digest:
        return
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=CLIENT_DIR,
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT,
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    STAMP.write_text(digest)


@pytest.fixture(scope="module")
def pipecat_run(server_factory: ServerFactory) -> dict[str, Any]:
    node, npm = _tools()
    _install(npm)
    server = server_factory(*SERVER_ARGS, "--auth-token", TOKEN)
    conversation_id = f"pipecat-{uuid.uuid4()}"
    done = subprocess.run(
        [node, "driver.mjs", server.url, conversation_id, TOKEN],
        cwd=CLIENT_DIR,
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"the driver printed no result:\n{done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert done.returncode == 0, f"driver failed: {result.get('failure')}\n{done.stderr}"
    result["conversation_id"] = conversation_id
    return result


def test_connects_through_the_start_endpoint_and_negotiates_protocol_2(
    pipecat_run: dict[str, Any],
) -> None:
    assert pipecat_run["clientProtocol"].startswith("2.")
    assert pipecat_run["botReady"] == {"version": "2.1.0", "about": {"library": "action_server"}}


def test_client_request_runs_the_action(pipecat_run: dict[str, Any]) -> None:
    order = pipecat_run["order"]
    assert order["events"][0]["name"] == "order_status"
    assert order["responses"][0]["text"] == "Order 12 has shipped (express)."


def test_failing_action_rejects_the_request_with_an_error_response(
    pipecat_run: dict[str, Any],
) -> None:
    assert pipecat_run["explode"] == {
        "error": "An exception occurred while running action 'action_explode'."
    }
    assert [e["type"] for e in pipecat_run["seen"]["errors"]] == ["error-response"]


def test_send_text_and_dtmf_run_turns_with_the_bot_output_pushed(
    pipecat_run: dict[str, Any],
) -> None:
    seen = pipecat_run["seen"]
    assert [t["text"] for t in seen["transcripts"]] == ["/book", "4", "/media"]
    assert all(
        t["final"] and t["user_id"] == pipecat_run["conversation_id"] for t in seen["transcripts"]
    )
    texts = [o["text"] for o in seen["botOutput"]]
    assert texts == [
        "For how many people?",
        "Noted: 4.0 people.",  # a float slot renders as in Rasa
        "Hello there",
        "a chime",
        "a broken chime",
    ]
    assert [t["text"] for t in seen["llmText"]] == texts
    assert pipecat_run["media"]["message"]["custom"]["ssml"].startswith("<speak>")


def test_disconnect_bot_closes_the_session(pipecat_run: dict[str, Any]) -> None:
    assert pipecat_run["disconnected"] is True
