"""`action-server flows test`: Rasa e2e test cases, pass/fail per case, what differed, exit code."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.flows_cli.helpers import DATA, MEMORY_ENDPOINTS, run_cli


def test_example_booking_cases_all_pass() -> None:
    result = run_cli("flows", "test", "flows/tests", "--endpoints", MEMORY_ENDPOINTS)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert "PASSED flows/tests/test_booking.yml::happy_path_books_a_table" in lines
    assert "PASSED flows/tests/test_booking.yml::cancel_a_booking" in lines
    assert lines[-1] == "7 passed, 0 failed"


def test_failing_cases_show_expected_actual_step_and_position() -> None:
    file = "tests/flows_cli/data/failing_cases.yml"
    result = run_cli("flows", "test", DATA / "failing_cases.yml", "--endpoints", MEMORY_ENDPOINTS)
    assert result.returncode == 1
    out = result.stdout.replace(str(DATA), "tests/flows_cli/data")
    lines = out.strip().splitlines()
    assert lines[:4] == [
        f"PASSED {file}::passes_with_stubbed_action",
        f"FAILED {file}::wrong_bot_text",
        f"FAILED {file}::wrong_slot_value",
        f"FAILED {file}::wrong_flow_assertion",
    ]
    # Each failed case as `rasa test e2e` shows it: where, what differed, the transcript.
    block = lines.index(f"'wrong_bot_text' in {file}:22 failed")
    assert lines[block + 1 : block + 5] == [
        f"  {file}:25:9: step 2: expected bot text 'What would you like to eat?', "
        "got utter_ask_cuisine ('Which cuisine would you like?')",
        "  transcript:",
        "    user: /book_table",
        "    bot: utter_ask_cuisine ('Which cuisine would you like?')",
    ]
    assert (
        f"  {file}:31:9: step 3: expected slot cuisine='italian' to be set; "
        "slots set after user step 2: cuisine='indian'"
    ) in lines
    summary = lines.index("==================== short test summary ====================")
    assert lines[summary + 1 :] == [
        f"FAILED {file}::wrong_bot_text - expected bot text 'What would you like to eat?', "
        "got utter_ask_cuisine ('Which cuisine would you like?')",
        f"FAILED {file}::wrong_slot_value - expected slot cuisine='italian' to be set; "
        "slots set after user step 2: cuisine='indian'",
        f"FAILED {file}::wrong_flow_assertion - flow_started: expected flow 'book_table' to "
        "start; started: greet",
        "1 passed, 3 failed",
    ]


def test_unexpected_bot_message_fails_the_case(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yml"
    cases.write_text(
        textwrap.dedent(
            """
            test_cases:
              - test_case: says_more
                steps:
                  - user: "/book_table"
                  - user: "/SetSlots(cuisine=italian)"
                  - user: "2"
                  - user: "19:00"
                  - bot: "Let me check 19:00 for you..."
                  - user: "Bo"
            """
        ),
        encoding="utf-8",
    )
    result = run_cli("flows", "test", cases, "--endpoints", MEMORY_ENDPOINTS)
    assert result.returncode == 1
    assert (
        "step 6: the bot said more than the test expects after user step 4: "
        "utter_ask_contact_name ('Under which name should I book the table?')"
    ) in result.stdout
    assert result.stdout.strip().endswith("0 passed, 1 failed")


def test_broken_test_file_is_reported_with_line_and_column() -> None:
    result = run_cli("flows", "test", DATA / "broken_cases.yml", "--endpoints", MEMORY_ENDPOINTS)
    assert result.returncode == 1
    assert (
        f"{DATA / 'broken_cases.yml'}:5:9: test case 'broken' step 2: needs exactly one of "
        "user, bot, utter, slot_was_set, slot_was_not_set (found: shout)"
    ) in result.stdout


def test_no_test_cases_is_an_error(tmp_path: Path) -> None:
    result = run_cli("flows", "test", tmp_path, "--endpoints", MEMORY_ENDPOINTS)
    assert result.returncode == 1
    assert f"no test cases found in {tmp_path}" in result.stderr
