"""The step runner: advance the top flow of the dialogue stack step by step until it must wait
for the user (a collect step asked its question) or the stack is empty.

When a user flow ends the runner pushes what Rasa pushes: ``pattern_continue_interrupted``
when it interrupted another flow, ``pattern_completed`` when it was the last one; a failing
action ends its flow and pushes ``pattern_internal_error``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from action_server.constants import RASA_PROTOCOL_VERSION
from action_server.dialogue import flow_events
from action_server.dialogue.action_results import apply_action_events, message_from_dispatcher
from action_server.dialogue.default_actions import DEFAULT_ACTIONS
from action_server.dialogue.stack import FlowFrame, FrameType
from action_server.dialogue.stack_ops import StackOps
from action_server.dialogue.step_actions import FlowContext, StepActionError, StepActionRegistry
from action_server.dialogue.tracker_state import tracker_dict
from action_server.dialogue.turn import FlowFailed, Turn
from action_server.flows.model import END, Flow, FlowProject, Step, StepAction
from action_server.stores.store import ConversationState

if TYPE_CHECKING:
    from action_server.client.action_client import ActionClient

__all__ = ["INTERNAL_ERROR_TEXT", "StepRunner"]

logger = logging.getLogger(__name__)

INTERNAL_ERROR_TEXT = "Sorry, I am having trouble with that. Please try again in a few minutes."
_CONTEXT_NAME = "{{context."
CONTINUE_PATTERN = "pattern_continue_interrupted"
REPHRASE = "utter_ask_rephrase"
Fallback = Callable[[FlowProject, ConversationState], dict[str, Any]]
"""A command source's ``fallback_message``: what to say when nothing was understood."""


