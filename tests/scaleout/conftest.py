"""Replicas for the scale-out tests: `action-server run` processes sharing one redis-server.

The redis-server fixture (a private server on a free 127.0.0.1 port, skipped with a reason
when the binary is missing) is the conversation-store tests' one, reused here.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.conversations.conftest import redis_port  # noqa: F401 - a fixture, used by name

DATA = Path(__file__).parent / "data"
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
