"""The default command source: button payloads, intents, answers."""

from __future__ import annotations

import re

import pytest

from action_server.flows.model import Flow, FlowProject, NluTrigger, SourceRef, Step
from action_server.stores.store import ConversationState
from action_server.understanding.commands import (
    CancelFlow,
    CannotHandle,
    Restart,
    SetSlot,
    StartFlow,
)
from action_server.understanding.slash import DefaultCommandSource, PayloadError, parse_payload

SRC = SourceRef("flows.yml", 1, 1)


def project() -> FlowProject:
    collect = Step(id="ask_answer", kind="collect", source=SRC, collect="answer")
    flow = Flow(
        id="survey",
        source=SRC,
        name="survey",
        nlu_trigger=[NluTrigger("start_survey")],
        steps={"ask_answer": collect},
        first_step_id="ask_answer",
    )
    from action_server.flows.model import SlotDefinition

    result = FlowProject(flows={"survey": flow})
    result.domain.slots["answer"] = SlotDefinition("answer", "text")
    return result


def test_set_slots_payload_parses_several_slots_with_quoted_values() -> None:
    commands = parse_payload("/SetSlots(cuisine=italian, note=\"a, b\", other='x y')", project())
    assert commands == [
        SetSlot("cuisine", "italian"),
        SetSlot("note", "a, b"),
        SetSlot("other", "x y"),
    ]


def test_start_flow_and_cancel_flow_payloads() -> None:
    assert parse_payload("/StartFlow(survey)", project()) == [StartFlow("survey")]
    assert parse_payload("/StartFlow(flow_id=survey)", project()) == [StartFlow("survey")]
    assert parse_payload("/CancelFlow", project()) == [CancelFlow()]
    assert parse_payload("/CancelFlow()", project()) == [CancelFlow()]
    assert parse_payload("/restart", project()) == [Restart()]


def test_intent_payload_starts_the_flow_whose_nlu_trigger_matches() -> None:
    assert parse_payload("/start_survey", project()) == [StartFlow("survey")]


def test_intent_payload_entities_fill_domain_slots_only() -> None:
    commands = parse_payload('/start_survey{"answer": "yes", "unknown": 1}', project())
    assert commands == [SetSlot("answer", "yes"), StartFlow("survey")]


def test_unknown_intent_cannot_be_handled() -> None:
    commands = parse_payload("/dance", project())
    assert commands == [CannotHandle("no flow is triggered by intent 'dance'")]


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ("/SetSlots(cuisine=italian", "missing closing ')'"),
        ("/SetSlots(cuisine)", "expected slot=value"),
        ('/SetSlots(note="open)', "unterminated"),
        ("/SetSlots()", "no slot=value pairs"),
        ("/StartFlow(a, b)", "expected one flow id"),
        ("/CancelFlow(x)", "takes no arguments"),
    ],
)
def test_malformed_payloads_raise_errors_quoting_the_payload(payload: str, needle: str) -> None:
    with pytest.raises(PayloadError, match=re.escape(needle)):
        parse_payload(payload, project())


async def test_plain_text_answers_the_collect_being_asked() -> None:
    state = ConversationState(
        "c", stack=[{"flow_id": "survey", "step_id": "ask_answer", "state": "asked"}]
    )
    commands = await DefaultCommandSource().parse(" yes ", state, project())
    assert commands == [SetSlot("answer", "yes", is_answer=True)]


async def test_plain_text_without_a_question_cannot_be_handled() -> None:
    commands = await DefaultCommandSource().parse("hello", ConversationState("c"), project())
    assert commands == [CannotHandle()]


async def test_malformed_payload_becomes_cannot_handle_with_the_reason() -> None:
    commands = await DefaultCommandSource().parse("/SetSlots(x", ConversationState("c"), project())
    assert len(commands) == 1 and isinstance(commands[0], CannotHandle)
    assert "missing closing ')'" in str(commands[0].reason)
