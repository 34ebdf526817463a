"""The e2e format as Rasa projects write it, run by `action-server flows test` on the banking
example (a Rasa-layout project): YAML 1.2, every assertion, per-file failure isolation, the
report, -k and --e2e-results."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

from tests.flows_cli.helpers import run_cli
from tests.helpers import REPO_ROOT

BANKING = REPO_ROOT / "examples" / "banking"


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_the_rasa_layout_project_validates_as_it_is() -> None:
    result = run_cli("flows", "validate", cwd=BANKING)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 10 flows, ")
    assert "4 patterns overridden" in result.stdout
    assert "note: data/nlu.yml: skipped: training or test data (nlu)" in result.stderr
    assert "note: data/stories.yml: skipped: training or test data (stories)" in result.stderr


def test_the_banking_e2e_suite_passes() -> None:
    result = run_cli("flows", "test", cwd=BANKING)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED e2e_tests/repair.yml::digression_then_go_back" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "22 passed, 0 failed"


def test_a_changed_expectation_fails_and_a_broken_file_does_not_stop_the_others(
    tmp_path: Path,
) -> None:
    cases = (BANKING / "e2e_tests" / "repair.yml").read_text(encoding="utf-8")
    write(tmp_path / "repair.yml", cases.replace("stopped: send money", "stopped: nothing"))
    write(
        tmp_path / "broken.yml",
        """
        test_cases:
          - test_case: broken
            steps:
              - user: "hi"
              - shout: "HI"
        """,
    )
    result = run_cli("flows", "test", str(tmp_path), cwd=BANKING)
    assert result.returncode == 1
    out = result.stdout
    assert f"FAILED {tmp_path}/broken.yml::(file did not load)" in out
    assert f"{tmp_path}/broken.yml:5:9: test case 'broken' step 2: needs exactly one of" in out
    assert f"'cancel_the_transfer' in {tmp_path}/repair.yml:46 failed" in out
    assert "bot_uttered: expected a message with utter_name 'utter_flow_cancelled_rasa' and " in out
    assert "    user: /CancelFlow" in out  # the transcript
    assert out.strip().splitlines()[-1] == "14 passed, 2 failed"


def test_yaml_1_2_duplicates_skipped_assertions_and_selection(tmp_path: Path) -> None:
    write(
        tmp_path / "cases.yml",
        """
        test_cases:
          - test_case: answer_no
            steps:
              - user: "/SetSlots(recipient=Ann, amount=20, account_type=checking)"
              - user: "/transfer_money"
              - user: no
                assertions:
                  - bot_uttered:
                      utter_name: utter_transfer_not_sent
                  - generative_response_is_relevant:
                      threshold: 0.9
          - test_case: answer_no
            steps:
              - user: "/greet"
              - utter: utter_greet
          - test_case: other
            steps:
              - user: "/greet"
              - utter: utter_nothing_like_this
        """,
    )
    result = run_cli("flows", "test", str(tmp_path), "-k", "answer", cwd=BANKING)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is defined again (first at line 2)" in result.stderr
    assert result.stdout.count(f"PASSED {tmp_path}/cases.yml::answer_no") == 2
    assert "generative_response_is_relevant skipped: needs an LLM judge" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "2 passed, 0 failed"
    none = run_cli("flows", "test", str(tmp_path), "-k", "zzz", cwd=BANKING)
    assert none.returncode == 1 and "matching -k 'zzz'" in none.stderr


def test_e2e_results_are_written_as_yaml(tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = run_cli("flows", "test", "-k", "greet", "--e2e-results", str(out), cwd=BANKING)
    assert result.returncode == 0, result.stdout + result.stderr
    passed = yaml.safe_load((out / "e2e_results_passed.yml").read_text(encoding="utf-8"))
    failed = yaml.safe_load((out / "e2e_results_failed.yml").read_text(encoding="utf-8"))
    assert [e["test_case"] for e in passed["test_results"]] == [
        "greeting_depends_on_the_customer",
        "premium_greeting",
    ]
    assert passed["test_results"][0]["file"].startswith("e2e_tests/transfers.yml:")
    assert failed == {"test_results": []}
