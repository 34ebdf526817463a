"""Rasa's default actions that the pattern flows call, run inside the engine.

Each works on the running turn and the pattern frame that called it (its ``context``).
A project's own action of the same name wins: the step runner asks the action client first
when the name is registered there. ``docs/patterns.md`` lists how each differs from Rasa.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from action_server.dialogue import flow_events
from action_server.dialogue.stack import FlowFrame
from action_server.dialogue.stack_ops import StackOps
from action_server.dialogue.turn import Turn

__all__ = ["DEFAULT_ACTIONS", "DefaultAction", "or_list"]

logger = logging.getLogger(__name__)

DefaultAction = Callable[[StackOps, Turn, FlowFrame], Awaitable[None]]


def or_list(names: list[str]) -> str:
    """``A``, ``A or B``, ``A, B or C``: the clarification options as a sentence."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


async def action_listen(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    return None  # the turn ends with action_listen when the engine waits


async def action_correct_flow_slot(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    """Rewind the corrected flow to the step that collected the slot, then set the values."""
    context = frame.context
    target = next((f for f in turn.stack.frames if f.flow_id == context.get("reset_flow_id")), None)
    step_id = context.get("reset_step_id")
    if target is not None and isinstance(step_id, str):
        target.step_id = step_id
        target.state = "fresh"
    corrected = context.get("corrected_slots") or {}
    for name, value in corrected.items():
        ops.set_slot(turn, name, None if context.get("is_reset_only") else value, coerce=False)


async def action_cancel_flow(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    ops.cancel_frames(turn, set(frame.context.get("canceled_frames") or []))
    # A "shall we go back?" question about flows that are gone now has nothing to ask.
    alive = {f.frame_id for f in turn.stack.frames}
    orphans = {
        f.frame_id
        for f in turn.stack.frames
        if f.flow_id == "pattern_continue_interrupted" and not alive & set(_interrupted(f))
    }
    ops.cancel_frames(turn, orphans)


async def action_clarify_flows(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    names = [str(name) for name in frame.context.get("names") or []]
    frame.context["clarification_options"] = or_list(names)


async def action_continue_interrupted_flow(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    """Bring the chosen interrupted flow to the top; it asks its question again."""
    wanted = turn.state.slots.get("interrupted_flow_to_continue")
    frames = [f for f in turn.stack.user_frames() if f.frame_id in _interrupted(frame)]
    chosen = frames[-1] if frames else None
    if wanted and frame.context.get("multiple_flows_interrupted"):
        for candidate in frames:
            flow = ops.project.flow(candidate.flow_id)
            if str(wanted).lower() in (flow.id.lower(), flow.name.lower()):
                chosen = candidate
    if chosen is None:
        return
    chain = ops.call_chain(turn, chosen)
    for moved in reversed(chain):  # keep the caller below its callee, under this pattern
        turn.stack.frames.remove(moved)
        turn.stack.frames.insert(len(turn.stack.frames) - 1, moved)
    turn.record(flow_events.flow_resumed(chosen.flow_id, chosen.step_id))


async def action_cancel_interrupted_flows(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    ops.cancel_frames(turn, set(_interrupted(frame)))


def _interrupted(frame: FlowFrame) -> list[str]:
    return [str(i) for i in frame.context.get("interrupted_frame_ids") or []]


async def action_clean_stack(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    """End every other frame (after a code change left them meaningless)."""
    ops.cancel_frames(turn, {f.frame_id for f in turn.stack.frames if f is not frame})


async def action_restart(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    """History stays (like Rasa's tracker store); slots, the other frames and the end go."""
    for other in [f for f in turn.stack.frames if f is not frame]:
        turn.stack.frames.remove(other)
    turn.record({"event": "restart", "timestamp": time.time()})
    turn.state.slots = ops.project.domain.initial_slots()
    turn.state.ended = False
    turn.end_reason = None
    if "utter_restart" in ops.project.domain.responses:
        ops.utter(turn, "utter_restart")


async def action_session_start(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    """A new session: slots carry over unless ``session_config`` says otherwise (Rasa's default)."""
    turn.record({"event": "session_started", "timestamp": time.time()})
    if not ops.project.domain.session_config.get("carry_over_slots_to_new_session", True):
        turn.state.slots = ops.project.domain.initial_slots()


async def action_repeat_bot_messages(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    """Say again what the bot said between the two latest user messages."""
    events = turn.state.events[: turn.first_event]
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    start = users[-1] + 1 if users else 0
    for event in events[start:]:
        if event.get("event") != "bot":
            continue
        message = {"text": event.get("text"), **(event.get("data") or {})}
        message = {k: v for k, v in message.items() if v is not None and v != []}
        metadata = event.get("metadata") or {}
        turn.say(message, utter_action=metadata.get("utter_action"))
    turn.no_reask = True  # the repeated messages already hold the open question


async def action_hangup(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    turn.end_reason = "hangup"


async def action_reset_routing(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    if "route_session_to_calm" in ops.project.domain.slots:
        ops.set_slot(turn, "route_session_to_calm", None, coerce=False)


async def action_trigger_search(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    logger.warning(
        "action_trigger_search: no search backend configured; register your own "
        "action_trigger_search to answer from a knowledge base"
    )
    ops.utter(turn, "utter_no_knowledge_base")


async def action_trigger_chitchat(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    logger.warning(
        "action_trigger_chitchat: no chitchat backend configured; register your own "
        "action_trigger_chitchat to answer small talk"
    )
    ops.utter(turn, "utter_cannot_handle")


async def action_run_slot_rejections(ops: StackOps, turn: Turn, frame: FlowFrame) -> None:
    """Domain ``validation`` rejections of ``context.validate`` (the engine runs collect
    rejections itself when the answer arrives)."""
    name = frame.context.get("validate")
    definition = ops.project.domain.slots.get(str(name)) if name else None
    if definition is None:
        return
    value = turn.state.slots.get(definition.name)
    for rejection in definition.rejections:
        if value is not None and rejection.condition.evaluate(turn.state.slots, {}):
            if rejection.utter:
                ops.utter(turn, rejection.utter)
            ops.set_slot(turn, definition.name, None, coerce=False)
            return


DEFAULT_ACTIONS: dict[str, DefaultAction] = {
    "action_listen": action_listen,
    "action_correct_flow_slot": action_correct_flow_slot,
    "action_cancel_flow": action_cancel_flow,
    "action_clarify_flows": action_clarify_flows,
    "action_continue_interrupted_flow": action_continue_interrupted_flow,
    "action_cancel_interrupted_flows": action_cancel_interrupted_flows,
    "action_clean_stack": action_clean_stack,
    "action_restart": action_restart,
    "action_session_start": action_session_start,
    "action_repeat_bot_messages": action_repeat_bot_messages,
    "action_hangup": action_hangup,
    "action_reset_routing": action_reset_routing,
    "action_trigger_search": action_trigger_search,
    "action_trigger_chitchat": action_trigger_chitchat,
    "action_run_slot_rejections": action_run_slot_rejections,
}
"""The engine's own actions by name."""
