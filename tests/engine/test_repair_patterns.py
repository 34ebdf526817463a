"""Repair semantics through Rasa's patterns, with commands from a plugged-in command source
(as an LLM command generator would send them)."""

from __future__ import annotations

import random
from pathlib import Path

from action_server.dialogue.responses import select_variation
from action_server.flows.model import FlowProject
from action_server.stores.store import ConversationState
from action_server.understanding.commands import Command, KnowledgeAnswer, SetSlot, StartFlow
from tests.engine.helpers import ANYTHING_ELSE, BASE_DOMAIN, flow_events, make_engine, texts

FLOWS = """
flows:
  first:
    description: says yes
    steps:
      - action: utter_yes
  second:
    description: says no
    steps:
      - action: utter_no
  sizes:
    description: asks a size and a note
    steps:
      - collect: size
      - collect: note
"""

MAPPED_DOMAIN = BASE_DOMAIN.replace(
    "  kept: {type: text}",
    "  kept: {type: text, mappings: [{type: controlled}]}",
)


class Scripted:
    """A command source that returns the commands queued for each message."""

    def __init__(self) -> None:
        self.queue: list[list[Command]] = []

    async def parse(
        self, text: str, state: ConversationState, project: FlowProject
    ) -> list[Command]:
        return self.queue.pop(0)


async def test_several_start_flows_run_in_the_order_named(tmp_path: Path) -> None:
    source = Scripted()
    engine = make_engine(tmp_path, FLOWS, command_source=source)
    source.queue.append([StartFlow("first"), StartFlow("second")])
    result = await engine.handle("c", "both please")
    assert texts(result)[:2] == ["You said yes", "You said no"]


async def test_an_llm_may_not_fill_a_controlled_slot(tmp_path: Path) -> None:
    source = Scripted()
    engine = make_engine(tmp_path, FLOWS, MAPPED_DOMAIN, command_source=source)
    source.queue.append([SetSlot("kept", "x", extractor="LLM")])
    result = await engine.handle("c", "keep x")
    assert ("flow_started", "pattern_cannot_handle") in flow_events(result)
    assert (await engine.tracker("c"))["slots"]["kept"] is None
    source.queue.append([SetSlot("kept", "x")])  # a button payload may
    await engine.handle("c", "/SetSlots(kept=x)")
    assert (await engine.tracker("c"))["slots"]["kept"] == "x"


async def test_ending_a_flow_resets_every_collected_slot_even_unfilled(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, FLOWS)
    await engine.handle("c", "/StartFlow(sizes)")
    await engine.handle("c", "small")
    result = await engine.handle("c", "a note")
    resets = [(e["name"], e["value"]) for e in result.events if e["event"] == "slot"]
    assert ("size", None) in resets and ("note", None) in resets
    assert texts(result) == [ANYTHING_ELSE]


async def test_a_correction_rewinds_to_the_step_that_collected_the_slot(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, FLOWS)
    await engine.handle("c", "/StartFlow(sizes)")
    await engine.handle("c", "small")
    result = await engine.handle("c", "/SetSlots(size=large)")
    started = [e for e in result.events if e["event"] == "flow_started"]
    context = started[0]["metadata"]
    assert started[0]["flow_id"] == "pattern_correction"
    assert context["corrected_slots"] == {"size": "large"}
    assert context["reset_flow_id"] == "sizes" and context["reset_step_id"] == "0_collect_size"
    assert texts(result) == ["Okay, I've changed size to large.", "Any note?"]


async def test_a_flow_gone_from_the_project_triggers_pattern_code_change(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, FLOWS)
    await engine.handle("c", "/StartFlow(sizes)")
    state = await engine.store.load("c")
    assert state is not None
    state.stack[0]["flow_id"] = "renamed_away"
    await engine.store.save(state)
    result = await engine.handle("c", "hello")
    assert ("flow_started", "pattern_code_change") in flow_events(result)
    assert texts(result)[0].startswith("My setup changed while we were talking")


