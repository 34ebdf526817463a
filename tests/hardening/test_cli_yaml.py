"""`flows validate`, `run --flows` and endpoints.yml on hostile YAML, by running the CLI: an
error with file and line and exit code 1, never a traceback, a hang or gigabytes of memory."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.flows_cli.helpers import MEMORY_ENDPOINTS, run_cli
from tests.hardening.test_units import BILLION_LAUGHS

DEEP = "flows:\n  a:\n    steps: " + "[" * 1000 + "]" * 1000 + "\n"
HOSTILE = {
    "billion-laughs": (BILLION_LAUGHS, "aliases expand to more than"),
    "self-anchor": ("flows: &f\n  a: *f\n", ":1:8: invalid YAML: an alias refers to the anchor"),
    "deep": (DEEP, ":3:"),
    "nul": (
        "flows:\n  a:\n    description: x\x00\n",
        ":3:19: invalid YAML: character U+0000 (NUL)",
    ),
    "esc": ("flows:\n\x1b[2J  a: {}\n", ":2:1: invalid YAML: character U+001B (ESC)"),
}


@pytest.mark.parametrize(("text", "expected"), HOSTILE.values(), ids=HOSTILE.keys())
def test_flows_validate_reports_hostile_yaml_with_file_and_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    flows = tmp_path / "flows.yml"
    flows.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    result = run_cli("flows", "validate", flows, "--endpoints", MEMORY_ENDPOINTS, timeout=30)
    assert time.perf_counter() - started < 20
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "RecursionError" not in output
    assert f"{flows}:" in output and expected in output, output


@pytest.mark.parametrize(("text", "expected"), HOSTILE.values(), ids=HOSTILE.keys())
def test_endpoints_yml_reports_hostile_yaml_with_file_and_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(text.replace("flows", "action_endpoint"), encoding="utf-8")
    result = run_cli("flows", "validate", "--endpoints", endpoints, timeout=30)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert f"{endpoints}:" in output, output