class StepRunner:
    """Runs flows on a turn's stack; actions go through the client or the default actions."""

    def __init__(
        self,
        ops: StackOps,
        action_client: ActionClient,
        step_actions: StepActionRegistry,
        registered_actions: frozenset[str],
        max_steps: int,
        fallback: Callable[[], Fallback | None] = lambda: None,
    ) -> None:
        self.ops = ops
        self.project = ops.project
        self.action_client = action_client
        self.step_actions = step_actions
        self.registered_actions = registered_actions
        self.max_steps = max_steps
        # A command source that knows what the assistant can do answers "not understood"
        # (understanding/pipeline.py), unless the project wrote its own utter_ask_rephrase.
        self.fallback = fallback
        # One dict for the engine's lifetime: the HTTP transport caches its digest by identity.
        self.domain_dict = self.project.domain.to_dict()

    async def validate_filled(self, turn: Turn) -> None:
        """Run the project's ``validate_<slot>`` action for each slot the commands filled; an
        action that cannot validate the value must not let it through."""
        filled, turn.filled = turn.filled, []
        for name in dict.fromkeys(filled):
            validator = f"validate_{name}"
            if not self._action_known(validator):
                continue
            try:
                await self.run_action(turn, validator, raise_on_error=True)
            except FlowFailed as exc:
                logger.warning("conversation %s: %s", turn.state.conversation_id, exc)
                if not exc.rejected:
                    self.ops.push_pattern(
                        turn,
                        "pattern_internal_error",
                        error_type="rasa_internal_error_default",
                        info={},
                    )
                self.ops.set_slot(turn, name, None, coerce=False)

    async def advance(self, turn: Turn) -> None:
        """Run steps until a collect waits for the user or the stack is empty."""
        while turn.stack and not turn.state.ended:
            turn.steps += 1
            if turn.steps > self.max_steps:
                self._trip_circuit_breaker(turn)
                return
            frame = turn.stack.top
            assert frame is not None
            flow = self.project.flow(frame.flow_id)
            try:
                waiting = await self._run_frame(turn, frame, flow)
            except FlowFailed as exc:
                logger.error("conversation %s: %s", turn.state.conversation_id, exc)
                self._fail(turn, frame)
                continue
            if turn.end_reason is not None:
                self._end_conversation(turn)
                return
            if waiting:
                return

    def _fail(self, turn: Turn, frame: FlowFrame) -> None:
        """End the failing flow (and its callers), then tell the user through the pattern."""
        if frame.flow_id == "pattern_internal_error" or turn.failures > 3:
            turn.stack.remove({frame.frame_id})
            turn.say({"text": INTERNAL_ERROR_TEXT})
            return
        turn.failures += 1
        chain = self.ops.call_chain(turn, frame) if frame in turn.stack.frames else []
        self.ops.cancel_frames(turn, {f.frame_id for f in chain})
        self.ops.push_pattern(
            turn, "pattern_internal_error", error_type="rasa_internal_error_default", info={}
        )

    async def _run_frame(self, turn: Turn, frame: FlowFrame, flow: Flow) -> bool:
        """Make one move on the top frame; True when the engine must wait for the user."""
        if frame.state == "start":
            await self._run_step_actions(turn, flow.pre_actions, flow, None)
            frame.step_id = flow.first_step_id
            frame.state = "fresh"
            if frame.step_id == END:
                await self.complete_flow(turn, frame, flow, "START")
            return False
        step = flow.step(frame.step_id)
        if frame.state == "calling":  # the called flow has ended
            await self._leave_step(turn, frame, flow, step)
            return False
        if frame.state == "asked":  # back after an interruption: ask again
            if turn.no_reask:
                turn.no_reask = False
                return True
            await self.ask(turn, step)
            return True
        if frame.state == "answered":
            if turn.state.slots.get(step.collect or "") is None:
                frame.state = "asked"
                await self.ask(turn, step)
                return True
            await self._leave_step(turn, frame, flow, step)
            return False
        return await self._run_step(turn, frame, flow, step)

    async def _run_step(self, turn: Turn, frame: FlowFrame, flow: Flow, step: Step) -> bool:
        await self._run_step_actions(turn, step.pre_actions, flow, step)
        if turn.end_reason is not None:
            return False
        kind = step.kind
        if kind == "action" and step.action:
            await self.run_action(turn, self._resolve(step.action, frame), raise_on_error=True)
        elif kind == "collect" and step.collect:
            slot = step.collect
            if step.ask_before_filling or turn.state.slots.get(slot) is None:
                frame.state = "asked"
                await self.ask(turn, step)
                return True
        elif kind == "set_slots":
            for name, value in step.set_slots:
                try:
                    self.ops.set_slot(turn, name, value)
                except ValueError as exc:
                    raise FlowFailed(
                        f"{step.source}: flow '{flow.id}' step '{step.id}': {exc}"
                    ) from exc
        elif kind == "link" and step.link:
            await self._run_step_actions(turn, step.post_actions, flow, step)
            frame_type: FrameType = "interrupt" if frame.frame_type == "interrupt" else "link"
            await self.complete_flow(turn, frame, flow, step.id, then=False)
            if step.link.startswith("pattern_"):
                self.ops.push_pattern(turn, step.link)
            else:
                self.ops.push_flow(turn, step.link, frame_type)
            return False
        elif kind == "call" and step.call:
            frame.state = "calling"
            self.ops.push_flow(turn, step.call, "call")
            return False
        if frame in turn.stack.frames and frame.step_id == step.id and frame.state == "fresh":
            await self._leave_step(turn, frame, flow, step)
        return False

    @staticmethod
    def _resolve(name: str, frame: FlowFrame) -> str:
        """``{{context.x}}`` in a pattern's action name, from the frame's context."""
        if _CONTEXT_NAME not in name:
            return name
        for key, value in frame.context.items():
            name = name.replace("{{context." + key + "}}", str(value))
        return name

    async def _leave_step(self, turn: Turn, frame: FlowFrame, flow: Flow, step: Step) -> None:
        """Post-actions, then follow the first branch whose condition holds."""
        await self._run_step_actions(turn, step.post_actions, flow, step)
        if turn.end_reason is not None:
            return
        target = step.next_step_id(turn.state.slots, frame.condition_context())
        if target == END:
            await self.complete_flow(turn, frame, flow, step.id)
            return
        frame.step_id = target
        frame.state = "fresh"

    async def complete_flow(
        self, turn: Turn, frame: FlowFrame, flow: Flow, last_step_id: str, then: bool = True
    ) -> None:
        """Pop a finished flow; ``then`` pushes what follows it (continue or completed)."""
        await self._run_step_actions(turn, flow.post_actions, flow, None)
        if turn.end_reason is not None:
            return
        if frame in turn.stack.frames:
            turn.stack.remove({frame.frame_id})
        turn.record(flow_events.flow_completed(flow.id, last_step_id))
        self.ops.reset_flow_slots(turn, frame, flow)
        if not then or frame.is_pattern or frame.frame_type == "call":
            return
        below = turn.stack.user_frames()
        if below and below[-1].state == "start":
            return  # started in the same turn: it runs next, nothing was interrupted yet
        if below and frame.frame_type == "interrupt":
            self._push_continue_interrupted(turn, below)
        elif not below and flow.run_pattern_completed:
            self.ops.push_pattern(
                turn, "pattern_completed", previous_flow_name=flow.name or flow.id
            )

    def _push_continue_interrupted(self, turn: Turn, below: list[FlowFrame]) -> None:
        # A question still open from an earlier digression is superseded by this one.
        stale = {f.frame_id for f in turn.stack.frames if f.flow_id == CONTINUE_PATTERN}
        self.ops.cancel_frames(turn, stale)
        # Only user-facing flows count: a flow waiting on a call is part of its callee's chain.
        interrupted = [f for f in below if f.state != "calling"] or below[-1:]
        flows = [self.project.flow(f.flow_id) for f in reversed(interrupted)]
        names = [flow.name or flow.id for flow in flows]
        self.ops.push_pattern(
            turn,
            CONTINUE_PATTERN,
            interrupted_flow_names=", ".join(names),
            interrupted_flow_ids=[flow.id for flow in flows],
            interrupted_flow_options=", ".join(names),
            interrupted_frame_ids=[f.frame_id for f in interrupted],
            multiple_flows_interrupted=len(interrupted) > 1,
        )

    def _trip_circuit_breaker(self, turn: Turn) -> None:
        top = turn.stack.top
        where = f"flow '{top.flow_id}' at step '{top.step_id}'" if top else "the dialogue"
        logger.error(
            "conversation %s: circuit breaker: %s ran more than %d steps without waiting for "
            "the user; cancelling the active flows",
            turn.state.conversation_id,
            where,
            self.max_steps,
        )
        while turn.stack:
            frame = turn.stack.pop()
            turn.record(flow_events.flow_cancelled(frame.flow_id, frame.step_id))
        turn.say(
            {
                "text": f"Sorry, something went wrong: {where} ran more than "
                f"{self.max_steps} steps without waiting for you, so I stopped it."
            },
        )

    def _end_conversation(self, turn: Turn) -> None:
        reason = turn.end_reason or "end_conversation"
        turn.stack.clear()
        turn.state.ended = True
        turn.record(flow_events.session_ended(reason))

    # --- collect --------------------------------------------------------------------------

    async def ask(self, turn: Turn, step: Step) -> None:
        slot = step.collect or ""
        responses = self.project.domain.responses
        refill = turn.refill.pop(slot, None)  # the domain's refill_utter after a rejection
        if refill and refill in responses:
            self.ops.utter(turn, refill)
        elif step.utter and step.utter in responses:
            self.ops.utter(turn, step.utter)
        elif step.ask_action and self._action_known(step.ask_action):
            await self.run_action(turn, step.ask_action, raise_on_error=True)
        else:
            turn.say({"text": f"Please tell me the {slot}."})

    # --- actions --------------------------------------------------------------------------

    def _action_known(self, name: str) -> bool:
        return name in self.registered_actions or name in self.project.domain.actions

    async def run_action(self, turn: Turn, name: str, *, raise_on_error: bool) -> None:
        """Run an action: responses locally, a project's own action through the client, else
        the engine's default action of that name."""
        fallback = self.fallback() if name == REPHRASE else None
        if fallback is not None and name in self.project.default_responses:
            turn.record(flow_events.action_executed(name))
            turn.say(fallback(self.project, turn.state), utter_action=name)
            return
        if name in self.project.domain.responses:
            self.ops.utter(turn, name)
            return
        default = DEFAULT_ACTIONS.get(name)
        if default is not None and name not in self.registered_actions:
            frame = turn.stack.top or FlowFrame(flow_id="")
            if name != "action_listen":
                turn.record(flow_events.action_executed(name))
            await default(self.ops, turn, frame)
            return
        if name.startswith("validate_") and not self._action_known(name):
            return  # Rasa skips a slot validation action the project does not define
        from action_server.client.action_client import ActionClientError, ActionRejectedError

        call = {
            "next_action": name,
            "sender_id": turn.state.conversation_id,
            "tracker": tracker_dict(turn.state, turn.stack),
            "domain": self.domain_dict,
            "version": RASA_PROTOCOL_VERSION,
        }
        try:
            result = await self.action_client.run(call)
        except ActionRejectedError as exc:
            logger.info("action '%s' rejected execution: %s", name, exc)
            if raise_on_error:
                raise FlowFailed(
                    f"action '{name}' rejected execution: {exc}", rejected=True
                ) from exc
            return
        except ActionClientError as exc:
            if raise_on_error:
                raise FlowFailed(f"action '{name}' failed: {exc}") from exc
            logger.error("action '%s' failed: %s", name, exc)
            self.ops.push_pattern(
                turn, "pattern_internal_error", error_type="rasa_internal_error_default", info={}
            )
            return
        turn.record(flow_events.action_executed(name))
        self._apply_result(turn, name, result)
        await self._followups(turn, name, result, raise_on_error)

    def _apply_result(self, turn: Turn, name: str, result: dict[str, Any]) -> None:
        domain = self.project.domain
        turn.followups = apply_action_events(turn, domain, name, result.get("events") or [])
        for response in result.get("responses") or []:
            message = message_from_dispatcher(turn, domain, self.ops.channel, name, response)
            if message:
                template = response.get("response") or response.get("template")
                turn.say(message, utter_action=str(template) if template else name)

    async def _followups(
        self, turn: Turn, name: str, result: dict[str, Any], raise_on_error: bool
    ) -> None:
        followups, turn.followups = turn.followups, []
        for followup in followups:
            turn.steps += 1
            if turn.steps > self.max_steps:
                raise FlowFailed(f"too many follow-up actions after '{name}'")
            await self.run_action(turn, followup, raise_on_error=raise_on_error)

    # --- step actions ---------------------------------------------------------------------

    async def _run_step_actions(
        self, turn: Turn, actions: list[StepAction], flow: Flow, step: Step | None
    ) -> None:
        for action in actions:
            if turn.end_reason is not None:
                return
            context = FlowContext(
                conversation_id=turn.state.conversation_id,
                flow_id=flow.id,
                step_id=step.id if step else None,
                slots=turn.state.slots,
                set_slot=lambda name, value: self.ops.set_slot(turn, name, value),
                add_message=lambda message: turn.say(dict(message)),
                end_conversation=lambda reason: setattr(turn, "end_reason", reason),
                metadata=turn.state.latest_message.get("metadata") or {},
            )
            where = f"{action.source}: flow '{flow.id}'" + (f" step '{step.id}'" if step else "")
            try:
                await self.step_actions.run({"type": action.type, **action.params}, context, where)
            except StepActionError as exc:
                raise FlowFailed(str(exc)) from exc
