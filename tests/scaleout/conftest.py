"""Replicas for the scale-out tests: `action-server run` processes sharing one redis-server.

The redis-server fixture (a private server on a free 127.0.0.1 port, skipped with a reason
when the binary is missing) is the conversation-store tests' one, reused here. CI sets
ACTION_SERVER_REQUIRE_REDIS=1 (see .ci/run): there a missing redis-server fails the tests
instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from tests.conversations.conftest import redis_port  # noqa: F401 - a fixture, used by name

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session", autouse=True)
def _redis_required_in_ci() -> None:
    if os.environ.get("ACTION_SERVER_REQUIRE_REDIS") == "1" and not shutil.which("redis-server"):
        pytest.fail("ACTION_SERVER_REQUIRE_REDIS=1 but redis-server is not on PATH")


ACTIONS = "tests.channels.channel_actions"


def write_endpoints(directory: Path, port: int, lock_expiry: float = 5.0) -> Path:
    """endpoints.yml for replicas of one deployment: Redis store, a key prefix of its own."""
    path = directory / f"endpoints-{uuid.uuid4().hex[:8]}.yml"
    path.write_text(
        f"""action_endpoint:
  actions_module: {ACTIONS}
tracker_store:
  type: redis
  host: 127.0.0.1
  port: {port}
  key_prefix: scaleout-{uuid.uuid4().hex}
  lock_expiry: {lock_expiry}
voice:
  start_flow: survey
""",
        encoding="utf-8",
    )
    return path


def replica_args(endpoints: Path) -> list[str]:
    return [
        "--actions",
        ACTIONS,
        "--flows",
        str(DATA),
        "--endpoints",
        str(endpoints),
        "--quiet",
    ]
