"""`action-server flows validate`: exit codes, one line per problem, summary on success."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.flows_cli.helpers import MEMORY_ENDPOINTS, run_cli
from tests.helpers import free_port

DOMAIN = """
slots:
  city:
    type: text
responses:
  utter_ask_city:
    - text: "Which city?"
  utter_done:
    - text: "Done."
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_validate_example_flows_exits_0_with_a_summary() -> None:
    result = run_cli("flows", "validate", "--endpoints", MEMORY_ENDPOINTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 5 flows, ")
    assert len(result.stdout.strip().splitlines()) == 1


def test_validate_lists_every_problem_with_file_line_flow_and_step(tmp_path: Path) -> None:
    flows = write(
        tmp_path,
        "flows.yml",
        """
        flows:
          weather:
            description: ask the city
            steps:
              - collect: city
              - id: finish
                action: action_nobody_wrote
              - collect: country
        """,
    )
    write(tmp_path, "domain.yml", DOMAIN)
    result = run_cli("flows", "validate", tmp_path, "--endpoints", MEMORY_ENDPOINTS)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert (
        f"{flows}:6:9: flow 'weather' step 'finish': unknown action 'action_nobody_wrote'"
        in lines[0]
    )
    assert lines[1] == (
        f"{flows}:8:9: flow 'weather' step '2_collect_country': "
        "collect: unknown slot 'country' (not in the domain)"
    )
    assert lines[2:] == ["2 problems found"]


def test_validate_classifies_positional_paths_by_top_level_keys(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yml",
        """
        flows:
          weather:
            description: ask the city
            steps:
              - collect: city
              - action: utter_done
        """,
    )
    domain = write(tmp_path, "b.yml", DOMAIN)
    result = run_cli(
        "flows", "validate", tmp_path / "a.yml", domain, "--endpoints", MEMORY_ENDPOINTS
    )
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("OK: 1 flows, 2 steps, 1 slots, 2 responses")


def test_validate_reports_an_actions_module_that_does_not_load(tmp_path: Path) -> None:
    endpoints = write(
        tmp_path,
        "endpoints.yml",
        """
        action_endpoint:
          actions_module: tests.fixtures.actions_import_error
        """,
    )
    result = run_cli("flows", "validate", "--endpoints", endpoints)
    assert result.returncode == 1
    assert (
        f"{endpoints}: action_endpoint.actions_module 'tests.fixtures.actions_import_error' "
        "cannot be loaded" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_validate_warns_and_skips_action_check_when_action_server_is_unreachable(
    tmp_path: Path,
) -> None:
    endpoints = write(
        tmp_path,
        "endpoints.yml",
        f"""
        action_endpoint:
          url: http://127.0.0.1:{free_port()}/webhook
        """,
    )
    result = run_cli("flows", "validate", "--endpoints", endpoints)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning:" in result.stderr
    assert "/actions" in result.stderr
    assert "skipping the check for unknown custom actions" in result.stderr


FLOWS_ONLY = """
flows:
  weather:
    description: ask the city
    steps:
      - collect: city
      - action: utter_done
"""


@pytest.mark.parametrize("domain_place", ["domain.yml", "domain/main.yml"])
def test_validate_defaults_to_flows_dir_and_finds_the_domain_in_the_working_directory(
    tmp_path: Path, domain_place: str
) -> None:
    (tmp_path / "flows").mkdir()
    write(tmp_path / "flows", "flows.yml", FLOWS_ONLY)
    (tmp_path / domain_place).parent.mkdir(exist_ok=True)
    write(tmp_path, domain_place, DOMAIN)
    result = run_cli("flows", "validate", "--endpoints", MEMORY_ENDPOINTS, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 1 flows, 2 steps, 1 slots, 2 responses")


def test_validate_without_any_domain_reports_the_unknown_slot(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    write(tmp_path / "flows", "flows.yml", FLOWS_ONLY)
    result = run_cli("flows", "validate", "--endpoints", MEMORY_ENDPOINTS, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "flows/flows.yml:5:9: flow 'weather' step '0_collect_city': "
        "collect: unknown slot 'city' (not in the domain)"
    )


def test_explicit_domain_option_wins_over_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    write(tmp_path / "flows", "flows.yml", FLOWS_ONLY)
    write(tmp_path, "domain.yml", "slots: {}\n")  # would make 'city' unknown
    other = write(tmp_path, "other_domain.yml", DOMAIN)
    result = run_cli(
        "flows", "validate", "--domain", other, "--endpoints", MEMORY_ENDPOINTS, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
