"""The command language an LLM answers in (Rasa's DSL v2, plus v3's ``search and reply``).

Pure functions: the LLM's answer text in, commands out. One command per line, each anchored at
the line start after any non-word characters or digits (list markers such as ``1.`` or ``-``);
quotes around names and values are stripped. Only the LLM's answer is parsed, never the user's
text, so a user cannot inject commands.

After parsing, the commands are checked against the project as Rasa does: StartFlow of an
unknown or guarded-off flow is dropped; SetSlot of an unknown slot, or of a slot whose mappings
do not let the LLM fill it, is dropped; slot values are coerced to the slot type; a
disambiguation with one valid option starts that flow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from action_server.flows.model import FlowProject, SlotDefinition
from action_server.understanding.commands import (
    CancelFlow,
    ChitChat,
    Clarify,
    Command,
    HumanHandoff,
    KnowledgeAnswer,
    RepeatBotMessages,
    SetSlot,
    SkipQuestion,
    StartFlow,
)

__all__ = [
    "NONE_VALUES",
    "check_commands",
    "llm_may_fill",
    "parse_command_lines",
    "startable_flow_ids",
]

NONE_VALUES = frozenset({"[missing information]", "[missing]", "None", "undefined", "null"})
_LEAD = r"^[\W\d_]*?"  # list markers, bullets, numbering, backticks before the command
_Q = "['\"`]"
_NAME = r"([A-Za-z_][A-Za-z0-9_\-]*)"
_END = r"[\s'\"`.]*$"

_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Command | None]]] = []


def _rule(pattern: str) -> Callable[[Callable[[re.Match[str]], Command | None]], Any]:
    def register(build: Callable[[re.Match[str]], Command | None]) -> Any:
        _PATTERNS.append((re.compile(_LEAD + pattern), build))
        return build

    return register


def _clean(value: str) -> str:
    return value.strip("'\"` ")


@_rule(rf"start flow {_Q}?{_NAME}{_Q}*{_END}")
def _start(match: re.Match[str]) -> Command:
    return StartFlow(match.group(1))


@_rule(rf"set slot {_Q}?{_NAME}{_Q}? (.+?){_END}")
def _set(match: re.Match[str]) -> Command:
    value = _clean(match.group(2))
    return SetSlot(
        match.group(1), None if not value or value in NONE_VALUES else value, False, "LLM"
    )


@_rule(rf"cancel flow{_END}")
def _cancel(_: re.Match[str]) -> Command:
    return CancelFlow()


@_rule(r"disambiguate flows(.*)$")
def _clarify(match: re.Match[str]) -> Command:
    options = [_clean(o) for o in match.group(1).replace(",", " ").split()]
    return Clarify(tuple(sorted(o for o in options if o)))


@_rule(rf"(?:provide info|search and reply){_END}")
def _knowledge(_: re.Match[str]) -> Command:
    return KnowledgeAnswer()


@_rule(rf"offtopic reply{_END}")
def _chitchat(_: re.Match[str]) -> Command:
    return ChitChat()


@_rule(rf"hand over{_END}")
def _handoff(_: re.Match[str]) -> Command:
    return HumanHandoff()


@_rule(rf"repeat message{_END}")
def _repeat(_: re.Match[str]) -> Command:
    return RepeatBotMessages()


@_rule(rf"skip question{_END}")
def _skip(_: re.Match[str]) -> Command:
    return SkipQuestion()


@_rule(rf"cannot handle{_END}")
def _cannot(_: re.Match[str]) -> Command | None:
    return None  # the same as nothing parsable: the caller answers CannotHandle


def parse_command_lines(answer: str) -> list[Command]:
    """Every command the answer's lines spell, in order; unknown lines are skipped."""
    commands: list[Command] = []
    for line in answer.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        for pattern, build in _PATTERNS:
            match = pattern.match(line)
            if match:
                command = build(match)
                if command is not None:
                    commands.append(command)
                break
    return commands


# --- checks against the project ------------------------------------------------------------


def startable_flow_ids(project: FlowProject, slots: Mapping[str, Any]) -> list[str]:
    """Flows a user may start now: not a pattern, and the guard (``if:``) holds."""
    result = []
    for flow in project.flows.values():
        if flow.id.startswith("pattern_"):
            continue
        if flow.guard is not None and not flow.guard.evaluate(slots, {}):
            continue
        result.append(flow.id)
    return result


def llm_may_fill(slot: SlotDefinition) -> bool:
    """Rasa CALM: a slot without mappings, or with a ``from_llm`` mapping, is the LLM's to fill."""
    if not slot.mappings:
        return True
    return any(isinstance(m, dict) and m.get("type") in ("from_llm", None) for m in slot.mappings)


def _coerce(slot: SlotDefinition, value: Any) -> Any:
    if value is None:
        return None
    try:
        return slot.coerce(value)
    except ValueError:
        return value  # the engine refuses it with the slot's own message


def check_commands(
    commands: list[Command],
    project: FlowProject,
    slots: Mapping[str, Any],
    active_flows: frozenset[str] = frozenset(),
) -> list[Command]:
    """Drop what the project does not allow, coerce values, resolve single-option clarifies."""
    startable = set(startable_flow_ids(project, slots))
    checked: list[Command] = []
    for command in commands:
        if isinstance(command, StartFlow):
            if command.flow_id in startable:
                checked.append(command)
        elif isinstance(command, SetSlot):
            if command.name == "flow_name" and command.value in startable:
                checked.append(StartFlow(str(command.value)))  # a common LLM slip
                continue
            slot = project.domain.slots.get(command.name)
            if slot is None or (command.extractor == "LLM" and not llm_may_fill(slot)):
                continue
            checked.append(
                SetSlot(
                    command.name, _coerce(slot, command.value), command.is_answer, command.extractor
                )
            )
        elif isinstance(command, Clarify):
            valid = [
                o
                for o in dict.fromkeys(command.options)
                if o in startable and o not in active_flows
            ]
            if len(valid) == 1:
                checked.append(StartFlow(valid[0]))
            elif len(valid) > 1:
                checked.append(Clarify(tuple(valid)))
        else:
            checked.append(command)
    return checked
