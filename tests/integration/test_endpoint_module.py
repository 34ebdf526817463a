"""`action_server.endpoint` used as rasa-sdk's own tests use `rasa_sdk.endpoint` (through
sanic-testing's client), the plugin
hook adding a route to a real server, and the rasa-sdk flags of `run`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from action_server import endpoint as ep
from action_server.executor import ActionExecutor
from tests.helpers import HOST, REPO_ROOT, ServerProcess, action_call, free_port

ACTIONS = "tests.fixtures.server_actions"


@pytest.fixture(scope="module")
def app():  # type: ignore[no-untyped-def]
    executor = ActionExecutor()
    executor.register_package(ACTIONS)
    built = ep.create_app(executor)
    yield built
    executor.close()


async def test_health_returns_200(app) -> None:  # type: ignore[no-untyped-def]
    _, response = await app.asgi_client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


async def test_actions_lists_the_registered_actions(app) -> None:  # type: ignore[no-untyped-def]
    _, response = await app.asgi_client.get("/actions")
    assert response.status_code == 200
    assert {"name": "action_greet"} in response.json


async def test_webhook_runs_an_action(app) -> None:  # type: ignore[no-untyped-def]
    _, response = await app.asgi_client.post(
        "/webhook", data=json.dumps(action_call("action_greet"))
    )
    assert response.status_code == 200
    assert response.json["responses"][0]["text"]


async def test_webhook_unknown_action_returns_404(app) -> None:  # type: ignore[no-untyped-def]
    data = {
        "next_action": "test_action_1",
        "tracker": {"sender_id": "1", "conversation_id": "default"},
        "domain": {},
    }
    _, response = await app.asgi_client.post("/webhook", data=json.dumps(data))
    assert response.status_code == 404
    assert response.json["action_name"] == "test_action_1"


async def test_webhook_missing_domain_returns_449(app) -> None:  # type: ignore[no-untyped-def]
    call = action_call("action_greet", domain_digest="never-sent")
    del call["domain"]
    _, response = await app.asgi_client.post("/webhook", data=json.dumps(call))
    assert response.status_code == 449
    assert response.json["action_name"] == "action_greet"


async def test_an_app_without_actions_answers_404() -> None:
    fresh = ep.create_app(None)  # rasa-sdk's tests build apps around an empty executor too
    _, response = await fresh.asgi_client.post("/webhook", data=json.dumps(action_call("x")))
    assert response.status_code == 404


async def test_cors_allows_any_origin_by_default(app) -> None:  # type: ignore[no-untyped-def]
    _, response = await app.asgi_client.get("/health", headers={"Origin": "https://example.com"})
    assert response.headers.get("access-control-allow-origin") in ("*", "https://example.com")


def test_create_argument_parser_has_rasa_sdks_flags() -> None:
    args = ep.create_argument_parser().parse_args(
        ["--grpc", "--ssl-ca-file", "ca.pem", "--logging-config_file", "log.yml", "-p", "6000"]
    )
    assert (args.grpc, args.ssl_ca_file, args.logging_config_file, args.port) == (
        True,
        "ca.pem",
        "log.yml",
        6000,
    )
    assert args.keep_alive_timeout == 120


def test_create_ssl_config() -> None:
    assert ep.create_ssl_config(None, None) is None
    assert ep.create_ssl_config("c.pem", "k.pem", "pw") == {
        "cert": "c.pem",
        "key": "k.pem",
        "password": "pw",
    }


PLUGIN = textwrap.dedent(
    """
    from sanic import response

    from action_server.plugin import hookimpl


    class RoutePlugin:
        @hookimpl
        def attach_sanic_app_extensions(self, app):
            @app.get("/plugin/hello")
            async def hello(request):
                return response.json({"hello": "from a plugin"})


    def init_hooks(manager):
        manager.register(RoutePlugin())
    """
)


def test_a_plugin_adds_a_route_to_the_running_server(tmp_path: Path) -> None:
    plugins = tmp_path / "action_server_plugins"
    plugins.mkdir()
    (plugins / "__init__.py").write_text(PLUGIN)
    pythonpath = f"{tmp_path}:{REPO_ROOT}"
    with ServerProcess(["--actions", ACTIONS], env={"PYTHONPATH": pythonpath}) as server:
        answer = httpx.get(f"{server.url}/plugin/hello", timeout=10)
        assert answer.status_code == 200
        assert answer.json() == {"hello": "from a plugin"}
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200


def test_keep_alive_timeout_and_logging_config_file_flags(tmp_path: Path) -> None:
    log_file = tmp_path / "configured.log"
    config = tmp_path / "logging.yml"
    config.write_text(
        "version: 1\n"
        "disable_existing_loggers: false\n"
        "handlers:\n"
        f"  file: {{class: logging.FileHandler, filename: '{log_file}'}}\n"
        "loggers:\n"
        "  action_server.executor: {level: INFO, handlers: [file]}\n"
    )
    args = ["--actions", ACTIONS, "--keep-alive-timeout", "7", "--logging-config-file", str(config)]
    with ServerProcess(args) as server:
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
    assert "Registered" in log_file.read_text()


def test_keep_alive_timeout_must_be_positive() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "action_server", "run", "--keep-alive-timeout", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        check=False,
    )
    assert done.returncode == 2
    assert "--keep-alive-timeout" in done.stderr and "whole number of seconds" in done.stderr


RUN_SCRIPT = """
import sys
from action_server import endpoint
from action_server.executor import ActionExecutor

executor = ActionExecutor()
executor.register_package("tests.fixtures.server_actions")
endpoint.run(executor, int(sys.argv[1]))
"""


def test_endpoint_run_serves_a_ready_executor(tmp_path: Path) -> None:
    """`endpoint.run(executor, port)`, as a rasa-sdk user's own start script calls it."""
    port = free_port()
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_SCRIPT, str(port)],
        cwd=REPO_ROOT,
        env={**os.environ, "SANIC_HOST": HOST, "PYTHONPATH": str(REPO_ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://{HOST}:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (
                tmp_path / "run.log"
            ).read_text()
            time.sleep(0.1)
        answer = httpx.post(
            f"http://{HOST}:{port}/webhook", json=action_call("action_greet"), timeout=10
        )
        assert answer.status_code == 200 and answer.json()["responses"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
        log.close()
