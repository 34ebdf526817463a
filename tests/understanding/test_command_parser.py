"""The LLM command language: every command and every parsing rule, as pure functions."""

from __future__ import annotations

import pytest

from action_server.flows.model import FlowProject
from action_server.understanding.command_parser import check_commands, parse_command_lines
from action_server.understanding.commands import (
    CancelFlow,
    ChitChat,
    Clarify,
    HumanHandoff,
    KnowledgeAnswer,
    RepeatBotMessages,
    SetSlot,
    SkipQuestion,
    StartFlow,
)


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("start flow book_table", StartFlow("book_table")),
        ("set slot cuisine italian", SetSlot("cuisine", "italian", False, "LLM")),
        ("cancel flow", CancelFlow()),
        ("disambiguate flows book_table cancel_booking", Clarify(("book_table", "cancel_booking"))),
        ("provide info", KnowledgeAnswer()),
        ("search and reply", KnowledgeAnswer()),
        ("offtopic reply", ChitChat()),
        ("hand over", HumanHandoff()),
        ("repeat message", RepeatBotMessages()),
        ("skip question", SkipQuestion()),
    ],
)
def test_every_command_parses(line: str, command: object) -> None:
    assert parse_command_lines(line) == [command]


def test_cannot_handle_and_unknown_lines_give_no_command() -> None:
    assert parse_command_lines("cannot handle") == []
    assert parse_command_lines("I think the user wants food") == []
    assert parse_command_lines("") == []


def test_one_command_per_line_anchored_after_markers_and_numbers() -> None:
    answer = "1. start flow book_table\n- set slot party_size 4\n  * `cancel flow`\n\n2) hand over"
    assert parse_command_lines(answer) == [
        StartFlow("book_table"),
        SetSlot("party_size", "4", False, "LLM"),
        CancelFlow(),
        HumanHandoff(),
    ]


def test_a_command_in_the_middle_of_a_line_is_not_parsed() -> None:
    assert parse_command_lines("the user said start flow book_table") == []


def test_quotes_are_stripped_from_names_and_values() -> None:
    assert parse_command_lines("set slot 'time' \"19:30\"") == [
        SetSlot("time", "19:30", False, "LLM")
    ]
    assert parse_command_lines("start flow 'book_table'") == [StartFlow("book_table")]
    assert parse_command_lines("disambiguate flows 'a', \"b\"") == [Clarify(("a", "b"))]


@pytest.mark.parametrize(
    "none", ["None", "null", "undefined", "[missing]", "[missing information]"]
)
def test_none_words_mean_no_value(none: str) -> None:
    assert parse_command_lines(f"set slot time {none}") == [SetSlot("time", None, False, "LLM")]


def test_values_keep_inner_spaces() -> None:
    assert parse_command_lines("set slot contact_name Ann Lee") == [
        SetSlot("contact_name", "Ann Lee", False, "LLM")
    ]


BOOKING = [{"flow_id": "book_table", "step_id": "0_collect_cuisine", "state": "asked"}]


def _check(text: str, project: FlowProject, slots: dict | None = None, stack=BOOKING):
    return check_commands(parse_command_lines(text), project, slots or {}, stack)


def test_slot_values_are_coerced_to_the_slot_type(example_project: FlowProject) -> None:
    assert _check("set slot cuisine ITALIAN\nset slot party_size 4", example_project) == [
        SetSlot("cuisine", "italian", False, "LLM"),
        SetSlot("party_size", 4.0, False, "LLM"),
    ]
    asking = [
        {"flow_id": "offer_alternatives", "step_id": "0_collect_try_other_time", "state": "asked"}
    ]
    assert _check("set slot try_other_time True", example_project, stack=asking) == [
        SetSlot("try_other_time", True, False, "LLM")
    ]


def test_a_value_that_does_not_fit_is_passed_on_for_the_engine_to_refuse(
    example_project: FlowProject,
) -> None:
    assert _check("set slot cuisine klingon", example_project) == [
        SetSlot("cuisine", "klingon", False, "LLM")
    ]


