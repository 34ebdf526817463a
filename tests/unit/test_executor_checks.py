"""ActionExecutor checks around the action: declared class-action arguments, open streams."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from action_server import Action, ActionExecutionRejection
from action_server.events import SlotSet
from action_server.exceptions import ActionLoadError
from action_server.executor import ActionExecutor
from action_server.executor.arguments import ArgumentAction, ArgumentSpec


def _call(action: str, slots: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "next_action": action,
        "tracker": {"sender_id": "u1", "slots": slots or {}, "events": []},
        "domain": {"slots": {}},
    }


class ActionWithArguments(Action):
    arguments = {"people": "number"}

    def name(self) -> str:
        return "action_with_arguments"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        return [SlotSet("seen", tracker.get_slot("people"))]


class ActionWithBadDeclaration(Action):
    arguments = {"people": "integer-ish"}

    def name(self) -> str:
        return "action_bad_declaration"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        return []


class CountingArgumentAction(ArgumentAction):
    """Validates its own arguments in run(); the executor must not check them a second time."""

    arguments = [ArgumentSpec("people", "number")]

    def __init__(self) -> None:
        self.runs = 0

    def name(self) -> str:
        return "action_counting"

    async def execute(
        self, args: dict[str, Any], dispatcher: Any, tracker: Any, domain: Any
    ) -> list[dict[str, Any]]:
        self.runs += 1
        return [SlotSet("people", args["people"])]


class ActionForgetsStreamEnd(Action):
    def name(self) -> str:
        return "action_forgets_stream_end"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        await dispatcher.stream_chunk(text="one")
        await dispatcher.stream_chunk(text="two", buttons=[{"title": "ok", "payload": "/ok"}])
        return []


async def test_class_action_with_declared_arguments_runs_when_they_fit() -> None:
    executor = ActionExecutor()
    executor.register_action(ActionWithArguments)
    result = await executor.execute(_call("action_with_arguments", {"people": "4"}))
    assert result["events"] == [SlotSet("seen", "4")]


async def test_class_action_argument_of_the_wrong_type_is_rejected_before_it_runs() -> None:
    executor = ActionExecutor()
    executor.register_action(ActionWithArguments)
    with pytest.raises(ActionExecutionRejection) as rejected:
        await executor.execute(_call("action_with_arguments", {"people": "many"}))
    assert rejected.value.action_name == "action_with_arguments"
    assert str(rejected.value) == (
        "action_with_arguments: argument 'people': expected number, got 'many'"
    )


def test_invalid_arguments_declaration_fails_registration_naming_the_class() -> None:
    executor = ActionExecutor()
    with pytest.raises(ActionLoadError) as failed:
        executor.register_action(ActionWithBadDeclaration)
    assert "ActionWithBadDeclaration" in str(failed.value)
    assert "unknown argument type 'integer-ish'" in str(failed.value)
    assert executor.actions == {}


async def test_argument_actions_validate_their_own_arguments_once() -> None:
    executor = ActionExecutor()
    action = CountingArgumentAction()
    executor.register_action(action)
    result = await executor.execute(_call("action_counting", {"people": "3"}))
    assert result["events"] == [SlotSet("people", 3)]
    assert action.runs == 1
    with pytest.raises(ActionExecutionRejection):
        await executor.execute(_call("action_counting", {}))
    assert action.runs == 1


async def test_stream_left_open_is_closed_with_a_warning_and_its_chunks_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    executor = ActionExecutor()
    executor.register_action(ActionForgetsStreamEnd)
    with caplog.at_level(logging.WARNING, logger="action_server.executor"):
        result = await executor.execute(_call("action_forgets_stream_end"))
    assert [(m["text"], m["buttons"]) for m in result["responses"]] == [
        ("one", []),
        ("two", [{"title": "ok", "payload": "/ok"}]),
    ]
    assert "'action_forgets_stream_end'" in caplog.text
    assert "never called stream_end()" in caplog.text
