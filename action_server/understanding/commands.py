"""Commands: what a user message means to the dialogue engine, whatever understood it.

Every command source (slash payloads in `slash.py`, NLU and LLM command generators) produces
these; the engine applies them before advancing the dialogue stack. The vocabulary is Rasa
CALM's, and `to_dict()` gives the shape Rasa stores in a user event's `parse_data.commands`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from action_server.flows.model import FlowProject
from action_server.stores.store import ConversationState

__all__ = [
    "PARSE_DATA_EXTRA",
    "CancelFlow",
    "CannotHandle",
    "ChitChat",
    "Clarify",
    "Command",
    "CommandSource",
    "HumanHandoff",
    "InternalError",
    "KnowledgeAnswer",
    "RepeatBotMessages",
    "Restart",
    "SessionStart",
    "SetSlot",
    "SkipQuestion",
    "StartFlow",
    "collecting_slot",
]


@dataclass(frozen=True)
class StartFlow:
    flow_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"command": "start flow", "flow": self.flow_id}


@dataclass(frozen=True)
class SetSlot:
    """Set ``name`` to ``value``; ``is_answer`` marks the reply to the question being asked.

    ``extractor`` names who filled it (``"slash"`` payloads, ``"NLU"``, ``"LLM"``), so slot
    mappings can decide which sources may fill a slot.
    """

    name: str
    value: Any
    is_answer: bool = False
    extractor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"command": "set slot", "name": self.name, "value": self.value}


@dataclass(frozen=True)
class CancelFlow:
    def to_dict(self) -> dict[str, Any]:
        return {"command": "cancel flow"}


@dataclass(frozen=True)
class Restart:
    def to_dict(self) -> dict[str, Any]:
        return {"command": "restart"}


@dataclass(frozen=True)
class SessionStart:
    def to_dict(self) -> dict[str, Any]:
        return {"command": "session start"}


@dataclass(frozen=True)
class CannotHandle:
    """The message means nothing here; ``reason`` says why (logged, and shown when useful)."""

    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"command": "cannot handle", "reason": self.reason}


@dataclass(frozen=True)
class Clarify:
    """The message could start any of ``options`` (flow ids): ask the user which."""

    options: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"command": "clarify", "options": list(self.options)}


@dataclass(frozen=True)
class SkipQuestion:
    def to_dict(self) -> dict[str, Any]:
        return {"command": "skip question"}


@dataclass(frozen=True)
class ChitChat:
    """Small talk or an off-topic message: answered by ``pattern_chitchat``."""

    def to_dict(self) -> dict[str, Any]:
        return {"command": "chitchat"}


@dataclass(frozen=True)
class KnowledgeAnswer:
    """A question for the knowledge base: answered by ``pattern_search``."""

    def to_dict(self) -> dict[str, Any]:
        return {"command": "knowledge"}


@dataclass(frozen=True)
class HumanHandoff:
    def to_dict(self) -> dict[str, Any]:
        return {"command": "human handoff"}


@dataclass(frozen=True)
class RepeatBotMessages:
    def to_dict(self) -> dict[str, Any]:
        return {"command": "repeat"}


@dataclass(frozen=True)
class InternalError:
    """Understanding failed (empty or too long input, LLM error): ``pattern_internal_error``."""

    error_type: str
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"command": "error", "error_type": self.error_type, "info": dict(self.info)}


Command = (
    StartFlow
    | SetSlot
    | CancelFlow
    | Restart
    | SessionStart
    | CannotHandle
    | Clarify
    | SkipQuestion
    | ChitChat
    | KnowledgeAnswer
    | HumanHandoff
    | RepeatBotMessages
    | InternalError
)


PARSE_DATA_EXTRA = "parse_data_extra"
"""Key of ``ConversationState.metadata`` where a source leaves extra ``parse_data`` keys for
the message it parsed (e.g. ``llm_prompt``, ``llm_answer``); the engine moves them into the
user event and never stores them in the conversation's metadata."""


@runtime_checkable
class CommandSource(Protocol):
    """Turns a user message into commands; NLU/LLM generators implement this."""

    async def parse(
        self, text: str, state: ConversationState, project: FlowProject
    ) -> list[Command]: ...


def collecting_slot(state: ConversationState, project: FlowProject) -> str | None:
    """The slot whose question the top flow is waiting on, if any."""
    if not state.stack:
        return None
    top = state.stack[-1]
    if top.get("state") != "asked":
        return None
    flow = project.flows.get(str(top.get("flow_id")))
    step = flow.steps.get(str(top.get("step_id"))) if flow else None
    return step.collect if step else None
