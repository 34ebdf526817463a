"""The prompt: Current State and Conversation History exactly as Rasa renders them (golden
files), the template variables Rasa gives custom templates, and template load errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from action_server.flows.model import FlowProject
from action_server.stores.store import ConversationState
from action_server.understanding.prompt import (
    TEMPLATE_VARIABLES,
    PromptBuilder,
    PromptTemplateError,
    conversation_history,
    load_prompt_template,
)

GOLDEN = Path(__file__).parent / "golden"


def _frame(flow: str, step: str, frame_type: str = "regular", state: str = "asked") -> dict:
    return {"flow_id": flow, "step_id": step, "frame_type": frame_type, "state": state}


def _user(text: str, commands: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"commands": commands or []}}


def _bot(text: str | None) -> dict[str, Any]:
    return {"event": "bot", "text": text}


CONVERSATIONS: dict[str, tuple[list[dict], dict[str, Any], list[dict], str]] = {
    "not_in_a_flow": ([{"event": "session_started"}], {}, [], "hi"),
    "asking_cuisine": (
        [
            {"event": "session_started"},
            _user("/book_table"),
            _bot("Which cuisine\nwould you like?"),
        ],
        {"booking_confirmed": False},
        [_frame("book_table", "0_collect_cuisine")],
        "Italian please",
    ),
    "inside_a_called_flow": (
        [_user("book a table for 4 at 19:30, italian"), _bot("What name?")],
        {"cuisine": "italian", "party_size": 4.0, "time": "19:30", "table_available": True},
        [
            _frame("book_table", "check_availability", state="calling"),
            _frame("collect_contact", "0_collect_contact_name", frame_type="call"),
        ],
        "Ann",
    ),
    "ask_before_filling_is_shown_only_when_asked": (
        [_user("/cancel_booking"), _bot("Cancel your italian table at 19:30?")],
        {"booking_confirmed": True, "confirm_cancel": None},
        [_frame("cancel_booking", "confirm")],
        "yes",
    ),
}


def _state(events: list[dict], slots: dict[str, Any], stack: list[dict]) -> ConversationState:
    return ConversationState("c1", events=list(events), slots=dict(slots), stack=list(stack))


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"differs from {path}"


@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
def test_current_state_and_history_match_the_golden_files(
    name: str, example_project: FlowProject
) -> None:
    events, slots, stack, latest = CONVERSATIONS[name]
    inputs = PromptBuilder(example_project).inputs(latest, _state(events, slots, stack))
    _golden(f"{name}.current_state.txt", inputs["current_state"])
    _golden(f"{name}.history.txt", inputs["current_conversation"])


def test_history_keeps_the_last_20_messages_after_the_latest_restart() -> None:
    events: list[dict] = [_user("before the restart"), {"event": "restart"}]
    for number in range(15):
        events += [_user(f"u{number}"), _bot(f"b{number}")]
    events += [
        _user(
            "x" * 500,
            [{"command": "error", "error_type": "rasa_internal_error_user_input_too_long"}],
        ),
        _user("", [{"command": "error", "error_type": "rasa_internal_error_default"}]),
        _bot(None),
        _user("/SetSlots(cuisine=italian)"),
    ]
    _golden("long_history.txt", conversation_history(events, "and\nnow"))


def test_a_rewind_takes_back_the_last_user_message() -> None:
    events = [_user("one"), _bot("a"), _user("two"), {"event": "rewind"}]
    assert conversation_history(events, "three") == "USER: one\nAI: a\nUSER: three"


def test_the_first_message_follows_an_empty_history_on_a_new_line() -> None:
    assert conversation_history([], "hi") == "\nUSER: hi"


def test_inputs_hold_rasa_template_variables(example_project: FlowProject) -> None:
    events, slots, stack, latest = CONVERSATIONS["asking_cuisine"]
    inputs = PromptBuilder(example_project).inputs(latest, _state(events, slots, stack))
    assert set(inputs) == TEMPLATE_VARIABLES
    assert inputs["current_flow"] == "book_table"
    assert inputs["current_slot"] == "cuisine"
    assert inputs["current_slot_type"] == "categorical"
    assert inputs["current_slot_allowed_values"] == "['italian', 'japanese', 'indian', 'mexican']"
    assert inputs["user_message"] == "Italian please"
    # guarded-off flows (if: false) are not offered
    assert [f["name"] for f in inputs["available_flows"]] == [
        "greet",
        "book_table",
        "cancel_booking",
    ]


def test_a_custom_template_gets_rasa_variables(
    tmp_path: Path, example_project: FlowProject
) -> None:
    template = tmp_path / "prompt.jinja2"
    template.write_text(
        "{% for flow in available_flows %}{{ flow.name }}: {{ flow.description }}\n{% endfor %}"
        "{% if current_flow != None %}in {{ current_flow }} asking {{ current_slot }}"
        "{% endif %}\n{{ current_conversation }}\n{{ user_message | to_json_escaped_string }}",
        encoding="utf-8",
    )
    events, slots, stack, latest = CONVERSATIONS["asking_cuisine"]
    prompt = PromptBuilder(example_project, load_prompt_template(template)).render(
        latest, _state(events, slots, stack)
    )
    assert "book_table: Book a restaurant table" in prompt
    assert "in book_table asking cuisine" in prompt
    assert prompt.endswith(
        'AI: Which cuisine would you like?\nUSER: Italian please\n"Italian please"'
    )


def test_an_unknown_template_variable_is_a_load_error_naming_file_and_line(tmp_path: Path) -> None:
    template = tmp_path / "prompt.jinja2"
    template.write_text("line one\n{{ user_message }}\n\n{{ user_mesage }}\n", encoding="utf-8")
    with pytest.raises(
        PromptTemplateError, match=rf"{template}:4: unknown template variable 'user_mesage'"
    ):
        load_prompt_template(template)


def test_a_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    template = tmp_path / "prompt.jinja2"
    template.write_text("ok\n{% if current_flow %}\nno end", encoding="utf-8")
    with pytest.raises(
        PromptTemplateError,
        match=rf"{template}:2: invalid template.*block that needs to be closed is .if.",
    ):
        load_prompt_template(template)


# Current State written with Rasa's template variables, the way a project's own template does:
# it must give the very text the generator renders.
_STATE_TEMPLATE = (
    '{% if current_flow != None %}{"active_flow":"{{ current_flow }}","current_step":'
    '{"requested_slot":"{{ current_slot }}","requested_slot_description":'
    '{{ current_slot_description | to_json_escaped_string }}},"slots":['
    '{% for slot in flow_slots %}{"name":"{{ slot.name }}","value":"{{ slot.value }}",'
    '"type":"{{ slot.type }}"{% if slot.description %},"description":'
    "{{ slot.description | to_json_escaped_string }}{% endif %}{% if slot.allowed_values %},"
    '"allowed_values":"{{ slot.allowed_values }}"{% endif %}}{% if not loop.last %},{% endif %}'
    "{% endfor %}]}{% else %}You are currently not inside any flow.{% endif %}"
)


@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
def test_a_template_built_from_rasa_variables_renders_the_same_current_state(
    name: str, tmp_path: Path, example_project: FlowProject
) -> None:
    template = tmp_path / "state.jinja2"
    template.write_text(_STATE_TEMPLATE, encoding="utf-8")
    events, slots, stack, latest = CONVERSATIONS[name]
    builder = PromptBuilder(example_project, load_prompt_template(template))
    state = _state(events, slots, stack)
    assert builder.render(latest, state) == builder.inputs(latest, state)["current_state"]
