"""Mistakes a new user makes on the command line: each gets a precise message, no traceback.

Every command here fails before a server would start, so no port is ever bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers import REPO_ROOT

DOMAIN = """
slots:
  city:
    type: text
responses:
  utter_ask_city:
    - text: "Which city?"
"""


def cli(*args: str | Path, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "action_server", *(str(a) for a in args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def memory_endpoints(tmp_path: Path) -> Path:
    return write(tmp_path / "endpoints.yml", "tracker_store:\n  type: memory\n")


def test_validate_fails_when_a_flows_file_misspells_the_top_level_key(tmp_path: Path) -> None:
    flows = write(tmp_path / "flows" / "flows.yml", "flow:\n  f:\n    steps:\n      - noop: true\n")
    domain = write(tmp_path / "domain.yml", DOMAIN)
    result = cli(
        "flows",
        "validate",
        flows.parent,
        "--domain",
        domain,
        "--endpoints",
        memory_endpoints(tmp_path),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no flows found (a flows file needs a top-level 'flows:' key)" in result.stdout
    assert "no flows or domain keys (found: flow)" in result.stdout
    assert "Traceback" not in result.stderr


def test_run_refuses_to_serve_zero_flows(tmp_path: Path) -> None:
    flows = write(tmp_path / "flows" / "flows.yml", "flow:\n  f:\n    steps:\n      - noop: true\n")
    domain = write(tmp_path / "domain.yml", DOMAIN)
    result = cli(
        "run",
        "--actions",
        "tests.fixtures.server_actions",
        "--flows",
        flows.parent,
        "--domain",
        domain,
        "--endpoints",
        memory_endpoints(tmp_path),
        "-p",
        "1",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no flows found" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_names_a_missing_path_without_a_line_number(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = cli("flows", "validate", missing, "--endpoints", memory_endpoints(tmp_path))
    assert result.returncode == 1
    assert f"{missing}: no such file or directory" in result.stdout
    assert f"{missing}:0:0" not in result.stdout


def test_run_with_an_endpoints_file_that_does_not_exist_exits_1(tmp_path: Path) -> None:
    missing = tmp_path / "endpoint.yml"
    result = cli("run", "--actions", "tests.fixtures.server_actions", "--endpoints", missing)
    assert result.returncode == 1
    assert f"{missing}: no such endpoints file" in result.stderr
    assert "Traceback" not in result.stderr


def test_endpoints_type_errors_name_file_line_field_and_value(tmp_path: Path) -> None:
    endpoints = write(
        tmp_path / "endpoints.yml",
        """
        action_endpoint:
          actions_module: actions
        tracker_store:
          type: sqlit
          port: abc
        """,
    )
    result = cli("flows", "validate", "--endpoints", endpoints)
    assert result.returncode == 1
    assert f"{endpoints}:4: tracker_store.type: Input should be" in result.stderr
    assert "(got 'sqlit')" in result.stderr
    assert f"{endpoints}:5: tracker_store.port:" in result.stderr
    assert "Traceback" not in result.stderr


def test_endpoints_misspelled_key_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    endpoints = write(
        tmp_path / "endpoints.yml",
        """
        action_endpoint:
          actions_modul: actions
        tracker_store:
          type: memory
        """,
    )
    domain = write(tmp_path / "domain.yml", DOMAIN)
    flows = write(tmp_path / "flows.yml", "flows:\n  f:\n    steps:\n      - collect: city\n")
    result = cli("flows", "validate", flows, "--domain", domain, "--endpoints", endpoints)
    assert (
        f"{endpoints}:2: action_endpoint.actions_modul: unknown key, ignored; "
        "did you mean 'actions_module'?"
    ) in result.stderr


def test_default_endpoints_file_may_be_missing_and_the_warning_says_so(tmp_path: Path) -> None:
    domain = write(tmp_path / "domain.yml", DOMAIN)
    flows = write(tmp_path / "flows.yml", "flows:\n  f:\n    steps:\n      - collect: city\n")
    result = cli("flows", "validate", flows, "--domain", domain, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "endpoints.yml (not found): no action_endpoint" in result.stderr


def test_run_with_a_port_out_of_range_is_a_usage_error() -> None:
    result = cli("run", "-p", "99999")
    assert result.returncode == 2
    assert "argument -p/--port: must be between 0 and 65535, got '99999'" in result.stderr
