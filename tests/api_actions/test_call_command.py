"""`action-server call` run as a real subprocess against a temporary actions package."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def package(tmp_path: Path, api_server: str) -> Path:
    pkg = tmp_path / "call_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "funcs.py").write_text(
        textwrap.dedent(
            """
            from action_server.kinds.function_actions import action

            @action(name="double", args={"n": {"type": "number", "description": "A number"}})
            def double(context):
                context["utter"](f"twice {context['args']['n']}")
                return {"result": context["args"]["n"] * 2}
            """
        )
    )
    (pkg / "api.yml").write_text(
        textwrap.dedent(
            f"""
            allow_private_networks: true
            api_actions:
              - name: getOrderDetails
                base_url: "{api_server}"
                path: /echo/orders/$orderId
                result: {{order_status: status, path: path}}
            """
        )
    )
    return pkg


def _call(package: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "action_server", "call", *args, "--actions", str(package)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_call_prints_events_and_responses_of_a_function_action(package: Path) -> None:
    done = _call(package, "double", "--arg", "n=21")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["events"] == [{"event": "slot", "timestamp": None, "name": "result", "value": 42}]
    assert result["responses"][0]["text"] == "twice 21"


def test_call_runs_an_api_action_with_an_argument_from_a_slot(package: Path) -> None:
    done = _call(package, "getOrderDetails", "--slot", "orderId=A 7", "--sender", "u1")
    assert done.returncode == 0, done.stderr
    slots = {e["name"]: e["value"] for e in json.loads(done.stdout)["events"]}
    assert slots == {"order_status": "shipped", "path": "/echo/orders/A%207"}


def test_call_lists_missing_arguments_and_exits_2(package: Path) -> None:
    done = _call(package, "double")
    assert done.returncode == 2
    assert "action 'double' needs these arguments" in done.stderr
    assert "n (number): A number" in done.stderr


def test_call_rejects_a_badly_typed_argument_with_exit_2(package: Path) -> None:
    done = _call(package, "double", "--arg", "n=abc")
    assert done.returncode == 2
    assert "action 'double': argument 'n': expected number, got 'abc'" in done.stderr


def test_call_of_an_unknown_action_exits_1(package: Path) -> None:
    done = _call(package, "nope")
    assert done.returncode == 1
    assert "No registered action found for name 'nope'." in done.stderr
