"""--auto-reload on a running server: edited and new modules are served without a restart."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from tests.conftest import ServerFactory
from tests.helpers import ServerProcess, action_call

GREETER = """
from action_server import Action


class Greet(Action):
    def name(self):
        return "action_greet"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="{text}")
        return []
"""

FAREWELL = """
from action_server import Action


class Farewell(Action):
    def name(self):
        return "action_farewell"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="bye")
        return []
"""


def _write(path: Path, source: str) -> None:
    path.write_text(source, encoding="utf-8")
    # Make the change visible even on file systems with coarse modification times.
    later = time.time() + 2
    os.utime(path, (later, later))


def _wait_for(predicate, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _reloading_server(
    server_factory: ServerFactory, package: Path, greeting: str
) -> tuple[Path, ServerProcess]:
    """A package with one greeter module, served with --auto-reload from its parent folder."""
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    _write(package / "greet.py", GREETER.format(text=greeting))
    server = server_factory("--actions", str(package), "--auto-reload", cwd=str(package.parent))
    return package, server


def test_auto_reload_serves_edited_and_new_modules(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    package, server = _reloading_server(server_factory, tmp_path / "reload_pkg", "hello")

    def greeting() -> str:
        answer = httpx.post(server.url + "/webhook", json=action_call("action_greet"), timeout=5)
        return str(answer.json()["responses"][0]["text"])

    assert greeting() == "hello"

    _write(package / "greet.py", GREETER.format(text="hello again"))
    assert _wait_for(lambda: greeting() == "hello again"), "the edited module was not reloaded"

    _write(package / "farewell.py", FAREWELL)

    def names() -> list[str]:
        return [a["name"] for a in httpx.get(server.url + "/actions", timeout=5).json()]

    assert _wait_for(lambda: "action_farewell" in names()), "the new module was not picked up"
    answer = httpx.post(server.url + "/webhook", json=action_call("action_farewell"), timeout=5)
    assert answer.status_code == 200
    assert answer.json()["responses"][0]["text"] == "bye"


def test_auto_reload_keeps_the_old_actions_when_an_edit_breaks_the_module(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    package, server = _reloading_server(server_factory, tmp_path / "broken_pkg", "still here")

    _write(package / "greet.py", "def broken(:\n")
    time.sleep(2.5)  # a few reload intervals: the failed reload must not drop the old actions
    answer = httpx.post(server.url + "/webhook", json=action_call("action_greet"), timeout=5)
    assert answer.status_code == 200
    assert answer.json()["responses"][0]["text"] == "still here"
