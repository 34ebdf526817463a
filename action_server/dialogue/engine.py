"""The flow engine: a dialogue-stack machine that runs flows turn by turn (Rasa semantics, no LLM).

Each user message becomes commands (``commands.py``); ``command_handling.py`` applies them
(pushing Rasa's pattern flows for repair), then ``step_runner.py`` advances the top flow step
by step until it must wait for the user or the stack is empty. Actions run through an
``ActionClient`` with the same call JSON Rasa posts to an action server; ``utter_*``
responses are rendered locally from the domain. Conversation state lives in a
``ConversationStore``, locked per conversation for the turn.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from action_server.dialogue import flow_events
from action_server.dialogue.command_handling import CommandHandler
from action_server.dialogue.stack import DialogueStack
from action_server.dialogue.stack_ops import StackOps
from action_server.dialogue.step_actions import DEFAULT_REGISTRY, StepActionRegistry
from action_server.dialogue.step_runner import StepRunner
from action_server.dialogue.tracker_state import command_dict, intent_of, tracker_dict
from action_server.dialogue.turn import Turn, TurnResult
from action_server.flows.model import FlowProject
from action_server.stores.store import ConversationState, ConversationStore
from action_server.understanding.commands import (
    PARSE_DATA_EXTRA,
    Command,
    CommandSource,
    InternalError,
    Restart,
)
from action_server.understanding.slash import DefaultCommandSource

if TYPE_CHECKING:
    from action_server.client.action_client import ActionClient

__all__ = ["ENDED_TEXT", "FlowEngine", "FlowEngineError", "TurnResult", "input_problem"]

logger = logging.getLogger(__name__)

ENDED_TEXT = "This conversation has ended."
DEFAULT_MAX_STEPS = 250
SILENCE_SLOT = "consecutive_silence_timeouts"
DEFAULT_MAX_INPUT_CHARACTERS = 420
"""Rasa's ``user_input.max_characters``: longer messages go to ``pattern_internal_error``."""


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
        response_seed: int | None = None,
        max_input_characters: int = DEFAULT_MAX_INPUT_CHARACTERS,
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
        self.max_input_characters = max_input_characters
        # Rasa picks a response variation at random; a seed makes runs repeatable.
        self.ops = StackOps(project, channel, random.Random(response_seed))
        self.commands = CommandHandler(self.ops)
        self.runner = StepRunner(
            self.ops,
            action_client,
            self.step_actions,
            self.registered_actions,
            max_steps_per_turn,
            # Looked up per use: callers may plug in another command source later.
            lambda: getattr(self.command_source, "fallback_message", None),
        )

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
        from action_server.dialogue.bootstrap import action_setup, check_project, project_paths
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
        # A Rasa project directory is read in Rasa's layout (data/, domain/).
        flow_paths, domain_paths = project_paths(
            [str(path) for path in flows], None if domain is None else [str(p) for p in domain]
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
            state = await self._load_open(conversation_id, reopen=message.strip() == "/restart")
            if state is None:
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
            state = await self._load_open(conversation_id)
            if state is None:
                return TurnResult(messages=[{"text": ENDED_TEXT}], events=[])
            turn = self._begin(state, None)
            # Not a user's interruption: when it ends, the flow below just goes on (no
            # pattern_continue_interrupted), as after Rasa's own patterns.
            self.ops.push_flow(turn, flow_id, "regular")
            self._code_change(turn)
            await self.runner.advance(turn)
            return await self._finish(turn)

    async def user_silence(self, conversation_id: str) -> TurnResult:
        """The user said nothing before a timeout (voice): Rasa's ``pattern_user_silence``,
        counting ``consecutive_silence_timeouts`` (any user message resets the count)."""
        async with self.store.lock(conversation_id):
            state = await self._load_open(conversation_id)
            if state is None:
                return TurnResult(messages=[{"text": ENDED_TEXT}], events=[])
            turn = self._begin(state, None)
            count = float(state.slots.get(SILENCE_SLOT) or 0) + 1
            if SILENCE_SLOT in self.project.domain.slots:
                self.ops.set_slot(turn, SILENCE_SLOT, count, coerce=False)
            self.ops.push_pattern(turn, "pattern_user_silence")
            await self.runner.advance(turn)
            return await self._finish(turn)

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The conversation in Rasa's tracker JSON shape (an empty one if never seen)."""
        state = await self.store.load(conversation_id)
        if state is None:
            state = self._new_state(conversation_id, with_session_start=False)
        stack, _ = self._load_stack(state)
        return tracker_dict(state, stack)

    # --- turn plumbing --------------------------------------------------------------------

    async def _load_open(
        self, conversation_id: str, reopen: bool = False
    ) -> ConversationState | None:
        """The stored conversation, a new one if never seen, or None when it has ended (unless
        ``reopen``: ``/restart`` starts an ended conversation over). Call under its lock."""
        state = await self.store.load(conversation_id)
        if state is None:
            return self._new_state(conversation_id)
        if state.ended and not reopen:
            return None
        return state

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

    def _load_stack(self, state: ConversationState) -> tuple[DialogueStack, list[str]]:
        """The stored stack, without frames the loaded flows no longer define (returned)."""
        try:
            stack = DialogueStack.from_list(state.stack)
        except ValueError as exc:
            raise FlowEngineError(
                f"conversation '{state.conversation_id}': stored dialogue stack is invalid: {exc}"
            ) from exc
        gone: list[str] = []
        for frame in list(stack.frames):
            flow = self.project.flows.get(frame.flow_id)
            if flow is None or (frame.state != "start" and frame.step_id not in flow.steps):
                logger.warning(
                    "conversation %s: the stack refers to flow '%s' step '%s', which the "
                    "loaded flows no longer define",
                    state.conversation_id,
                    frame.flow_id,
                    frame.step_id,
                )
                stack.frames.remove(frame)
                gone.append(frame.flow_id)
        return stack, gone

    def _begin(self, state: ConversationState, metadata: Mapping[str, Any] | None) -> Turn:
        for name, value in self.project.domain.initial_slots().items():
            state.slots.setdefault(name, value)
        channel = (metadata or {}).get("input_channel")
        stack, gone = self._load_stack(state)
        turn = Turn(
            state=state,
            stack=stack,
            first_event=len(state.events),
            input_channel=channel if isinstance(channel, str) else self.channel,
        )
        turn.removed_flows = gone
        return turn

    def _code_change(self, turn: Turn) -> None:
        """The flows changed under this conversation: Rasa's pattern_code_change, first."""
        if turn.removed_flows:
            self.ops.push_pattern(turn, "pattern_code_change", removed_flows=turn.removed_flows)

    async def _finish(self, turn: Turn) -> TurnResult:
        state = turn.state
        if not state.ended:
            turn.record(flow_events.action_executed("action_listen"))
        state.stack = turn.stack.to_list()
        await self.store.save(state)
        return TurnResult(messages=list(turn.messages), events=list(turn.new_events))

    # --- commands -------------------------------------------------------------------------

    async def _user_turn(self, turn: Turn, text: str, metadata: Mapping[str, Any]) -> None:
        problem = input_problem(text, self.max_input_characters)
        if problem is not None:
            commands: list[Command] = [InternalError(problem)]
        else:
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
        if turn.state.slots.get(SILENCE_SLOT):
            self.ops.set_slot(turn, SILENCE_SLOT, 0.0, coerce=False)
        if turn.state.ended and any(isinstance(c, Restart) for c in commands):
            turn.state.ended = False  # pattern_restart's action_restart starts over
        self.commands.apply(turn, commands)
        self._code_change(turn)
        await self.runner.validate_filled(turn)
        if not turn.state.ended:
            await self.runner.advance(turn)


def input_problem(text: str, max_characters: int) -> str | None:
    """Rasa's input checks before understanding: the ``error_type`` of an empty or too long
    message (slash payloads are exempt from the length limit, as they skip the LLM)."""
    stripped = text.strip()
    if not stripped:
        return "rasa_internal_error_user_input_empty"
    if not stripped.startswith("/") and len(stripped) > max_characters:
        return "rasa_internal_error_user_input_too_long"
    return None
