"""The flow engine: a dialogue-stack machine that runs flows turn by turn (Rasa semantics, no LLM).

Each user message becomes commands (``commands.py``); the engine applies them, then advances
the top flow step by step until it must wait for the user (a collect step asked its question)
or the stack is empty. Actions run through an ``ActionClient`` with the same call JSON Rasa
posts to an action server; ``utter_*`` responses are rendered locally from the domain.
Conversation state lives in a ``ConversationStore``, locked per conversation for the turn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from action_server.constants import RASA_PROTOCOL_VERSION
from action_server.dialogue import flow_events
from action_server.dialogue.action_results import apply_action_events, message_from_dispatcher
from action_server.dialogue.responses import render_response
from action_server.dialogue.stack import DialogueStack, FlowFrame, FrameType
from action_server.dialogue.step_actions import (
    DEFAULT_REGISTRY,
    FlowContext,
    StepActionError,
    StepActionRegistry,
)
from action_server.dialogue.tracker_state import command_dict, intent_of, tracker_dict
from action_server.dialogue.turn import FlowFailed, Turn, TurnResult
from action_server.flows.model import END, Flow, FlowProject, Step, StepAction
from action_server.stores.store import ConversationState, ConversationStore
from action_server.understanding.commands import (
    PARSE_DATA_EXTRA,
    CancelFlow,
    CannotHandle,
    Command,
    CommandSource,
    Restart,
    SetSlot,
    StartFlow,
)
from action_server.understanding.slash import DefaultCommandSource

if TYPE_CHECKING:
    from action_server.client.action_client import ActionClient

__all__ = ["ENDED_TEXT", "FlowEngine", "FlowEngineError", "TurnResult"]

logger = logging.getLogger(__name__)

"""The ``version`` sent in action calls: actions check it for compatibility."""
ENDED_TEXT = "This conversation has ended."
INTERNAL_ERROR_TEXT = "Sorry, I am having trouble with that. Please try again in a few minutes."
NOT_UNDERSTOOD_TEXT = "Sorry, I didn't understand that. Could you rephrase?"
DEFAULT_MAX_STEPS = 250


class FlowEngineError(Exception):
    """The engine cannot be built (bad project, bad endpoints) or a conversation is corrupt."""


class FlowEngine:
    """Runs flows for many conversations; one message at a time per conversation."""

    def __init__(
        self,
        project: FlowProject,
        action_client: ActionClient,
        store: ConversationStore,
        command_source: CommandSource | None = None,
        *,
        max_steps_per_turn: int = DEFAULT_MAX_STEPS,
        step_actions: StepActionRegistry | None = None,
        registered_actions: Iterable[str] = (),
        channel: str | None = None,
    ) -> None:
        if max_steps_per_turn < 1:
            raise ValueError(f"max_steps_per_turn must be at least 1, got {max_steps_per_turn}")
        self.project = project
        self.action_client = action_client
        self.store = store
        self.command_source: CommandSource = command_source or DefaultCommandSource()
        self.max_steps_per_turn = max_steps_per_turn
        self.step_actions = step_actions or DEFAULT_REGISTRY
        self.registered_actions = frozenset(registered_actions)
        self.channel = channel
        # One dict for the engine's lifetime: the HTTP transport caches its digest by identity.
        self._domain_dict = project.domain.to_dict()

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def from_paths(
        cls,
        flows: Sequence[str | Path],
        domain: Sequence[str | Path] | None = None,
        endpoints: str | Path | None = "endpoints.yml",
        store: ConversationStore | None = None,
        **options: Any,
    ) -> FlowEngine:
        """Load, validate and wire a project: actions from ``endpoints.yml``'s action_endpoint.

        Raises ``FlowsLoadError`` listing every validation problem, or ``FlowEngineError``
        / ``ConfigError`` for a broken endpoints file or actions package.
        """
        from action_server.config.endpoints import load_endpoints
        from action_server.dialogue.bootstrap import action_setup, check_project, domain_paths_for
        from action_server.flows.issues import FlowsLoadError
        from action_server.stores import create_store

        config = load_endpoints(endpoints)
        endpoint = config.action_endpoint
        if endpoint is None or (endpoint.actions_module is None and endpoint.url is None):
            raise FlowEngineError(
                f"{endpoints}: the flow engine needs an action_endpoint with 'actions_module' "
                "(run actions in this process) or 'url' (an action server)"
            )
        # The same set-up as the CLI and the server, so every entry point runs actions alike.
        setup = action_setup(endpoint, str(endpoints))
        for warning in setup.warnings:
            logger.warning(warning)
        step_actions: StepActionRegistry = options.get("step_actions") or DEFAULT_REGISTRY
        flow_paths = [str(path) for path in flows]
        domain_paths = domain_paths_for(
            flow_paths, None if domain is None else [str(path) for path in domain]
        )
        check = check_project(
            flow_paths, domain_paths, setup.registered, step_actions.known_types()
        )
        if check.project is None:
            raise FlowsLoadError(check.issues)
        if store is None:
            store = create_store(config.tracker_store)
        options.setdefault("registered_actions", setup.registered or ())
        return cls(check.project, setup.client, store, **options)

    async def close(self) -> None:
        await self.action_client.close()
        await self.store.close()

    # --- public API -----------------------------------------------------------------------

    async def handle(
        self, conversation_id: str, message: str, metadata: dict[str, Any] | None = None
    ) -> TurnResult:
        """Process one user message and return the bot's answer and the new events."""
        async with self.store.lock(conversation_id):
            state = await self.store.load(conversation_id)
            if state is None:
                state = self._new_state(conversation_id)
            elif state.ended and message.strip() != "/restart":
                return TurnResult(messages=[{"text": ENDED_TEXT}], events=[])
            turn = self._begin(state, metadata)
            await self._user_turn(turn, message, metadata or {})
            return await self._finish(turn)

    async def start_flow(self, conversation_id: str, flow_id: str) -> TurnResult:
        """Start ``flow_id`` without a user message (e.g. a greeting when a call connects).

        Unlike user commands this ignores the flow guard: the application decides.
        """
        if flow_id not in self.project.flows:
            raise KeyError(f"no flow named '{flow_id}'")
        async with self.store.lock(conversation_id):
            state = await self.store.load(conversation_id)
            if state is None:
                state = self._new_state(conversation_id)
            elif state.ended:
                return TurnResult(messages=[{"text": ENDED_TEXT}], events=[])
            turn = self._begin(state, None)
            self._push_flow(turn, flow_id)
            await self._advance(turn)
            return await self._finish(turn)

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The conversation in Rasa's tracker JSON shape (an empty one if never seen)."""
        state = await self.store.load(conversation_id)
        if state is None:
            state = self._new_state(conversation_id, with_session_start=False)
        stack = self._load_stack(state)
        return tracker_dict(state, stack)

    # --- turn plumbing --------------------------------------------------------------------

    def _new_state(
        self, conversation_id: str, with_session_start: bool = True
    ) -> ConversationState:
        state = ConversationState(
            conversation_id=conversation_id, slots=self.project.domain.initial_slots()
        )
        if with_session_start:
            state.events.extend(
                [
                    flow_events.action_executed("action_session_start"),
                    {"event": "session_started", "timestamp": time.time()},
                    flow_events.action_executed("action_listen"),
                ]
            )
        return state

    def _load_stack(self, state: ConversationState) -> DialogueStack:
        try:
            stack = DialogueStack.from_list(state.stack)
        except ValueError as exc:
            raise FlowEngineError(
                f"conversation '{state.conversation_id}': stored dialogue stack is invalid: {exc}"
            ) from exc
        for frame in stack.frames:
            if frame.flow_id not in self.project.flows:
                raise FlowEngineError(
                    f"conversation '{state.conversation_id}': the stack refers to flow "
                    f"'{frame.flow_id}', which the loaded flows no longer define"
                )
        return stack

    def _begin(self, state: ConversationState, metadata: Mapping[str, Any] | None) -> Turn:
        for name, value in self.project.domain.initial_slots().items():
            state.slots.setdefault(name, value)
        channel = (metadata or {}).get("input_channel")
        return Turn(
            state=state,
            stack=self._load_stack(state),
            first_event=len(state.events),
            input_channel=channel if isinstance(channel, str) else self.channel,
        )

    async def _finish(self, turn: Turn) -> TurnResult:
        state = turn.state
        if not state.ended:
            turn.record(flow_events.action_executed("action_listen"))
        state.stack = turn.stack.to_list()
        await self.store.save(state)
        return TurnResult(messages=list(turn.messages), events=list(turn.new_events))

    # --- commands -------------------------------------------------------------------------

    async def _user_turn(self, turn: Turn, text: str, metadata: Mapping[str, Any]) -> None:
        commands = await self.command_source.parse(text, turn.state, self.project)
        intent = intent_of(text, commands)
        parse_data: dict[str, Any] = {
            "text": text,
            "intent": {"name": intent, "confidence": 1.0} if intent else {},
            "entities": [],
            "commands": [command_dict(command) for command in commands],
            "metadata": dict(metadata),
        }
        # What the source recorded for this message (an LLM's prompt and answer).
        parse_data.update(turn.state.metadata.pop(PARSE_DATA_EXTRA, None) or {})
        turn.state.latest_message = parse_data
        turn.record(flow_events.user_uttered(text, parse_data, turn.input_channel))
        for command in commands:
            await self._apply(turn, command)
            if turn.state.ended:
                break
        if not turn.state.ended:
            await self._advance(turn)

    async def _apply(self, turn: Turn, command: Command) -> None:
        if isinstance(command, SetSlot):
            await self._apply_set_slot(turn, command)
        elif isinstance(command, StartFlow):
            self._apply_start_flow(turn, command)
        elif isinstance(command, CancelFlow):
            self._apply_cancel(turn)
        elif isinstance(command, Restart):
            self._apply_restart(turn)
        elif isinstance(command, CannotHandle):
            self._cannot_handle(turn, command.reason)
        else:  # a plugged-in source returned something else
            self._cannot_handle(turn, f"unknown command {command!r}")

    def _cannot_handle(self, turn: Turn, reason: str | None) -> None:
        logger.info(
            "conversation %s: cannot handle message: %s", turn.state.conversation_id, reason
        )
        for name in ("utter_ask_rephrase", "utter_default"):
            if name in self.project.domain.responses:
                self._utter(turn, name)
                return
        # A source that knows what the assistant can do says so (understanding/pipeline.py).
        fallback = getattr(self.command_source, "fallback_message", None)
        if fallback is not None:
            turn.say(fallback(self.project, turn.state))
            return
        text = NOT_UNDERSTOOD_TEXT if reason is None else f"{NOT_UNDERSTOOD_TEXT} ({reason})"
        turn.say({"text": text})

    def _apply_start_flow(self, turn: Turn, command: StartFlow) -> None:
        flow = self.project.flows.get(command.flow_id)
        if flow is None:
            self._cannot_handle(turn, f"there is no flow named '{command.flow_id}'")
            return
        if command.flow_id in turn.stack.flow_ids():
            logger.info("flow '%s' is already active; StartFlow ignored", command.flow_id)
            return
        if flow.guard is not None and not flow.guard.evaluate(turn.state.slots, {}):
            self._cannot_handle(turn, f"flow '{flow.id}' cannot be started now")
            return
        self._push_flow(turn, flow.id)

    def _apply_cancel(self, turn: Turn) -> None:
        if not turn.stack:
            turn.say({"text": "There is nothing to cancel."})
            return
        cancelled = self._cancel_top(turn)
        if "utter_flow_cancelled_rasa" in self.project.domain.responses:
            self._utter(turn, "utter_flow_cancelled_rasa", {"canceled_name": cancelled.name})
        else:
            turn.say({"text": f"Okay, I stopped {cancelled.name}."})
        self._resume_top(turn)

    def _apply_restart(self, turn: Turn) -> None:
        # History stays (like Rasa's tracker store); slots, stack and the ended mark go.
        state = turn.state
        turn.record({"event": "restart", "timestamp": time.time()})
        state.slots = self.project.domain.initial_slots()
        state.ended = False
        turn.end_reason = None
        turn.stack.clear()
        if "utter_restart" in self.project.domain.responses:
            self._utter(turn, "utter_restart")

    async def _apply_set_slot(self, turn: Turn, command: SetSlot) -> None:
        domain = self.project.domain
        definition = domain.slots.get(command.name)
        if definition is None:
            self._cannot_handle(turn, f"there is no slot named '{command.name}'")
            return
        collect = self._collect_step_for(turn, command.name)
        try:
            value = definition.coerce(command.value)
        except ValueError as exc:
            self._invalid_value(turn, command.name, command.value, str(exc))
            return
        if collect is not None:
            for rejection in collect.rejections:
                probe = {**turn.state.slots, command.name: value}
                if rejection.condition.evaluate(probe, self._context(turn)):
                    if rejection.utter and rejection.utter in domain.responses:
                        self._utter(turn, rejection.utter, {command.name: value})
                    else:
                        turn.say({"text": f"Sorry, {value} is not accepted here."})
                    return
        self._set_slot(turn, command.name, value)
        validator = f"validate_{command.name}"
        if self._action_known(validator):
            try:
                await self._run_action(turn, validator, raise_on_error=True)
            except FlowFailed as exc:
                # An action that cannot validate the value must not let it through.
                logger.warning("conversation %s: %s", turn.state.conversation_id, exc)
                if not exc.rejected:
                    self._internal_error(turn)
                self._set_slot(turn, command.name, None, coerce=False)
        top = turn.stack.top
        if top is not None and top.state == "asked" and collect is not None:
            if collect.id == top.step_id:
                top.state = "answered"

    def _invalid_value(self, turn: Turn, slot: str, value: Any, reason: str) -> None:
        name = f"utter_invalid_{slot}"
        if name in self.project.domain.responses:
            self._utter(turn, name, {"value": value})
        else:
            turn.say({"text": f"Sorry, I can't use {value!r} for {slot}: {reason}."})

    def _collect_step_for(self, turn: Turn, slot: str) -> Step | None:
        """The collect step of the top flow that fills ``slot`` (the asked one first)."""
        top = turn.stack.top
        if top is None:
            return None
        flow = self.project.flow(top.flow_id)
        current = flow.steps.get(top.step_id)
        if current is not None and current.collect == slot:
            return current
        for step in flow.steps.values():
            if step.collect == slot:
                return step
        return None

    # --- the stack machine ----------------------------------------------------------------

    def _push_flow(self, turn: Turn, flow_id: str, frame_type: FrameType | None = None) -> None:
        top = turn.stack.top
        if frame_type is None:
            frame_type = "interrupt" if top is not None else "regular"
            if top is not None:
                turn.record(flow_events.flow_interrupted(top.flow_id, top.step_id))
        turn.stack.push(FlowFrame(flow_id=flow_id, frame_type=frame_type))
        turn.record(flow_events.flow_started(flow_id))

    async def _advance(self, turn: Turn) -> None:
        """Run steps until a collect waits for the user or the stack is empty."""
        while turn.stack and not turn.state.ended:
            turn.steps += 1
            if turn.steps > self.max_steps_per_turn:
                self._trip_circuit_breaker(turn)
                return
            frame = turn.stack.top
            assert frame is not None
            flow = self.project.flow(frame.flow_id)
            try:
                waiting = await self._run_frame(turn, frame, flow)
            except FlowFailed as exc:
                logger.error("conversation %s: %s", turn.state.conversation_id, exc)
                self._internal_error(turn)
                self._cancel_top(turn)
                self._resume_top(turn)
                continue
            if turn.end_reason is not None:
                self._end_conversation(turn)
                return
            if waiting:
                return

    async def _run_frame(self, turn: Turn, frame: FlowFrame, flow: Flow) -> bool:
        """Make one move on the top frame; True when the engine must wait for the user."""
        if frame.state == "start":
            await self._run_step_actions(turn, flow.pre_actions, flow, None)
            frame.step_id = flow.first_step_id
            frame.state = "fresh"
            if frame.step_id == END:
                await self._complete_flow(turn, frame, flow, "START")
            return False
        step = flow.step(frame.step_id)
        if frame.state == "calling":  # the called flow has ended
            await self._leave_step(turn, frame, flow, step)
            return False
        if frame.state == "asked":  # no accepted answer: ask again
            await self._ask(turn, step)
            return True
        if frame.state == "answered":
            if turn.state.slots.get(step.collect or "") is None:
                frame.state = "asked"
                await self._ask(turn, step)
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
            await self._run_action(turn, step.action, raise_on_error=True)
        elif kind == "collect" and step.collect:
            slot = step.collect
            if step.ask_before_filling or turn.state.slots.get(slot) is None:
                frame.state = "asked"
                await self._ask(turn, step)
                return True
        elif kind == "set_slots":
            for name, value in step.set_slots:
                try:
                    self._set_slot(turn, name, value)
                except ValueError as exc:
                    raise FlowFailed(
                        f"{step.source}: flow '{flow.id}' step '{step.id}': {exc}"
                    ) from exc
        elif kind == "link" and step.link:
            await self._run_step_actions(turn, step.post_actions, flow, step)
            await self._complete_flow(turn, frame, flow, step.id, resume=False)
            self._push_flow(turn, step.link, "link")
            return False
        elif kind == "call" and step.call:
            frame.state = "calling"
            self._push_flow(turn, step.call, "call")
            return False
        await self._leave_step(turn, frame, flow, step)
        return False

    async def _leave_step(self, turn: Turn, frame: FlowFrame, flow: Flow, step: Step) -> None:
        """Post-actions, then follow the first branch whose condition holds."""
        await self._run_step_actions(turn, step.post_actions, flow, step)
        if turn.end_reason is not None:
            return
        target = step.next_step_id(turn.state.slots, self._context(turn))
        if target == END:
            await self._complete_flow(turn, frame, flow, step.id)
            return
        frame.step_id = target
        frame.state = "fresh"

    async def _complete_flow(
        self, turn: Turn, frame: FlowFrame, flow: Flow, last_step_id: str, resume: bool = True
    ) -> None:
        await self._run_step_actions(turn, flow.post_actions, flow, None)
        if turn.end_reason is not None:
            return
        turn.stack.pop()
        turn.record(flow_events.flow_completed(flow.id, last_step_id))
        self._reset_flow_slots(turn, frame, flow)
        if resume and frame.frame_type != "call":
            self._resume_top(turn)

    def _resume_top(self, turn: Turn) -> None:
        """After an interrupting flow ended: the flow below continues (re-asking its question)."""
        top = turn.stack.top
        if top is None:
            return
        if top.state == "calling":
            return  # a called flow was cancelled mid-chain; its caller got cancelled too
        turn.record(flow_events.flow_resumed(top.flow_id, top.step_id))
        if top.state == "answered":
            top.state = "asked"

    def _cancel_top(self, turn: Turn) -> Flow:
        """Cancel the top flow and every caller waiting on it; returns the user-facing flow."""
        cancelled: Flow | None = None
        while turn.stack:
            frame = turn.stack.pop()
            flow = self.project.flow(frame.flow_id)
            turn.record(flow_events.flow_cancelled(flow.id, frame.step_id))
            self._reset_flow_slots(turn, frame, flow, into_caller=False)
            cancelled = flow
            if frame.frame_type != "call":
                break
        assert cancelled is not None
        return cancelled

    def _trip_circuit_breaker(self, turn: Turn) -> None:
        top = turn.stack.top
        where = f"flow '{top.flow_id}' at step '{top.step_id}'" if top else "the dialogue"
        logger.error(
            "conversation %s: circuit breaker: %s ran more than %d steps without waiting for "
            "the user; cancelling the active flows",
            turn.state.conversation_id,
            where,
            self.max_steps_per_turn,
        )
        while turn.stack:
            frame = turn.stack.pop()
            turn.record(flow_events.flow_cancelled(frame.flow_id, frame.step_id))
        turn.say(
            {
                "text": f"Sorry, something went wrong: {where} ran more than "
                f"{self.max_steps_per_turn} steps without waiting for you, so I stopped it."
            },
        )

    def _reset_flow_slots(
        self, turn: Turn, frame: FlowFrame, flow: Flow, into_caller: bool = True
    ) -> None:
        """Reset what the flow collected or set, except persisted slots.

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
            initial = definition.initial_value if definition else None
            if turn.state.slots.get(name) != initial:
                self._set_slot(turn, name, initial, coerce=False)

    def _end_conversation(self, turn: Turn) -> None:
        reason = turn.end_reason or "end_conversation"
        turn.stack.clear()
        turn.state.ended = True
        turn.record(flow_events.session_ended(reason))

    # --- collect --------------------------------------------------------------------------

    async def _ask(self, turn: Turn, step: Step) -> None:
        slot = step.collect or ""
        responses = self.project.domain.responses
        if step.utter and step.utter in responses:
            self._utter(turn, step.utter)
        elif step.ask_action and self._action_known(step.ask_action):
            await self._run_action(turn, step.ask_action, raise_on_error=True)
        else:
            turn.say({"text": f"Please tell me the {slot}."})

    # --- actions --------------------------------------------------------------------------

    def _action_known(self, name: str) -> bool:
        return name in self.registered_actions or name in self.project.domain.actions

    async def _run_action(self, turn: Turn, name: str, *, raise_on_error: bool) -> None:
        """Run an action (responses locally, the rest through the client) and apply its events."""
        if name in self.project.domain.responses:
            self._utter(turn, name)
            return
        if name == "action_listen":
            return
        if name == "action_restart":
            self._apply_restart(turn)
            return
        from action_server.client.action_client import ActionClientError, ActionRejectedError

        call = {
            "next_action": name,
            "sender_id": turn.state.conversation_id,
            "tracker": tracker_dict(turn.state, turn.stack),
            "domain": self._domain_dict,
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
            self._internal_error(turn)
            return
        turn.record(flow_events.action_executed(name))
        followups = apply_action_events(turn, self.project.domain, name, result.get("events") or [])
        for response in result.get("responses") or []:
            message = message_from_dispatcher(
                turn, self.project.domain, self.channel, name, response
            )
            if message:
                turn.say(message, utter_action=name)
        for followup in followups:
            turn.steps += 1
            if turn.steps > self.max_steps_per_turn:
                raise FlowFailed(f"too many follow-up actions after '{name}'")
            await self._run_action(turn, followup, raise_on_error=raise_on_error)

    # --- messages -------------------------------------------------------------------------

    def _utter(self, turn: Turn, name: str, extra: Mapping[str, Any] | None = None) -> None:
        message = render_response(name, self.project.domain, turn.state.slots, extra, self.channel)
        turn.record(flow_events.action_executed(name))
        if message is None:
            logger.warning("response '%s' has no variation for the current slots", name)
            return
        turn.say(message, utter_action=name)

    def _internal_error(self, turn: Turn) -> None:
        if "utter_internal_error_rasa" in self.project.domain.responses:
            self._utter(turn, "utter_internal_error_rasa")
        else:
            turn.say({"text": INTERNAL_ERROR_TEXT})

    # --- slots and step actions -----------------------------------------------------------

    def _set_slot(self, turn: Turn, name: str, value: Any, coerce: bool = True) -> None:
        definition = self.project.domain.slots.get(name)
        if definition is None:
            raise ValueError(f"there is no slot named '{name}' in the domain")
        if coerce:
            value = definition.coerce(value)
        turn.state.slots[name] = value
        turn.record(flow_events.slot_set(name, value))

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
                set_slot=lambda name, value: self._set_slot(turn, name, value),
                add_message=lambda message: turn.say(dict(message)),
                end_conversation=lambda reason: setattr(turn, "end_reason", reason),
                metadata=turn.state.latest_message.get("metadata") or {},
            )
            where = f"{action.source}: flow '{flow.id}'" + (f" step '{step.id}'" if step else "")
            try:
                await self.step_actions.run({"type": action.type, **action.params}, context, where)
            except StepActionError as exc:
                raise FlowFailed(str(exc)) from exc

    # --- tracker --------------------------------------------------------------------------

    def _context(self, turn: Turn) -> dict[str, Any]:
        top = turn.stack.top
        return top.to_dict() if top else {}
