"""A real action server subprocess serving ``tests.clients.client_actions`` on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.conftest import ServerFactory
from tests.helpers import ServerProcess

ACTIONS = "tests.clients.client_actions"
TOKEN = "s3cret"


def webhook(server: ServerProcess) -> str:
    return f"{server.url}/webhook"


@pytest.fixture(scope="module")
def action_server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory("--actions", ACTIONS, "--auth-token", TOKEN)


@pytest.fixture(scope="module")
def impatient_server(server_factory: ServerFactory) -> ServerProcess:
    """Same actions, but the server gives each action only 0.2 s."""
    return server_factory("--actions", ACTIONS, "--action-timeout", "0.2")
