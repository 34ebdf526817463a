"""The NLU command adapter: exact matches, the classifier above and below its threshold, the
flows' nlu_trigger thresholds, and training time."""

from __future__ import annotations

import time

import pytest

from action_server.flows.model import FlowProject
from action_server.understanding.commands import StartFlow
from action_server.understanding.nlu_adapter import (
    IntentClassifier,
    NLUCommandAdapter,
    load_nlu_examples,
)
from tests.helpers import REPO_ROOT


@pytest.fixture(scope="module")
def adapter() -> NLUCommandAdapter:
    examples = load_nlu_examples([REPO_ROOT / "data"])
    assert len(examples) > 20
    return NLUCommandAdapter(IntentClassifier(examples), threshold=0.5)


def test_an_exact_example_always_matches(
    adapter: NLUCommandAdapter, example_project: FlowProject
) -> None:
    prediction, commands = adapter.predict("Cancel my booking!", example_project, {})
    assert prediction is not None and prediction.exact and prediction.confidence == 1.0
    assert commands == [StartFlow("cancel_booking")]


def test_a_close_paraphrase_matches_above_the_threshold(
    adapter: NLUCommandAdapter, example_project: FlowProject
) -> None:
    prediction, commands = adapter.predict(
        "I'd like to book a table for 4 tonight", example_project, {}
    )
    assert prediction is not None and not prediction.exact
    assert prediction.intent == "book_table" and prediction.confidence >= 0.5
    assert commands == [StartFlow("book_table")]


def test_an_unrelated_message_stays_below_the_threshold(
    adapter: NLUCommandAdapter, example_project: FlowProject
) -> None:
    prediction, commands = adapter.predict("what is the capital of peru", example_project, {})
    assert prediction is None or prediction.confidence < 0.5
    assert commands == []


def test_the_flow_trigger_threshold_applies_too(example_project: FlowProject) -> None:
    # book_table's nlu_trigger needs confidence 0.5 even when the adapter's threshold is lower.
    classifier = IntentClassifier([("book_table", "book a table at the restaurant tonight")])
    adapter = NLUCommandAdapter(classifier, threshold=0.0)
    prediction, commands = adapter.predict("table", example_project, {})
    assert prediction is not None and prediction.confidence < 0.5
    assert commands == []


def test_exact_only_ignores_classifier_matches(
    adapter: NLUCommandAdapter, example_project: FlowProject
) -> None:
    assert (
        adapter.predict(
            "I'd like to book a table for 4 tonight", example_project, {}, exact_only=True
        )[1]
        == []
    )
    assert adapter.predict("book a table", example_project, {}, exact_only=True)[1] == [
        StartFlow("book_table")
    ]


def test_an_intent_without_a_flow_starts_nothing(
    adapter: NLUCommandAdapter, example_project: FlowProject
) -> None:
    prediction, commands = adapter.predict("goodbye", example_project, {})
    assert prediction is not None and prediction.intent == "goodbye"
    assert commands == []


def test_annotated_examples_lose_their_entity_markup(tmp_path) -> None:
    (tmp_path / "nlu.yml").write_text(
        'nlu:\n  - intent: order\n    examples: |\n      - I want [pizza](food)\n      - two [tacos]{"entity": "food"}\n',
        encoding="utf-8",
    )
    assert load_nlu_examples([tmp_path]) == [("order", "I want pizza"), ("order", "two tacos")]


def test_fifty_intents_train_in_under_two_seconds() -> None:
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split()
    examples = [
        (f"intent_{i}", f"please {words[i % 13]} {words[(i * 7 + j) % 13]} number {i} variant {j}")
        for i in range(50)
        for j in range(30)
    ]
    started = time.perf_counter()
    classifier = IntentClassifier(examples)
    assert time.perf_counter() - started < 2.0
    assert classifier.size == 1500
    prediction = classifier.predict("please alpha number 0 variant 3")
    assert prediction is not None and prediction.intent == "intent_0"
