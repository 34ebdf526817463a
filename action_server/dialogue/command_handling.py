"""Commands applied to a turn, as Rasa CALM applies them: most become pattern flows pushed on
the dialogue stack (cancel, clarify, skip, chitchat, search, handoff, repeat, cannot handle,
internal error, restart, session start); a slot already filled in an active flow becomes a
correction; a flow started over another one is an interruption.

Commands that cannot apply (an unknown flow or slot, a flow whose guard is false, a slot the
source may not fill) are dropped; a message whose every command was dropped goes to
``pattern_cannot_handle``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from action_server.dialogue.stack import FlowFrame, FrameType
from action_server.dialogue.stack_ops import StackOps
from action_server.dialogue.turn import Turn
from action_server.flows.model import Rejection, Step
from action_server.understanding.commands import (
    CancelFlow,
    CannotHandle,
    ChitChat,
    Clarify,
    Command,
    HumanHandoff,
    InternalError,
    KnowledgeAnswer,
    RepeatBotMessages,
    Restart,
    SessionStart,
    SetSlot,
    SkipQuestion,
    StartFlow,
)

__all__ = ["CommandHandler"]

logger = logging.getLogger(__name__)

_SIMPLE_PATTERNS: dict[type, str] = {
    ChitChat: "pattern_chitchat",
    KnowledgeAnswer: "pattern_search",
    HumanHandoff: "pattern_human_handoff",
    RepeatBotMessages: "pattern_repeat_bot_messages",
    Restart: "pattern_restart",
    SessionStart: "pattern_session_start",
}


@dataclass
class _Pending:
    """What one message's commands add up to before anything is pushed."""

    start: list[str] = field(default_factory=list)
    corrections: dict[str, Any] = field(default_factory=dict)
    applied: int = 0
    cannot_handle: str | None = None
    handled_cannot: bool = False


