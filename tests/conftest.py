"""Shared fixtures: real server subprocesses on free 127.0.0.1 ports (see tests/helpers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.helpers import ServerProcess

ServerFactory = Callable[..., ServerProcess]

SERVER_ACTIONS = "tests.fixtures.server_actions"


@pytest.fixture(scope="module")
def server_factory() -> Iterator[ServerFactory]:
    """Start servers with `server_factory(*run_args, env=None, https=False)`.

    Module-scoped so a test module shares its servers (start-ups cost ~1 s each); every server
    started is stopped when the module finishes.
    """
    servers: list[ServerProcess] = []

    def start(*args: str, **options: object) -> ServerProcess:
        server = ServerProcess(list(args), **options)  # type: ignore[arg-type]
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.close()