def test_unknown_and_guarded_off_flows_are_dropped(example_project: FlowProject) -> None:
    # collect_contact and offer_alternatives have `if: false`
    assert _check(
        "start flow nonexistent\nstart flow collect_contact\nstart flow book_table",
        example_project,
    ) == [StartFlow("book_table")]


def test_unknown_slots_and_slots_the_llm_may_not_fill_are_dropped(
    example_project: FlowProject,
) -> None:
    # booking_confirmed is `controlled`, table_available is filled by a custom action
    assert _check(
        "set slot nonexistent 1\nset slot booking_confirmed True\n"
        "set slot table_available True\nset slot time 20:00",
        example_project,
    ) == [SetSlot("time", "20:00", False, "LLM")]


def test_only_slots_of_the_active_or_a_starting_flow_may_be_set(
    example_project: FlowProject,
) -> None:
    # no flow is active: a slot alone is dropped, with the flow that collects it it is kept
    assert _check("set slot time 20:00", example_project, stack=[]) == []
    assert _check("start flow book_table\nset slot time 20:00", example_project, stack=[]) == [
        StartFlow("book_table"),
        SetSlot("time", "20:00", False, "LLM"),
    ]
    # confirm_cancel is ask_before_filling: open only while it is being asked
    asking = [{"flow_id": "cancel_booking", "step_id": "confirm", "state": "asked"}]
    assert _check(
        "set slot confirm_cancel yes\nset slot party_size 2", example_project, stack=asking
    ) == [SetSlot("confirm_cancel", True, False, "LLM")]
    assert _check("set slot confirm_cancel yes", example_project, stack=[]) == []
    # the slots of a flow the active one calls are open too
    assert _check("set slot contact_name Ann", example_project) == [
        SetSlot("contact_name", "Ann", False, "LLM")
    ]


def test_a_disambiguation_with_one_valid_option_starts_that_flow(
    example_project: FlowProject,
) -> None:
    assert _check("disambiguate flows book_table nonexistent", example_project, stack=[]) == [
        StartFlow("book_table")
    ]
    assert _check("disambiguate flows book_table cancel_booking", example_project, stack=[]) == [
        Clarify(("book_table", "cancel_booking"))
    ]
    # a flow already on the stack is not offered again
    assert _check("disambiguate flows book_table cancel_booking", example_project) == [
        StartFlow("cancel_booking")
    ]
    assert _check("disambiguate flows nope nada", example_project) == []


def test_set_slot_flow_name_is_read_as_a_flow_start(example_project: FlowProject) -> None:
    assert _check("set slot flow_name cancel_booking", example_project) == [
        StartFlow("cancel_booking")
    ]


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("StartFlow(book_table)", StartFlow("book_table")),
        ("SetSlot(time, 19:30)", SetSlot("time", "19:30", False, "LLM")),
        ("SetSlot('contact_name', 'Ann Lee')", SetSlot("contact_name", "Ann Lee", False, "LLM")),
        ("SetSlot(time, None)", SetSlot("time", None, False, "LLM")),
        ("CancelFlow()", CancelFlow()),
        ("ChitChat()", ChitChat()),
        ("SearchAndReply()", KnowledgeAnswer()),
        ("HumanHandoff()", HumanHandoff()),
        ("SkipQuestion()", SkipQuestion()),
        ("RepeatLastBotMessages()", RepeatBotMessages()),
        ("Clarify(book_table, cancel_booking)", Clarify(("book_table", "cancel_booking"))),
    ],
)
def test_the_older_call_syntax_of_single_step_prompts_parses(line: str, command: object) -> None:
    assert parse_command_lines(line) == [command]


def test_cannot_handle_in_the_older_syntax_gives_no_command() -> None:
    assert parse_command_lines("CannotHandle()") == []
