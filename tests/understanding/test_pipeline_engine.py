"""The configured command source inside the real flow engine with the example project and its
in-process actions: natural language through the mock LLM, the NLU adapter, the no-LLM
fallback, minimize_num_calls and the router slot."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_server.config.endpoints import load_endpoints
from action_server.config.pipeline import load_pipeline_config
from action_server.dialogue.engine import FlowEngine
from action_server.stores.store import InMemoryConversationStore
from action_server.understanding.pipeline import UnderstandingPipeline, build_understanding
from tests.engine.helpers import texts
from tests.helpers import REPO_ROOT
from tests.understanding.mock_llm import MockLLM, Rule


def _engine(tmp_path: Path, config: str | None, mock: MockLLM | None = None) -> FlowEngine:
    endpoints = tmp_path / "endpoints.yml"
    groups = ""
    if mock is not None:
        groups = (
            "model_groups:\n  - id: llm\n    models:\n      - provider: openai\n"
            f"        model: m\n        api_base: {mock.url}\n        max_retries: 0\n"
        )
    endpoints.write_text("action_endpoint:\n  actions_module: actions\n" + groups, encoding="utf-8")
    config_path = None
    if config is not None:
        config_path = tmp_path / "config.yml"
        config_path.write_text(config, encoding="utf-8")
    engine = FlowEngine.from_paths(
        flows=[REPO_ROOT / "flows"], endpoints=endpoints, store=InMemoryConversationStore()
    )
    understanding = build_understanding(
        load_pipeline_config(str(config_path) if config_path else None),
        load_endpoints(endpoints),
        engine.project,
        [REPO_ROOT / "data"],
    )
    engine.command_source = understanding.source
    return engine


LLM_CONFIG = "pipeline:\n  - name: CompactLLMCommandGenerator\n    llm:\n      model_group: llm\n"


async def test_natural_language_books_a_table_through_the_llm(tmp_path: Path) -> None:
    with MockLLM(
        [
            Rule(
                latest="book a table for 4 tonight",
                answer="start flow book_table\nset slot party_size 4",
            ),
            Rule(latest="italian", answer="set slot cuisine italian"),
            Rule(latest="half past seven", answer="set slot time 19:30"),
        ]
    ) as mock:
        engine = _engine(tmp_path, LLM_CONFIG, mock)
        assert texts(await engine.handle("u", "I'd like to book a table for 4 tonight")) == [
            "Which cuisine would you like?"
        ]
        assert texts(await engine.handle("u", "Italian, please")) == [
            "What time would you like the table (for example 19:30)?"
        ]
        result = await engine.handle("u", "half past seven")
        assert texts(result)[0] == "Let me check 19:30 for you..."
        tracker = await engine.tracker("u")
        user = [e for e in tracker["events"] if e["event"] == "user"][0]
        assert user["parse_data"]["commands"] == [
            {"command": "start flow", "flow": "book_table"},
            {"command": "set slot", "name": "party_size", "value": 4.0},
        ]
        # the exchange is kept with the message (for the inspector), not in the conversation
        assert user["parse_data"]["llm_answer"] == "start flow book_table\nset slot party_size 4"
        assert user["parse_data"]["llm_prompt"] == mock.requests[0].prompt
        stored = await engine.store.load("u")
        assert stored is not None and "parse_data_extra" not in stored.metadata
        # the second prompt saw the first turn in its history and the state of the flow
        prompt = mock.requests[1].prompt
        assert (
            "USER: I'd like to book a table for 4 tonight\nAI: Which cuisine would you like?\nUSER: Italian, please"
            in prompt
        )
        assert '"active_flow":"book_table","current_step":{"requested_slot":"cuisine"' in prompt
        await engine.close()
        await understanding_close(engine)


async def understanding_close(engine: FlowEngine) -> None:
    source = engine.command_source
    assert isinstance(source, UnderstandingPipeline)
    await source.close()


async def test_cancel_through_the_llm(tmp_path: Path) -> None:
    with MockLLM([Rule(latest="never mind", answer="cancel flow")]) as mock:
        engine = _engine(tmp_path, LLM_CONFIG, mock)
        await engine.handle("u", "/book_table")
        result = await engine.handle("u", "never mind")
        assert [e["flow_id"] for e in result.events if e["event"] == "flow_cancelled"] == [
            "book_table"
        ]
        assert (await engine.tracker("u"))["stack"] == []
        await engine.close()
        await understanding_close(engine)


async def test_slash_payloads_never_reach_the_llm(tmp_path: Path) -> None:
    with MockLLM() as mock:
        engine = _engine(tmp_path, LLM_CONFIG, mock)
        assert texts(await engine.handle("u", "/book_table")) == ["Which cuisine would you like?"]
        assert mock.requests == []
        await engine.close()
        await understanding_close(engine)


async def test_an_nlu_match_skips_the_llm_when_minimizing_calls(tmp_path: Path) -> None:
    config = "pipeline:\n  - name: NLUCommandAdapter\n" + LLM_CONFIG.split("\n", 1)[1]
    with MockLLM([Rule(answer="offtopic reply")]) as mock:
        engine = _engine(tmp_path, config, mock)
        assert (
            texts(await engine.handle("u", "cancel my booking"))
            == ["You have no booking to cancel."]
            or (await engine.tracker("u"))["events"]
        )
        assert mock.requests == []
        await engine.handle("u2", "how is the weather")  # no NLU match: the LLM is asked
        assert len(mock.requests) == 1
        await engine.close()
        await understanding_close(engine)


async def test_an_llm_outage_is_an_internal_error_not_a_crash(tmp_path: Path) -> None:
    with MockLLM([Rule(status=500)]) as mock:
        engine = _engine(tmp_path, LLM_CONFIG, mock)
        result = await engine.handle("u", "book me a table")
        assert result.messages  # the engine answered something; the conversation goes on
        tracker = await engine.tracker("u")
        user = [e for e in tracker["events"] if e["event"] == "user"][0]
        assert user["parse_data"]["commands"] == [
            {"command": "error", "error_type": "rasa_internal_error_default", "info": {}}
        ]
        assert texts(await engine.handle("u", "/book_table")) == ["Which cuisine would you like?"]
        await engine.close()
        await understanding_close(engine)


async def test_without_an_llm_the_nlu_adapter_starts_flows(tmp_path: Path) -> None:
    engine = _engine(tmp_path, None)
    assert texts(await engine.handle("u", "I'd like to book a table for 4 tonight")) == [
        "Which cuisine would you like?"
    ]
    # an answer to the question stays an answer, even if it resembles an intent
    assert texts(await engine.handle("u", "italian")) == ["For how many people?"]
    await engine.close()


async def test_without_an_llm_the_fallback_tells_what_the_assistant_can_do(tmp_path: Path) -> None:
    engine = _engine(tmp_path, "pipeline: []\n")
    result = await engine.handle("u", "what is the capital of peru")
    assert result.messages == [
        {
            "text": "Sorry, I didn't understand that. Here is what I can help with:",
            "buttons": [
                {"title": "greet", "payload": "/StartFlow(greet)"},
                {"title": "Book a table", "payload": "/StartFlow(book_table)"},
                {"title": "cancel_booking", "payload": "/StartFlow(cancel_booking)"},
            ],
        }
    ]
    assert texts(await engine.handle("u", "/StartFlow(book_table)")) == [
        "Which cuisine would you like?"
    ]
    await engine.close()


@pytest.mark.parametrize("with_slot", [True, False])
async def test_the_router_sets_the_routing_slot(tmp_path: Path, with_slot: bool) -> None:
    engine = _engine(tmp_path, "pipeline:\n  - name: LLMBasedRouter\n")
    if with_slot:
        from action_server.flows.model import SlotDefinition

        engine.project.domain.slots["route_session_to_calm"] = SlotDefinition(
            "route_session_to_calm", "bool"
        )
    await engine.handle("u", "/book_table")
    slots = (await engine.tracker("u"))["slots"]
    # route_session_to_calm is one of Rasa's default slots (flows/defaults/patterns.yml), so
    # it exists whether or not the domain declares it.
    assert slots.get("route_session_to_calm") is True
    await engine.close()


async def test_an_answer_to_a_question_goes_to_the_llm_even_if_it_resembles_an_intent(
    tmp_path: Path,
) -> None:
    config = "pipeline:\n  - name: NLUCommandAdapter\n" + LLM_CONFIG.split("\n", 1)[1]
    with MockLLM([Rule(latest="I want pizza", answer="set slot cuisine italian")]) as mock:
        engine = _engine(tmp_path, config, mock)
        await engine.handle("u", "/book_table")
        # "I want pizza" is close to book_table's examples, but the question is being asked
        assert texts(await engine.handle("u", "I want pizza")) == ["For how many people?"]
        assert len(mock.requests) == 1
        await engine.close()
        await understanding_close(engine)


async def test_a_broken_payload_keeps_its_reason_in_the_fallback(tmp_path: Path) -> None:
    engine = _engine(tmp_path, "pipeline: []\n")
    result = await engine.handle("u", "/StartFlow(book_table")
    assert result.messages[0]["text"] == (
        "Sorry, I didn't understand that (missing closing ')' in '/StartFlow(book_table'). "
        "Here is what I can help with:"
    )
    assert len(result.messages[0]["buttons"]) == 3
    await engine.close()
