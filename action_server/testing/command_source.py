"""The e2e runner's command source: the default one (slash payloads, answers) plus payloads
that stand in for commands only an LLM or NLU would produce, so e2e tests can exercise every
pattern without a model:

- ``/Clarify(flow_a, flow_b)`` - ``Clarify``;      ``/SkipQuestion`` - ``SkipQuestion``;
- ``/HumanHandoff`` - ``HumanHandoff``;            ``/RepeatBotMessages`` - ``RepeatBotMessages``;
- ``/ChitChat`` - ``ChitChat``;                    ``/KnowledgeAnswer`` - ``KnowledgeAnswer``;
- ``/CannotHandle(reason)`` - ``CannotHandle``;    ``/InternalError(error_type)``;
- ``/SessionStart`` - ``SessionStart``.

They work in ``action-server flows test`` only; production sources never read them.
"""

from __future__ import annotations

import re

from action_server.flows.model import FlowProject
from action_server.stores.store import ConversationState
from action_server.understanding.commands import (
    CannotHandle,
    ChitChat,
    Clarify,
    Command,
    CommandSource,
    HumanHandoff,
    InternalError,
    KnowledgeAnswer,
    RepeatBotMessages,
    SessionStart,
    SkipQuestion,
)
from action_server.understanding.slash import DefaultCommandSource

__all__ = ["TEST_PAYLOADS", "TestCommandSource", "test_commands"]

_PAYLOAD = re.compile(r"^/([A-Za-z]+)(?:\(([^()]*)\))?$")
TEST_PAYLOADS = (
    "Clarify",
    "SkipQuestion",
    "HumanHandoff",
    "RepeatBotMessages",
    "ChitChat",
    "KnowledgeAnswer",
    "CannotHandle",
    "InternalError",
    "SessionStart",
)


def test_commands(text: str) -> list[Command] | None:
    """Commands for a test-only payload; None when ``text`` is not one."""
    match = _PAYLOAD.match(text.strip())
    if match is None or match.group(1) not in TEST_PAYLOADS:
        return None
    name = match.group(1)
    arguments = [a.strip().strip("'\"") for a in (match.group(2) or "").split(",") if a.strip()]
    if name == "Clarify":
        return [Clarify(tuple(arguments))]
    if name == "CannotHandle":
        return [CannotHandle(arguments[0] if arguments else None)]
    if name == "InternalError":
        return [InternalError(arguments[0] if arguments else "rasa_internal_error_default")]
    simple: dict[str, Command] = {
        "SkipQuestion": SkipQuestion(),
        "HumanHandoff": HumanHandoff(),
        "RepeatBotMessages": RepeatBotMessages(),
        "ChitChat": ChitChat(),
        "KnowledgeAnswer": KnowledgeAnswer(),
        "SessionStart": SessionStart(),
    }
    return [simple[name]]


test_commands.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


class TestCommandSource:
    """Test-only payloads first, then ``inner`` (the default source unless given)."""

    __test__ = False  # not a pytest class, despite the name

    def __init__(self, inner: CommandSource | None = None) -> None:
        self.inner: CommandSource = inner or DefaultCommandSource()
        fallback = getattr(self.inner, "fallback_message", None)
        if fallback is not None:  # what the engine says when nothing was understood
            self.fallback_message = fallback

    async def parse(
        self, text: str, state: ConversationState, project: FlowProject
    ) -> list[Command]:
        commands = test_commands(text)
        if commands is not None:
            return commands
        return await self.inner.parse(text, state, project)
