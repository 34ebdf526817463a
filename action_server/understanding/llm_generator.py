"""The LLM command generator (Rasa's ``CompactLLMCommandGenerator``) as a ``CommandSource``.

One chat completion per user message: the prompt (``prompt.py``) goes to the model group's
client (``llm_client.py``), the answer is parsed and checked (``command_parser.py``). An LLM
error or timeout becomes ``InternalError`` (``pattern_internal_error``); an answer with no
usable command becomes ``CannotHandle``; empty or over-long input never reaches the LLM.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from action_server.flows.model import FlowProject
from action_server.stores.store import ConversationState
from action_server.understanding.command_parser import check_commands, parse_command_lines
from action_server.understanding.commands import (
    PARSE_DATA_EXTRA,
    CannotHandle,
    Command,
    InternalError,
)
from action_server.understanding.llm_client import LLMClient, LLMError
from action_server.understanding.prompt import PromptBuilder

__all__ = [
    "DEFAULT_MAX_CHARACTERS",
    "ERROR_DEFAULT",
    "ERROR_INPUT_EMPTY",
    "ERROR_INPUT_TOO_LONG",
    "GeneratorTrace",
    "LLMCommandGenerator",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_CHARACTERS = 420  # Rasa's user_input.max_characters
ERROR_DEFAULT = "rasa_internal_error_default"
ERROR_INPUT_EMPTY = "rasa_internal_error_user_input_empty"
ERROR_INPUT_TOO_LONG = "rasa_internal_error_user_input_too_long"


@dataclass
class GeneratorTrace:
    """What the last call saw and answered (for ``flows chat --debug`` and tests)."""

    prompt: str = ""
    answer: str = ""
    commands: list[Command] = field(default_factory=list)


class LLMCommandGenerator:
    """Turns a user message into commands with one LLM call."""

    def __init__(
        self,
        client: LLMClient,
        prompts: PromptBuilder,
        *,
        max_characters: int = DEFAULT_MAX_CHARACTERS,
        name: str = "CompactLLMCommandGenerator",
    ) -> None:
        self.client = client
        self.prompts = prompts
        self.max_characters = max_characters
        self.name = name
        self.last = GeneratorTrace()

    async def parse(
        self, text: str, state: ConversationState, project: FlowProject
    ) -> list[Command]:
        if not text.strip():
            return [InternalError(ERROR_INPUT_EMPTY)]
        if self.max_characters and len(text) > self.max_characters:
            return [InternalError(ERROR_INPUT_TOO_LONG)]
        prompt = self.prompts.render(text, state)
        try:
            answer = await self.client.complete(prompt)
        except LLMError as exc:
            logger.warning(
                "conversation %s: %s: no answer from the LLM: %s",
                state.conversation_id,
                self.name,
                exc,
            )
            self.last = GeneratorTrace(prompt, "", [InternalError(ERROR_DEFAULT)])
            state.metadata[PARSE_DATA_EXTRA] = {"llm_prompt": prompt, "llm_answer": None}
            return [InternalError(ERROR_DEFAULT)]
        commands = self.commands_from_answer(answer.text, state, project)
        self.last = GeneratorTrace(prompt, answer.text, commands)
        # Rasa keeps the exchange with the message; the inspector shows it from there.
        state.metadata[PARSE_DATA_EXTRA] = {"llm_prompt": prompt, "llm_answer": answer.text}
        return commands

    @staticmethod
    def commands_from_answer(
        answer: str, state: ConversationState, project: FlowProject
    ) -> list[Command]:
        commands = check_commands(parse_command_lines(answer), project, state.slots, state.stack)
        if not commands:
            return [CannotHandle("the LLM answered no command that applies here")]
        return commands
