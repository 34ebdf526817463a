"""Servers for the channel tests: the voice/RTVI test project served by `action-server run`."""

from __future__ import annotations

import pytest

from tests.conftest import ServerFactory
from tests.helpers import ServerProcess

DATA = "tests/channels/data"
ACTIONS = "tests.channels.channel_actions"
SERVER_ARGS = (
    "--actions",
    ACTIONS,
    "--flows",
    DATA,
    "--endpoints",
    f"{DATA}/endpoints.yml",
    "--quiet",
)


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory) -> ServerProcess:
    """Start flow `call_start` on session_start; repeat the question on a timeout."""
    return server_factory(*SERVER_ARGS)
