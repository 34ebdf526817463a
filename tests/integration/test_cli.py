"""The `action-server` command line, run as a real subprocess (`python -m action_server`)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from action_server import __version__
from action_server.cli import build_parser, parse_size
from tests.conftest import SERVER_ACTIONS
from tests.helpers import REPO_ROOT, ServerProcess


def cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "action_server", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_version_prints_the_package_version() -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"action-server {__version__}"


def test_actions_lists_every_action_in_registration_order() -> None:
    result = cli("actions", "--actions", SERVER_ACTIONS)
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert all("[class]" in line for line in result.stdout.splitlines() if line.strip())
    assert names == [
        "action_greet",
        "action_count_events",
        "action_sleep_sync",
        "action_sleep_async",
        "action_reject",
        "action_crash",
        "action_unserialisable",
    ]


def test_actions_json_describes_each_action() -> None:
    result = cli("actions", "--actions-module", SERVER_ACTIONS, "--json")
    assert result.returncode == 0, result.stderr
    assert '"name": "action_greet"' in result.stdout
    assert '"kind": "class"' in result.stdout


def test_actions_load_error_exits_1_with_file_and_line() -> None:
    result = cli("actions", "--actions", "tests.fixtures.actions_import_error")
    assert result.returncode == 1
    assert result.stderr.startswith("action-server: error: Cannot load actions")
    assert "broken.py, line 5" in result.stderr
    assert "Traceback" not in result.stderr


def test_duplicate_action_names_exit_1_naming_both_classes() -> None:
    result = cli("actions", "--actions", "tests.fixtures.actions_duplicate")
    assert result.returncode == 1
    assert "Duplicate action name 'action_same'" in result.stderr
    assert "ActionFirst" in result.stderr and "ActionSecond" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_with_duplicate_action_names_exits_1_naming_both_classes_and_files() -> None:
    result = cli("run", "--actions", "tests.fixtures.actions_duplicate", "-p", "1")
    assert result.returncode == 1
    fixture = REPO_ROOT / "tests" / "fixtures" / "actions_duplicate"
    assert (
        "action-server: error: Duplicate action name 'action_same': "
        f"class 'tests.fixtures.actions_duplicate.one.ActionFirst' ({fixture / 'one.py'}, line 8)"
        f" and class 'tests.fixtures.actions_duplicate.two.ActionSecond' "
        f"({fixture / 'two.py'}, line 8) both return it from name(). Rename one of them.\n"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_run_with_a_broken_actions_package_exits_1_before_serving() -> None:
    result = cli("run", "--actions", "tests.fixtures.actions_import_error", "-p", "1")
    assert result.returncode == 1
    assert "broken.py, line 5" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_with_a_missing_actions_package_exits_1() -> None:
    result = cli("--actions", "no_such_actions_package", "-p", "1")
    assert result.returncode == 1
    assert "no_such_actions_package" in result.stderr


def test_run_with_a_malformed_endpoints_file_names_file_and_line(tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("action_endpoint:\n  url: [unclosed\n", encoding="utf-8")
    result = cli("run", "--actions", SERVER_ACTIONS, "--endpoints", str(endpoints), "-p", "1")
    assert result.returncode == 1
    assert f"{endpoints}:" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [("--max-body-size", "ten"), ("--action-timeout", "0"), ("--workers", "0")],
)
def test_run_rejects_bad_option_values_with_exit_2(option: str, value: str) -> None:
    result = cli("run", option, value)
    assert result.returncode == 2
    assert f"argument {option}" in result.stderr


def test_unknown_command_exits_2() -> None:
    result = cli("serve")
    assert result.returncode == 2
    assert "invalid choice: 'serve'" in result.stderr


def test_run_is_the_default_command_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    log_file = tmp_path / "server.log"
    server = ServerProcess(["--actions", SERVER_ACTIONS, "--log-file", str(log_file)], command=())
    try:
        server.start()
        assert httpx.get(f"{server.url}/actions").json()[0] == {"name": "action_greet"}
        assert server.stop() == 0
    finally:
        server.close()
    assert f"Action server listening on http://127.0.0.1:{server.port} with 7 actions" in (
        log_file.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize(
    ("flags", "level"),
    [
        ([], "INFO"),
        (["-v"], "INFO"),
        (["--debug"], "DEBUG"),
        (["--quiet"], "WARNING"),
        (["-vv", "--quiet"], "WARNING"),
        (["--quiet", "-v"], "INFO"),
    ],
)
def test_log_level_flags_combine_like_rasa_sdk_with_the_last_one_winning(
    flags: list[str], level: str
) -> None:
    assert build_parser().parse_args(["run", *flags]).log_level == level


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1048576", 1048576),
        ("512KB", 512_000),
        ("10MB", 10_000_000),
        ("10 mb", 10_000_000),
        ("100MiB", 100 * 1024 * 1024),
        ("1GiB", 1 << 30),
        ("1.5k", 1500),
    ],
)
def test_parse_size_understands_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "ten", "-1", "0", "10XB"])
def test_parse_size_rejects_nonsense(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_size(text)
