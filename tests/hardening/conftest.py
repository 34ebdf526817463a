"""A project of every action kind served by a real `action-server run`, plus a small HTTP API
on 127.0.0.1 (and a second origin) for the API actions: the targets of the hardening tests."""

from __future__ import annotations

import json
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.helpers import ServerProcess

SECRET = "s3cret-Value/42"
AUTH_TOKEN = "tok-1234567890"

FORM = """\
from action_server import FormValidationAction


class ValidateTripForm(FormValidationAction):
    def name(self):
        return "validate_trip_form"

    def validate_city(self, value, dispatcher, tracker, domain):
        return {"city": value}
"""

ECHO = """\
from action_server import Action


class ActionCountEvents(Action):
    def name(self):
        return "action_count_events"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=f"{len(tracker.events)} events")
        return []
"""

STOCK = '''\
"""Count the events of the conversation."""

NAME = "countEvents"


def execute_action(context):
    return {"count": len(context["conversation"]["events"])}
'''


class ApiServer:
    """Records what reached it; `/r307` redirects (307) to `other` with the same body."""

    def __init__(self, other: str | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.other = other
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                owner.requests.append({"method": self.command, "path": self.path, "body": raw})
                if self.path.startswith("/r307") and owner.other:
                    self._send(307, b"{}", {"Location": f"{owner.other}/stolen"})
                    return
                self._send(200, json.dumps({"path": self.path, "status": "ok"}).encode())

            def _send(
                self, status: int, data: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="package")
def apis() -> Iterator[tuple[ApiServer, ApiServer]]:
    """(first origin, other origin): the first redirects POST /r307 to the other."""
    other = ApiServer()
    first = ApiServer(other=other.url)
    yield first, other
    first.close()
    other.close()


@pytest.fixture(scope="package")
def project(tmp_path_factory: pytest.TempPathFactory, apis: tuple[ApiServer, ApiServer]) -> Path:
    first, _ = apis
    root = tmp_path_factory.mktemp("hardening_project")
    package = root / "hard_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "forms.py").write_text(FORM)
    (package / "echo.py").write_text(ECHO)
    (package / "stock.py").write_text(STOCK)
    (package / "api.yml").write_text(
        textwrap.dedent(
            f"""\
            allow_private_networks: true
            api_actions:
              - name: getItem
                base_url: "{first.url}"
                path: /items/$p/detail
                result: {{item_path: path}}
              - name: getWithKey
                base_url: "{first.url}"
                path: /search
                query: {{key: "${{HARD_SECRET}}", q: $p}}
                result: {{item_path: path}}
              - name: postSecret
                method: POST
                base_url: "{first.url}"
                path: /r307
                body: {{token: "${{HARD_SECRET}}", p: $p}}
                result: {{item_path: path}}
              - name: brokenBase
                base_url: "http://${{HARD_BAD_HOST}}"
                path: /x
                result: {{item_path: path}}
            """
        )
    )
    return root


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory, project: Path) -> ServerProcess:
    """The project at -vv (so the access log and httpx lines are written), with a token."""
    return server_factory(
        "--actions",
        str(project / "hard_pkg"),
        "--auth-token",
        AUTH_TOKEN,
        "--cors",
        "https://app.example.com",
        "-vv",
        env={"HARD_SECRET": SECRET, "HARD_BAD_HOST": "127.0.0.1:port"},
    )
