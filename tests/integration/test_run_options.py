"""`run` options read from the environment, the log-level flags and the version warning.

Each test starts its own server subprocess, because each needs another command line.
"""

from __future__ import annotations

import re

import httpx

from tests.conftest import SERVER_ACTIONS, ServerFactory
from tests.helpers import ServerProcess, action_call

STARTUP_LINE = "Action server listening on http://127.0.0.1:{port} with 7 actions"


def post_fresh(server: ServerProcess, call: dict[str, object]) -> httpx.Response:
    """One call on its own connection, so calls spread over every worker."""
    with server.client() as client:
        return client.post("/webhook", json=call)


def log_lines(server: ServerProcess, level: str) -> list[str]:
    return [line for line in server.output.splitlines() if f" {level} " in line]


def test_workers_and_host_default_to_rasa_sdk_environment_variables(
    server_factory: ServerFactory,
) -> None:
    # No --host and no --workers: SANIC_HOST and ACTION_SERVER_SANIC_WORKERS decide.
    server = server_factory(
        "--actions",
        SERVER_ACTIONS,
        "-vv",
        env={"SANIC_HOST": "127.0.0.1", "ACTION_SERVER_SANIC_WORKERS": "2"},
        host=None,
    )
    assert post_fresh(server, action_call("action_greet")).status_code == 200
    assert STARTUP_LINE.format(port=server.port) in server.output
    # Logged by the main process (at -vv) before it starts each worker.
    workers = set(re.findall(r"Starting a process: (Sanic-Server-\d+)-", server.output))
    assert workers == {"Sanic-Server-0", "Sanic-Server-1"}, server.output


def test_debug_flag_logs_debug_lines_and_the_access_log(server_factory: ServerFactory) -> None:
    server = server_factory("--actions", SERVER_ACTIONS, "-vv")
    assert post_fresh(server, action_call("action_greet")).status_code == 200
    assert log_lines(server, "DEBUG")
    access = [line for line in log_lines(server, "INFO") if "sanic.access" in line]
    assert any(f"POST http://127.0.0.1:{server.port}/webhook 200" in line for line in access), (
        server.output
    )


def test_verbose_flag_logs_info_but_not_debug(server_factory: ServerFactory) -> None:
    server = server_factory("--actions", SERVER_ACTIONS, "-v")
    assert post_fresh(server, action_call("action_greet")).status_code == 200
    assert STARTUP_LINE.format(port=server.port) in server.output
    assert log_lines(server, "DEBUG") == []
    assert "sanic.access" not in server.output


def test_quiet_logs_each_incompatible_rasa_version_once_and_nothing_below_warning(
    server_factory: ServerFactory,
) -> None:
    server = server_factory("--actions", SERVER_ACTIONS, "--quiet")
    for version in ["2.8.1", "2.8.1", "4.0.0", "3.6.2", "2.8.1", "4.0.0"]:
        # An incompatible version is never a reason to refuse the call.
        response = post_fresh(server, action_call("action_greet", version=version))
        assert response.status_code == 200

    output = server.output
    assert output.count("Rasa version '2.8.1' may not be compatible") == 1
    assert output.count("Rasa version '4.0.0' may not be compatible") == 1
    assert "Rasa version 3.6.2" not in output
    assert log_lines(server, "INFO") == []
    assert STARTUP_LINE.format(port=server.port) not in output


def test_domain_sent_once_is_reused_for_calls_carrying_only_its_digest(
    server_factory: ServerFactory,
) -> None:
    server = server_factory("--actions", SERVER_ACTIONS)
    domain = {"slots": {"name": {"type": "text"}}}
    first = action_call("action_greet", domain=domain, domain_digest="d1")
    assert post_fresh(server, first).status_code == 200

    again = action_call("action_greet", domain_digest="d1")
    del again["domain"]
    assert post_fresh(server, again).status_code == 200

    other = action_call("action_greet", domain_digest="d2")
    del other["domain"]
    response = post_fresh(server, other)
    assert response.status_code == 449
    assert response.json() == {
        "error": (
            "Missing domain context, assistant will retry the request and include the domain in "
            "the request payload. For more information please see https://rasa.com/docs/action-server/"
        ),
        "action_name": "action_greet",
    }
