"""One turn of a conversation: the state it works on, what it adds, and how it ends.

A `Turn` is created per user message (or programmatic flow start) and handed to every part of
the engine; `TurnResult` is what the caller gets back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from action_server.dialogue import flow_events
from action_server.dialogue.stack import DialogueStack
from action_server.stores.store import ConversationState

__all__ = ["FlowFailed", "Turn", "TurnResult"]


@dataclass
class TurnResult:
    """What one call produced: bot messages to send, and the events added to the tracker."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


class FlowFailed(Exception):
    """Abort the running flow: the user is told, the flow (chain) is cancelled, the cause logged."""

    def __init__(self, message: str, rejected: bool = False) -> None:
        super().__init__(message)
        self.rejected = rejected


@dataclass
class Turn:
    """Mutable state of one turn: the conversation plus what this turn added."""

    state: ConversationState
    stack: DialogueStack
    first_event: int
    messages: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    input_channel: str | None = None
    end_reason: str | None = None
    no_reask: bool = False  # the open question was just repeated: wait without asking again
    failures: int = 0  # internal errors this turn (bounds error-pattern loops)
    followups: list[str] = field(default_factory=list)  # follow-up actions of the last action
    filled: list[str] = field(default_factory=list)  # slots the commands set: validate_<slot>
    removed_flows: list[str] = field(default_factory=list)  # stored frames of vanished flows
    refill: dict[str, str] = field(default_factory=dict)  # slot -> refill_utter to ask again with

    @property
    def new_events(self) -> list[dict[str, Any]]:
        return self.state.events[self.first_event :]

    def record(self, event: dict[str, Any]) -> None:
        """Append an event to the conversation's tracker."""
        self.state.events.append(event)

    def say(self, message: dict[str, Any], utter_action: str | None = None) -> None:
        """Send a bot message now and record it as a `bot` event."""
        self.messages.append(message)
        self.record(flow_events.bot_uttered(message, utter_action))