def test_response_conditions_take_predicates_and_a_seeded_choice() -> None:
    variations = [
        {"text": "gold", "condition": "slots.tier = 'gold'"},
        {"text": "a"},
        {"text": "b"},
        {"text": "c"},
    ]
    assert select_variation(variations, {"tier": "gold"})["text"] == "gold"  # type: ignore[index]
    picks = [select_variation(variations, {}, rng=random.Random(7)) for _ in range(1)]
    again = [select_variation(variations, {}, rng=random.Random(7)) for _ in range(1)]
    assert picks == again
    seen = {
        select_variation(variations, {}, rng=random.Random(seed))["text"]  # type: ignore[index]
        for seed in range(40)
    }
    assert seen == {"a", "b", "c"}


async def test_user_silence_repeats_then_checks_then_hangs_up(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, FLOWS)
    await engine.handle("c", "/StartFlow(sizes)")
    assert texts(await engine.user_silence("c")) == ["Which size?"]  # repeated, not asked twice
    assert texts(await engine.user_silence("c")) == ["Are you still there?", "Which size?"]
    await engine.handle("c", "small")  # an answer resets the count
    assert (await engine.tracker("c"))["slots"]["consecutive_silence_timeouts"] == 0.0
    for _ in range(2):
        await engine.user_silence("c")
    result = await engine.user_silence("c")
    assert texts(result) == ["I haven't heard from you, so I'll end the call now. Goodbye!"]
    assert result.events[-1]["event"] == "session_ended"
    assert (await engine.tracker("c"))["ended"] is True


async def test_a_second_digression_supersedes_the_open_continue_question(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, FLOWS)
    await engine.handle("c", "/StartFlow(sizes)")
    first = await engine.handle("c", "/StartFlow(first)")
    assert texts(first) == ["You said yes", "Shall we go back to sizes?"]
    second = await engine.handle("c", "/StartFlow(second)")
    assert texts(second) == ["You said no", "Shall we go back to sizes?"]
    assert ("flow_cancelled", "pattern_continue_interrupted") in flow_events(second)
    assert texts(await engine.handle("c", "yes")) == ["Which size?"]
    stack = (await engine.tracker("c"))["stack"]
    assert [frame["flow_id"] for frame in stack] == ["sizes"]


async def test_cancelling_during_the_continue_question_leaves_nothing_to_ask(
    tmp_path: Path,
) -> None:
    engine = make_engine(tmp_path, FLOWS)
    await engine.handle("c", "/StartFlow(sizes)")
    await engine.handle("c", "/StartFlow(first)")
    result = await engine.handle("c", "/CancelFlow")
    assert texts(result) == ["Alright, I've stopped sizes."]
    assert (await engine.tracker("c"))["stack"] == []


async def test_from_paths_reads_a_rasa_project_in_its_layout() -> None:
    from action_server.dialogue.engine import FlowEngine
    from tests.helpers import REPO_ROOT

    banking = REPO_ROOT / "examples" / "banking"
    engine = FlowEngine.from_paths(
        flows=[banking], endpoints=REPO_ROOT / "tests/flows_cli/data/endpoints_memory.yml"
    )
    try:
        assert "transfer_money" in engine.project.flows
        assert engine.project.flows["pattern_chitchat"].description.startswith("Small talk gets")
        result = await engine.handle("c", "/ChitChat")  # no slash form: cannot handle
        assert ("flow_started", "pattern_cannot_handle") in flow_events(result)
    finally:
        await engine.close()


async def test_a_project_action_wins_over_the_default_action(tmp_path: Path) -> None:
    flows = (
        FLOWS
        + """
  pattern_search:
    description: search with the project's own action
    steps:
      - action: action_trigger_search
"""
    )
    source = Scripted()
    engine = make_engine(tmp_path, flows, command_source=source)
    source.queue.append([KnowledgeAnswer()])
    result = await engine.handle("c", "what are your opening hours?")
    assert texts(result) == ["Found it in the project's own knowledge base."]
