"""Step-action handlers referenced as ``tests.engine.handlers:...`` by ``function`` actions."""

from __future__ import annotations

from typing import Any

from action_server.dialogue.step_actions import FlowContext


def remember(action: dict[str, Any], context: FlowContext) -> None:
    context.set_slot("note", f"{action.get('value')} in {context.flow_id}/{context.step_id}")
    context.add_message({"text": f"function saw answer={context.get_slot('answer')}"})


async def remember_async(action: dict[str, Any], context: FlowContext) -> None:
    context.say("async {answer}")


def explode(action: dict[str, Any], context: FlowContext) -> None:
    raise RuntimeError("handler broke")
