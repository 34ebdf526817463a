"""What the engine does to one turn's stack and slots: push flows and patterns, end frames,
reset and set slots, utter responses.

Shared by the step runner, the command handling and the default actions, so each of them
changes a conversation the same way (and records the same Rasa events).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from typing import Any

from action_server.dialogue import flow_events
from action_server.dialogue.responses import render_response
from action_server.dialogue.stack import FlowFrame, FrameType
from action_server.dialogue.turn import Turn
from action_server.flows.model import Flow, FlowProject

__all__ = ["StackOps"]

logger = logging.getLogger(__name__)


class StackOps:
    """Stack and slot operations on a turn, for one project."""

    def __init__(
        self, project: FlowProject, channel: str | None, rng: random.Random | None
    ) -> None:
        self.project = project
        self.channel = channel
        self.rng = rng

    # --- pushing ----------------------------------------------------------------------

    def push_flow(self, turn: Turn, flow_id: str, frame_type: FrameType | None = None) -> None:
        """Push a user flow; on top of another user flow it is an interruption."""
        top = turn.stack.top_user_frame()
        if frame_type is None:
            frame_type = "interrupt" if top is not None else "regular"
            if top is not None:
                turn.record(flow_events.flow_interrupted(top.flow_id, top.step_id))
        turn.stack.push(FlowFrame(flow_id=flow_id, frame_type=frame_type))
        turn.record(flow_events.flow_started(flow_id))

    def push_pattern(self, turn: Turn, flow_id: str, **context: Any) -> FlowFrame | None:
        """Push a pattern flow with its context; None when the project has no such flow."""
        if flow_id not in self.project.flows:
            logger.warning("pattern '%s' is not defined; skipped", flow_id)
            return None
        frame = FlowFrame(flow_id=flow_id, frame_type="regular", context=dict(context))
        turn.stack.push(frame)
        turn.record(flow_events.flow_started(flow_id, frame.context))
        return frame

    # --- ending -----------------------------------------------------------------------

    def cancel_frames(self, turn: Turn, frame_ids: set[str]) -> list[FlowFrame]:
        """End these frames as cancelled (top first): events and slot resets."""
        removed = turn.stack.remove(frame_ids)
        for frame in removed:
            turn.record(flow_events.flow_cancelled(frame.flow_id, frame.step_id))
            self.reset_flow_slots(turn, frame, self.project.flow(frame.flow_id), into_caller=False)
        return removed

    def call_chain(self, turn: Turn, frame: FlowFrame) -> list[FlowFrame]:
        """``frame`` and the callers waiting on it (a called flow is part of its caller)."""
        frames = turn.stack.frames
        index = frames.index(frame)
        chain = [frame]
        while chain[-1].frame_type == "call" and index > 0:
            index -= 1
            chain.append(frames[index])
        return chain

    def reset_flow_slots(
        self, turn: Turn, frame: FlowFrame, flow: Flow, into_caller: bool = True
    ) -> None:
        """Reset every slot the flow collects or sets (filled or not), except persisted ones.

        A called flow is part of its caller: its slots are reset when the caller ends.
        """
        names = list(frame.inherited_resets)
        persisted = set(flow.persisted_slots)
        for step in flow.steps.values():
            if step.collect and step.reset_after_flow_ends:
                names.append(step.collect)
            names.extend(name for name, _ in step.set_slots)
        names = [n for n in dict.fromkeys(names) if n not in persisted]
        caller = turn.stack.top
        if frame.frame_type == "call" and into_caller and caller is not None:
            caller.inherited_resets.extend(n for n in names if n not in caller.inherited_resets)
            return
        for name in names:
            definition = self.project.domain.slots.get(name)
            if definition is None:
                continue
            self.set_slot(turn, name, definition.initial_value, coerce=False)

    # --- slots and messages -----------------------------------------------------------

    def set_slot(self, turn: Turn, name: str, value: Any, coerce: bool = True) -> None:
        definition = self.project.domain.slots.get(name)
        if definition is None:
            raise ValueError(f"there is no slot named '{name}' in the domain")
        if coerce:
            value = definition.coerce(value)
        turn.state.slots[name] = value
        turn.record(flow_events.slot_set(name, value))

    def context(self, turn: Turn) -> dict[str, Any]:
        """``context.x`` for conditions: the top frame's fields and pattern context."""
        top = turn.stack.top
        return top.condition_context() if top else {}

    def utter(self, turn: Turn, name: str, extra: Mapping[str, Any] | None = None) -> None:
        """Say a domain response (recorded as the action it is)."""
        message = render_response(
            name,
            self.project.domain,
            turn.state.slots,
            extra,
            self.channel,
            context=self.context(turn),
            rng=self.rng,
        )
        turn.record(flow_events.action_executed(name))
        if message is None:
            logger.warning("response '%s' has no variation for the current slots", name)
            return
        turn.say(message, utter_action=name)