class CommandHandler:
    """Applies one message's commands to the turn."""

    def __init__(self, ops: StackOps) -> None:
        self.ops = ops
        self.project = ops.project

    def apply(self, turn: Turn, commands: list[Command]) -> None:
        pending = _Pending()
        for command in commands:
            self._apply_one(turn, command, pending)
        if pending.corrections:
            self._push_correction(turn, pending.corrections)
        # Pushed last-named first, so that the first-named flow runs first; flows started
        # together do not interrupt each other (only what was active before them).
        frame_type: FrameType = (
            "interrupt" if turn.stack.top_user_frame() is not None else "regular"
        )
        for index, flow_id in enumerate(reversed(pending.start)):
            self.ops.push_flow(turn, flow_id, None if index == 0 else frame_type)
        if not pending.applied and not pending.handled_cannot:
            self.ops.push_pattern(
                turn, "pattern_cannot_handle", reason=pending.cannot_handle or None
            )

    def _apply_one(self, turn: Turn, command: Command, pending: _Pending) -> None:
        if isinstance(command, SetSlot):
            pending.applied += self._set_slot(turn, command, pending)
        elif isinstance(command, StartFlow):
            pending.applied += self._start_flow(turn, command.flow_id, pending)
        elif isinstance(command, CancelFlow):
            pending.applied += self._cancel(turn)
        elif isinstance(command, Clarify):
            pending.applied += self._clarify(turn, command, pending)
        elif isinstance(command, SkipQuestion):
            pending.applied += self._skip(turn)
        elif isinstance(command, CannotHandle):
            if not pending.handled_cannot:
                self.ops.push_pattern(turn, "pattern_cannot_handle", reason=command.reason)
            pending.handled_cannot = True
        elif isinstance(command, InternalError):
            self.ops.push_pattern(
                turn,
                "pattern_internal_error",
                error_type=command.error_type,
                info=dict(command.info),
            )
            pending.applied += 1
        elif type(command) in _SIMPLE_PATTERNS:
            pending.applied += (
                self.ops.push_pattern(turn, _SIMPLE_PATTERNS[type(command)]) is not None
            )
        else:  # a plugged-in source returned something else
            pending.cannot_handle = f"unknown command {command!r}"

    # --- flows ----------------------------------------------------------------------------

    def _start_flow(self, turn: Turn, flow_id: str, pending: _Pending) -> bool:
        flow = self.project.flows.get(flow_id)
        if flow is None or flow.id.startswith("pattern_"):
            logger.info("StartFlow '%s' dropped: no such flow", flow_id)
            pending.cannot_handle = f"there is no flow named '{flow_id}'"
            return False
        if flow_id in turn.stack.flow_ids() or flow_id in pending.start:
            logger.info("flow '%s' is already active; StartFlow ignored", flow_id)
            return True
        if flow.guard is not None and not flow.guard.evaluate(turn.state.slots, {}):
            logger.info("StartFlow '%s' dropped: its 'if' guard is false", flow_id)
            return False
        pending.start.append(flow_id)
        return True

    def _cancel(self, turn: Turn) -> bool:
        top = turn.stack.top_user_frame()
        if top is None:
            logger.info("CancelFlow dropped: no flow is active")
            return False
        chain = self.ops.call_chain(turn, top)
        user_facing = self.project.flow(chain[-1].flow_id)
        self.ops.push_pattern(
            turn,
            "pattern_cancel_flow",
            canceled_name=user_facing.name or user_facing.id,
            canceled_frames=[f.frame_id for f in chain],
        )
        return True

    def _clarify(self, turn: Turn, command: Clarify, pending: _Pending) -> bool:
        candidates = []
        for flow_id in dict.fromkeys(command.options):
            flow = self.project.flows.get(flow_id)
            if flow is None or flow_id.startswith("pattern_"):
                continue
            if flow.guard is not None and not flow.guard.evaluate(turn.state.slots, {}):
                continue
            candidates.append(flow)
        if not candidates:
            return False
        if len(candidates) == 1:
            return self._start_flow(turn, candidates[0].id, pending)
        self.ops.push_pattern(
            turn,
            "pattern_clarification",
            names=[flow.name or flow.id for flow in candidates],
            flow_ids=[flow.id for flow in candidates],
            clarification_options="",
        )
        return True

    def _skip(self, turn: Turn) -> bool:
        top = turn.stack.top_user_frame()
        if top is None or top.state != "asked":
            return False
        self.ops.push_pattern(turn, "pattern_skip_question")
        return True

    # --- slots ----------------------------------------------------------------------------

    def _set_slot(self, turn: Turn, command: SetSlot, pending: _Pending) -> bool:
        definition = self.project.domain.slots.get(command.name)
        if definition is None:
            logger.info("SetSlot dropped: there is no slot named '%s'", command.name)
            pending.cannot_handle = f"there is no slot named '{command.name}'"
            return False
        if not definition.fillable_by(command.extractor):
            logger.info(
                "SetSlot '%s' from %s dropped: the slot's mappings do not allow it",
                command.name,
                command.extractor,
            )
            return False
        asked = self._asked_step(turn, command.name)
        try:
            value = definition.coerce(command.value)
        except ValueError as exc:
            logger.info("value refused: %s", exc)
            self._refuse(turn, command.name, command.value)
            return True
        rejections = [*(asked.rejections if asked else []), *definition.rejections]
        if not rejections:
            rejections = self._collect_rejections(turn, command.name)
        rejected = self._rejected(turn, command.name, value, rejections)
        if rejected is not None:
            if rejected in definition.rejections and definition.refill_utter:
                turn.refill[command.name] = definition.refill_utter
            return True
        current = turn.state.slots.get(command.name)
        if asked is None and current is not None and current != value:
            if self._correction_target(turn, command.name) is not None:
                pending.corrections[command.name] = value
                return True
        if current != value or asked is not None:
            self.ops.set_slot(turn, command.name, value, coerce=False)
            turn.filled.append(command.name)
        top = turn.stack.top
        if asked is not None and top is not None:
            top.state = "answered"
        return True

    def _asked_step(self, turn: Turn, slot: str) -> Step | None:
        """The collect step the top frame is waiting on, when it asks for ``slot``."""
        top = turn.stack.top
        if top is None or top.state != "asked":
            return None
        step = self.project.flow(top.flow_id).steps.get(top.step_id)
        return step if step is not None and step.collect == slot else None

    def _collect_rejections(self, turn: Turn, slot: str) -> list[Rejection]:
        for frame in reversed(turn.stack.user_frames()):
            for step in self.project.flow(frame.flow_id).steps.values():
                if step.collect == slot and step.rejections:
                    return list(step.rejections)
        return []

    def _rejected(
        self, turn: Turn, slot: str, value: Any, rejections: list[Rejection]
    ) -> Rejection | None:
        """The first rejection that refuses ``value`` (after saying so), or None."""
        probe = {**turn.state.slots, slot: value}
        for rejection in rejections:
            if rejection.condition.evaluate(probe, self.ops.context(turn)):
                if rejection.utter and rejection.utter in self.project.domain.responses:
                    self.ops.utter(turn, rejection.utter, {slot: value})
                else:
                    turn.say({"text": f"Sorry, {value} is not accepted for {slot}."})
                return rejection
        return None

    def _refuse(self, turn: Turn, slot: str, value: Any) -> None:
        """A value the slot's type cannot hold (a categorical outside its values): rejected."""
        definition = self.project.domain.slots[slot]
        for name in (f"utter_invalid_{slot}", definition.refill_utter):
            if name and name in self.project.domain.responses:
                self.ops.utter(turn, name, {"value": value})
                return
        if definition.type == "categorical":
            options = ", ".join(str(v) for v in definition.values or [])
            turn.say({"text": f"Sorry, {value} is not one of the options ({options})."})
        elif definition.type == "bool":
            turn.say({"text": "Sorry, please answer yes or no."})
        elif definition.type == "float":
            turn.say({"text": f"Sorry, {value} is not a number, and the {slot} needs one."})
        else:
            turn.say({"text": f"Sorry, I can't use {value} here."})

    def _correction_target(self, turn: Turn, slot: str) -> tuple[FlowFrame, Step] | None:
        """The active user flow that collected ``slot`` at a step it has passed."""
        for frame in reversed(turn.stack.user_frames()):
            flow = self.project.flow(frame.flow_id)
            order = list(flow.steps)
            here = order.index(frame.step_id) if frame.step_id in order else -1
            for index, step in enumerate(flow.steps.values()):
                if step.collect == slot and index <= here:
                    return frame, step
        return None

    def _push_correction(self, turn: Turn, corrections: dict[str, Any]) -> None:
        target = self._correction_target(turn, next(iter(corrections)))
        assert target is not None
        frame, step = target
        self.ops.push_pattern(
            turn,
            "pattern_correction",
            is_reset_only=step.ask_before_filling,
            corrected_slots=dict(corrections),
            reset_flow_id=frame.flow_id,
            reset_step_id=step.id,
            new_slot_values=list(corrections.values()),
            corrected_slot_names=", ".join(corrections),
            corrected_slot_values=", ".join(str(v) for v in corrections.values()),
        )
