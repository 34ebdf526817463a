"""LLM helpers for actions, against the mock LLM: answers, fallbacks on errors and on answers
that are not a choice, and use from a class action and a function action run by the executor."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_server.config.endpoints import load_endpoints
from action_server.understanding import (
    configure_llm_helpers,
    llm_classify_binary,
    llm_classify_category,
)
from tests.understanding.mock_llm import MockLLM, Rule


@pytest.fixture
def helper_llm(tmp_path: Path) -> MockLLM:
    mock = MockLLM().start()
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "model_groups:\n  - id: helpers\n    models:\n      - model: m\n"
        f"        api_base: {mock.url}\n        max_retries: 0\n        timeout: 1\n",
        encoding="utf-8",
    )
    configure_llm_helpers(load_endpoints(endpoints))
    yield mock
    mock.stop()
    configure_llm_helpers(load_endpoints(None))


async def test_binary_reads_yes_and_no(helper_llm: MockLLM) -> None:
    helper_llm.rules = [
        Rule(prompt_contains="I am furious", answer="Yes."),
        Rule(prompt_contains="thanks", answer="no"),
    ]
    assert await llm_classify_binary("Is the customer angry?", "I am furious") is True
    assert await llm_classify_binary("Is the customer angry?", "thanks a lot") is False
    assert "Is the customer angry?" in helper_llm.requests[0].prompt


async def test_binary_falls_back_on_errors_and_unclear_answers(helper_llm: MockLLM) -> None:
    helper_llm.rules = [Rule(prompt_contains="outage", status=500), Rule(answer="maybe?")]
    assert await llm_classify_binary("Angry?", "outage", fallback=False) is False
    assert await llm_classify_binary("Angry?", "hmm", fallback=True) is True
    assert await llm_classify_binary("Angry?", "hmm") is None


async def test_category_picks_one_option(helper_llm: MockLLM) -> None:
    helper_llm.rules = [
        Rule(prompt_contains="my card", answer="Billing"),
        Rule(prompt_contains="app crashes", answer="I think it is technical."),
        Rule(prompt_contains="weather", answer="none of these"),
    ]
    options = ["billing", "technical", "sales"]
    assert await llm_classify_category("Which team?", "my card was charged", options) == "billing"
    assert await llm_classify_category("Which team?", "the app crashes", options) == "technical"
    assert (
        await llm_classify_category("Which team?", "weather", options, fallback="sales") == "sales"
    )
    assert "- billing\n- technical\n- sales" in helper_llm.requests[0].prompt


async def test_an_unknown_model_group_gives_the_fallback(helper_llm: MockLLM) -> None:
    assert await llm_classify_binary("x", "y", fallback=True, model_group="nope") is True


async def test_helpers_work_inside_actions_run_by_the_executor(helper_llm: MockLLM) -> None:
    from action_server import Action
    from action_server.events import SlotSet
    from action_server.executor import ActionExecutor
    from tests.helpers import action_call

    class ActionTriage(Action):
        def name(self) -> str:
            return "action_triage"

        async def run(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
            team = await llm_classify_category(
                "Which team?", tracker.latest_message.get("text", ""), ["billing", "sales"]
            )
            return [SlotSet("team", team)]

    helper_llm.rules = [Rule(answer="sales")]
    executor = ActionExecutor()
    executor.register_action(ActionTriage)
    call = action_call("action_triage")
    call["tracker"]["latest_message"] = {"text": "I want to buy more seats"}
    result = await executor.execute(call)
    assert result["events"][0]["value"] == "sales"
    executor.close()


def test_helpers_in_a_plain_action_server_use_its_endpoints_file(tmp_path: Path) -> None:
    import httpx

    from tests.helpers import ServerProcess, action_call

    with MockLLM(
        [
            Rule(prompt_contains="Is the customer upset?", answer="yes"),
            Rule(prompt_contains="Which team", answer="technical"),
        ]
    ) as mock:
        endpoints = tmp_path / "my-endpoints.yml"
        endpoints.write_text(
            "model_groups:\n  - id: helpers\n    models:\n      - model: m\n"
            f"        api_base: {mock.url}\n        max_retries: 0\n",
            encoding="utf-8",
        )
        call = action_call("action_triage")
        call["tracker"]["latest_message"] = {"text": "the app crashes all the time!"}
        with ServerProcess(
            ["--actions", "tests.understanding.helper_actions", "--endpoints", str(endpoints)]
        ) as server:
            response = httpx.post(server.url + "/webhook", json=call, timeout=10)
        assert response.status_code == 200, response.text
        events = response.json()["events"]
        assert [(e["name"], e["value"]) for e in events] == [("upset", True), ("team", "technical")]
        assert len(mock.requests) == 2
