"""Fixtures for the differential tests against the real rasa-sdk.

`rasa_sdk_python` finds (or creates once) a virtualenv with rasa-sdk installed: it reuses
bench/.venv-rasa when that has rasa_sdk, else tests/.venv-rasa-sdk, created with
`python -m venv` + `pip install rasa-sdk` on first use and kept for later runs. Without
network the tests skip, unless ACTION_SERVER_REQUIRE_COMPAT=1 (CI) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import HOST, REPO_ROOT, ServerProcess, free_port

COMPAT_DIR = Path(__file__).resolve().parent
SDK_ACTIONS = COMPAT_DIR / "rasa_sdk_actions"
ACTIONS_PACKAGE = "compat_actions"
CANDIDATE_VENVS = (REPO_ROOT / "bench" / ".venv-rasa", REPO_ROOT / "tests" / ".venv-rasa-sdk")
INSTALL_TIMEOUT = 900.0


def _python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _has_rasa_sdk(python: Path) -> bool:
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", "import rasa_sdk"], capture_output=True, timeout=120, check=False
    )
    return probe.returncode == 0


def _unavailable(reason: str) -> None:
    """Skip, or fail when CI requires the comparison to run."""
    if os.environ.get("ACTION_SERVER_REQUIRE_COMPAT") == "1":
        pytest.fail(f"rasa-sdk comparison required (ACTION_SERVER_REQUIRE_COMPAT=1): {reason}")
    pytest.skip(f"rasa-sdk not available, compatibility not compared: {reason}")


def _install(venv: Path) -> str | None:
    """Create `venv` with rasa-sdk; the error text, or None on success."""
    steps = (
        [sys.executable, "-m", "venv", str(venv)],
        [str(_python_of(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + ["rasa-sdk"],
    )
    for step in steps:
        try:
            done = subprocess.run(
                step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            return f"`{' '.join(step)}` did not finish within {INSTALL_TIMEOUT:.0f} s"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            return f"`{' '.join(step)}` failed: " + " | ".join(tail)
    return None


@pytest.fixture(scope="session")
def rasa_sdk_python() -> Path:
    """Interpreter of a virtualenv where `import rasa_sdk` works."""
    for venv in CANDIDATE_VENVS:
        if _has_rasa_sdk(_python_of(venv)):
            return _python_of(venv)
    venv = CANDIDATE_VENVS[-1]
    shutil.rmtree(venv, ignore_errors=True)  # a half-made venv from an interrupted run
    error = _install(venv)
    if error is None and _has_rasa_sdk(_python_of(venv)):
        return _python_of(venv)
    shutil.rmtree(venv, ignore_errors=True)
    _unavailable(error or "installed, but `import rasa_sdk` fails")
    raise AssertionError("unreachable")


def renamed_copy(source: Path, target: Path) -> Path:
    """Copy a .py file or package, replacing the import root `rasa_sdk` with `action_server`.

    That rename is the whole migration we promise, so tests run the renamed copy unchanged.
    """
    if source.is_file():
        target.write_text(source.read_text().replace("rasa_sdk", "action_server"))
        return target
    target.mkdir(parents=True)
    for path in source.glob("*.py"):
        renamed_copy(path, target / path.name)
    return target


@pytest.fixture(scope="session")
def actions_roots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(rasa-sdk root, our root): each holds package `compat_actions`, one per import root."""
    base = tmp_path_factory.mktemp("compat-actions")
    sdk_root, our_root = base / "rasa_sdk", base / "action_server"
    shutil.copytree(SDK_ACTIONS, sdk_root / ACTIONS_PACKAGE, ignore=shutil.ignore_patterns("*.pyc"))
    our_root.mkdir()
    renamed_copy(SDK_ACTIONS, our_root / ACTIONS_PACKAGE)
    return sdk_root, our_root


class RasaSdkServer:
    """`python -m rasa_sdk --actions compat_actions -p PORT`, bound to 127.0.0.1.

    rasa-sdk has no host flag; it reads SANIC_HOST (default 0.0.0.0), so that is set.
    """

    def __init__(self, python: Path, actions_root: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self._log = log.open("wb")
        env = {
            **os.environ,
            "SANIC_HOST": HOST,
            "PYTHONPATH": str(actions_root),
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [str(python), "-m", "rasa_sdk", "--actions", ACTIONS_PACKAGE, "-p", str(self.port)],
            cwd=actions_root,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.log_path = log

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rasa-sdk exited:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"rasa-sdk not ready after {timeout} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        try:  # Sanic workers of the group may outlive their parent by a moment
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()


@pytest.fixture(scope="module")
def rasa_sdk_server(
    rasa_sdk_python: Path,
    actions_roots: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RasaSdkServer]:
    """The real rasa-sdk action server on the generated rasa_sdk copy of the actions."""
    server = RasaSdkServer(
        rasa_sdk_python, actions_roots[0], tmp_path_factory.mktemp("rasa-sdk-log") / "out.log"
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def our_server(actions_roots: tuple[Path, Path]) -> Iterator[ServerProcess]:
    """Our server on the renamed copy of the same actions."""
    with ServerProcess(
        ["--actions", ACTIONS_PACKAGE], env={"PYTHONPATH": str(actions_roots[1])}
    ) as server:
        yield server
