"""`action-server flows chat` with stdin piped: bot messages, numbered buttons, --debug."""

from __future__ import annotations

from tests.flows_cli.helpers import MEMORY_ENDPOINTS, run_cli


def chat(*lines: str, debug: bool = False) -> tuple[int, str, str]:
    args = ["flows", "chat", "--endpoints", str(MEMORY_ENDPOINTS), "--sender", "tester"]
    if debug:
        args.append("--debug")
    result = run_cli(*args, stdin="".join(f"{line}\n" for line in lines))
    return result.returncode, result.stdout, result.stderr


def test_chat_books_a_table_typing_a_button_number_and_exits_on_eof() -> None:
    code, out, err = chat("/book_table", "1", "4", "19:30", "Ann", "+44 20 7946 0000")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:5] == [
        "bot> Which cuisine would you like?",
        "  1: Italian",
        "  2: Japanese",
        "  3: Indian",
        "  4: Mexican",
    ]
    assert "bot> For how many people?" in lines
    assert "bot> Done! A italian table for 4 at 19:30 is booked for Ann." in lines
    assert "bot> [image] https://example.com/images/table.png" in lines
    assert lines[-2] == "bot> We'll text a reminder to +44 20 7946 0000."
    assert lines[-1] == "bot> Is there anything else I can help you with?"


def test_chat_debug_prints_slots_and_stack_after_each_turn() -> None:
    code, out, err = chat("/book_table", "/SetSlots(cuisine=indian)", debug=True)
    assert code == 0, err
    assert "  stack: book_table@0_collect_cuisine (asked)" in out
    assert "  slots: cuisine='indian', booking_confirmed=False" in out
    assert "  stack: book_table@1_collect_party_size (asked)" in out


def test_chat_stops_at_exit_command() -> None:
    code, out, err = chat("/book_table", "/exit", "/SetSlots(cuisine=indian)")
    assert code == 0, err
    assert "For how many people?" not in out
