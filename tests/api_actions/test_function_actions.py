"""Python function actions: module style and decorator style, sync and async, helpers."""

from __future__ import annotations

import types
from typing import Any

import pytest

from action_server.executor.arguments import ArgumentError
from action_server.interfaces import ActionExecutionRejection, Tracker
from action_server.interfaces.dispatcher import CollectingDispatcher
from action_server.kinds.function_actions import (
    ActionContext,
    FunctionAction,
    action,
    discover_function_actions,
)


def _module(name: str = "shop_actions") -> types.ModuleType:
    module = types.ModuleType(name)

    def execute_action(context: ActionContext) -> dict[str, Any]:
        context["set_metadata"]("tier", "gold")
        context["add_tag"]("vip")
        return {"greeting": f"hello {context['args']['customer']}", "not_a_slot": 1}

    @action(name="escalate", description="Hand over to a person.", args={"reason": "string"})
    async def escalate(context: ActionContext) -> None:
        context["record_event"]("escalated", {"reason": context["args"]["reason"]})
        context["handoff"](context["args"]["reason"])
        context["delete_metadata"]("tier")

    @action(args=[{"name": "count", "type": "number"}])
    def count_items(context: ActionContext) -> list[dict[str, Any]]:
        return [
            {"event": "slot", "timestamp": None, "name": "n", "value": context.args["count"] * 2}
        ]

    execute_action.__module__ = escalate.__module__ = count_items.__module__ = name
    module.execute_action = execute_action  # type: ignore[attr-defined]
    module.escalate = escalate  # type: ignore[attr-defined]
    module.count_items = count_items  # type: ignore[attr-defined]
    module.NAME = "greet_customer"  # type: ignore[attr-defined]
    module.DESCRIPTION = "Greet by name."  # type: ignore[attr-defined]
    module.ARGS = {"customer": {"type": "string", "description": "Who to greet"}}  # type: ignore[attr-defined]
    return module


def _actions() -> dict[str, FunctionAction]:
    return {a.name(): a for a in discover_function_actions(_module())}


def _tracker(**slots: Any) -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": "conv-1",
            "slots": slots,
            "latest_message": {"metadata": {}},
            "events": [
                {"event": "user", "text": "hi", "timestamp": 1.0},
                {"event": "bot", "text": "hello", "timestamp": 2.0},
            ],
        }
    )


def test_discovery_finds_module_style_and_decorated_functions() -> None:
    actions = _actions()
    assert list(actions) == ["greet_customer", "escalate", "count_items"]
    assert actions["greet_customer"].description == "Greet by name."
    assert [s.name for s in actions["greet_customer"].arguments] == ["customer"]


async def test_sync_function_returns_slots_and_metadata_and_tag_events() -> None:
    events = await _actions()["greet_customer"].run_with_args(
        {"customer": "Ada"}, CollectingDispatcher(), _tracker(), {}
    )
    assert events == [
        {
            "event": "slot",
            "timestamp": None,
            "name": "conversation_metadata",
            "value": {"tier": "gold"},
        },
        {"event": "slot", "timestamp": None, "name": "conversation_tags", "value": ["vip"]},
        {"event": "slot", "timestamp": None, "name": "greeting", "value": "hello Ada"},
        {"event": "slot", "timestamp": None, "name": "not_a_slot", "value": 1},
    ]


async def test_returned_keys_are_limited_to_domain_slots_when_the_domain_has_slots() -> None:
    events = await _actions()["greet_customer"].run_with_args(
        {"customer": "Ada"}, CollectingDispatcher(), _tracker(), {"slots": {"greeting": {}}}
    )
    assert [e["name"] for e in events] == ["conversation_metadata", "conversation_tags", "greeting"]


async def test_async_function_handoff_pauses_and_tells_the_channel() -> None:
    dispatcher = CollectingDispatcher()
    tracker = _tracker(reason="angry", conversation_metadata={"tier": "gold"})
    events = await _actions()["escalate"].run(dispatcher, tracker, {})
    assert {"event": "pause", "timestamp": None} in events
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "conversation_metadata",
        "value": {},
    } in events
    customs = [m["custom"]["action_server"] for m in dispatcher.messages]
    assert customs == [
        {"type": "event", "name": "escalated", "data": {"reason": "angry"}},
        {"type": "handoff", "reason": "angry"},
    ]


async def test_context_conversation_has_id_messages_slots_and_metadata() -> None:
    seen: dict[str, Any] = {}

    def spy(context: ActionContext) -> None:
        seen.update(context["conversation"])

    await FunctionAction(spy, "spy").run_with_args({}, CollectingDispatcher(), _tracker(a=1), {})
    assert seen == {
        "id": "conv-1",
        "messages": [
            {"role": "user", "text": "hi", "timestamp": 1.0},
            {"role": "assistant", "text": "hello", "timestamp": 2.0},
        ],
        "slots": {"a": 1},
        "metadata": {},
    }


async def test_conversation_is_none_without_a_sender() -> None:
    seen: list[Any] = []
    tracker = Tracker.from_dict({"sender_id": "", "slots": {}, "events": []})
    await FunctionAction(lambda c: seen.append(c["conversation"]), "x").run_with_args(
        {}, CollectingDispatcher(), tracker, {}
    )
    assert seen == [None]


async def test_returned_event_list_passes_through_with_typed_arguments() -> None:
    events = await _actions()["count_items"].run_with_args(
        {"count": "21"}, CollectingDispatcher(), _tracker(), {}
    )
    assert events == [{"event": "slot", "timestamp": None, "name": "n", "value": 42}]


async def test_wrong_argument_type_names_the_field() -> None:
    with pytest.raises(ArgumentError, match="argument 'count': expected number, got 'abc'"):
        await _actions()["count_items"].run_with_args(
            {"count": "abc"}, CollectingDispatcher(), _tracker(), {}
        )


async def test_webhook_run_rejects_missing_arguments_with_the_action_name() -> None:
    with pytest.raises(
        ActionExecutionRejection, match="greet_customer: missing required argument: 'customer'"
    ):
        await _actions()["greet_customer"].run(CollectingDispatcher(), _tracker(), {})


async def test_a_non_dict_result_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="function action 'bad' returned int"):
        await FunctionAction(lambda c: 3, "bad").run_with_args(
            {}, CollectingDispatcher(), _tracker(), {}
        )
