"""Servers for the inspector tests: the example project and a package with an API action.

``example`` serves a copy of the example flows (tests may edit the copy) with the example
actions, conversations in memory. ``shop`` serves a small actions package whose API action calls
a stub HTTP API on loopback with a secret header, behind an auth token and without flows.
"""

from __future__ import annotations

import json
import shutil
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.helpers import REPO_ROOT, ServerProcess

SECRET = "sk-inspector-4f1d9c"
TOKEN = "inspector-token"


@dataclass
class Example:
    server: ServerProcess
    flows: Path  # the served copy of flows/


@pytest.fixture(scope="module")
def example(server_factory: ServerFactory, tmp_path_factory: pytest.TempPathFactory) -> Example:
    root = tmp_path_factory.mktemp("example")
    flows = root / "flows"
    shutil.copytree(REPO_ROOT / "flows", flows)
    endpoints = root / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: memory\n", encoding="utf-8")
    server = server_factory(
        "--actions", "actions", "--flows", str(flows), "--endpoints", str(endpoints), "--inspect"
    )
    return Example(server, flows)


class _ShopApi(BaseHTTPRequestHandler):
    """Answers every GET with the order and echoes the Authorization header (a secret)."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = json.dumps(
            {
                "status": "shipped",
                "items": [{"name": "Desk lamp"}],
                "path": self.path,
                "seen_auth": self.headers.get("Authorization"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def shop_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ShopApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


SHOP_ACTIONS = '''
"""Actions of the inspector tests."""

from action_server import Action


class GreetGuest(Action):
    """Greet a guest by name, with buttons and a picture."""

    arguments = [
        {"name": "guest", "type": "string", "description": "who arrives"},
        {"name": "party", "type": "number"},
        {"name": "vip", "type": "bool", "required": False},
    ]

    def name(self):
        return "action_greet_guest"

    def run(self, dispatcher, tracker, domain):
        guest = tracker.get_slot("guest")
        party = tracker.get_slot("party")
        dispatcher.utter_message(
            text=f"Welcome {guest}, table for {party}!",
            buttons=[{"title": "Menu", "payload": "/menu"}],
            image="https://example.com/welcome.png",
        )
        return [{"event": "slot", "name": "greeted", "value": guest, "timestamp": None}]


class Explode(Action):
    def name(self):
        return "action_explode"

    def run(self, dispatcher, tracker, domain):
        raise RuntimeError("boom")
'''


@pytest.fixture(scope="module")
def shop(
    server_factory: ServerFactory, tmp_path_factory: pytest.TempPathFactory, shop_api: str
) -> ServerProcess:
    package = tmp_path_factory.mktemp("shop") / "shop_actions"
    package.mkdir()
    (package / "__init__.py").write_text(SHOP_ACTIONS, encoding="utf-8")
    (package / "orders.yml").write_text(
        textwrap.dedent(
            f"""
            allow_private_networks: true
            api_actions:
              - name: getOrder
                description: Look up an order.
                base_url: {shop_api}
                path: /orders/$orderId
                headers:
                  Authorization: "Bearer ${{INSPECTOR_SHOP_SECRET}}"
                query:
                  verbose: $verbose
                args:
                  orderId: {{type: string, description: the order number}}
                  verbose: {{type: bool, required: false}}
                result:
                  order_status: status
                  first_item: items.0.name
            """
        ),
        encoding="utf-8",
    )
    return server_factory(
        "--actions",
        str(package),
        "--inspect",
        "--auth-token",
        TOKEN,
        env={"INSPECTOR_SHOP_SECRET": SECRET},
    )


# --- the browser -----------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so fixtures know whether the test failed."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from tests.inspector.browser import start_chromium

    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The shared Chromium; on failure, screenshots of every view go to the test's tmp_path."""
    from tests.inspector.browser import save_screenshots

    chromium.delete_all_cookies()
    yield chromium
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        saved = save_screenshots(chromium, tmp_path / "screenshots")
        print("screenshots:", *saved, sep="\n  ")
