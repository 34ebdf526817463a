"""The Chat view's logic: one user message through the flow engine, and what it changed.

A turn report holds the bot messages, the events of the turn, the commands the message became
(the user event's ``parse_data.commands``, as Rasa records them), the slots with the ones the
turn changed, and the dialogue stack with each frame's flow and step named. When a command
generator records its LLM exchange in the user event's ``parse_data`` under ``llm_prompt`` and
``llm_answer``, the report carries them as ``llm``.
"""

from __future__ import annotations

from typing import Any

from action_server.flows.graph import step_label
from action_server.flows.model import FlowProject

__all__ = ["INPUT_CHANNEL", "PATTERN_PREFIX", "chat_turn", "conversation_view", "llm_exchange"]

INPUT_CHANNEL = "inspector"
PATTERN_PREFIX = "pattern_"


def stack_view(stack: list[dict[str, Any]], project: FlowProject) -> list[dict[str, Any]]:
    """Stack frames (bottom first) with the flow's name and a label of the current step."""
    frames = []
    for frame in stack:
        flow = project.flows.get(str(frame.get("flow_id")))
        step = flow.steps.get(str(frame.get("step_id"))) if flow is not None else None
        frames.append(
            {
                **frame,
                "flow_name": flow.name if flow is not None else frame.get("flow_id"),
                "is_pattern": str(frame.get("flow_id", "")).startswith(PATTERN_PREFIX),
                "step_label": step_label(step) if step is not None else frame.get("step_id"),
            }
        )
    return frames


def _active(stack: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not stack:
        return None
    top = stack[-1]
    return {"flow_id": top.get("flow_id"), "step_id": top.get("step_id")}


async def conversation_view(engine: Any, conversation_id: str) -> dict[str, Any]:
    """The stored conversation: slots, stack, events (an empty one if never seen)."""
    tracker = await engine.tracker(conversation_id)
    stack = tracker.get("stack") or []
    return {
        "conversation_id": conversation_id,
        "slots": tracker.get("slots") or {},
        "stack": stack_view(stack, engine.project),
        "active": _active(stack),
        "events": tracker.get("events") or [],
        "ended": bool(tracker.get("ended")),
        "latest_message": tracker.get("latest_message") or {},
    }


def _changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def _user_parse_data(events: list[dict[str, Any]]) -> dict[str, Any]:
    for event in events:
        if event.get("event") == "user":
            data = event.get("parse_data")
            return data if isinstance(data, dict) else {}
    return {}


def llm_exchange(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``{"prompt", "answer"}`` a command generator recorded in the turn's user event, if any."""
    parse_data = _user_parse_data(events)
    prompt, answer = parse_data.get("llm_prompt"), parse_data.get("llm_answer")
    if prompt is None and answer is None:
        return None
    return {"prompt": prompt, "answer": answer}


async def chat_turn(engine: Any, conversation_id: str, text: str) -> dict[str, Any]:
    """Send ``text`` as the user of ``conversation_id``; the turn report (docs/inspector.md)."""
    before = (await engine.tracker(conversation_id)).get("slots") or {}
    result = await engine.handle(conversation_id, text, {"input_channel": INPUT_CHANNEL})
    view = await conversation_view(engine, conversation_id)
    parse_data = _user_parse_data(result.events)
    return {
        **view,
        "text": text,
        "messages": result.messages,
        "turn_events": result.events,
        "commands": parse_data.get("commands") or [],
        "llm": llm_exchange(result.events),
        "changed_slots": _changed(before, view["slots"]),
    }
