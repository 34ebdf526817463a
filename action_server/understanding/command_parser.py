"""The command language an LLM answers in (Rasa's DSL v2, v3's ``search and reply``, and the
older v1 call syntax such as ``StartFlow(x)`` / ``SetSlot(x, v)``).

Pure functions: the LLM's answer text in, commands out. One command per line, each anchored at
the line start after any non-word characters or digits (list markers such as ``1.`` or ``-``);
quotes around names and values are stripped. Only the LLM's answer is parsed, never the user's
text, so a user cannot inject commands.

After parsing, the commands are checked against the project as Rasa does: StartFlow of an
unknown or guarded-off flow is dropped; SetSlot of an unknown slot, of a slot whose mappings
do not let the LLM fill it, or of a slot no active or starting flow collects, is dropped; slot values are coerced to the slot type; a
disambiguation with one valid option starts that flow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
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
    "open_slots",
    "parse_command_lines",
    "startable_flow_ids",
    "top_frames",
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


# Rasa's older syntax (DSL v1, ``SingleStepLLMCommandGenerator``'s prompt): recorded answers
# and fine-tuned models of such projects keep working.
@_rule(rf"StartFlow\({_Q}?{_NAME}{_Q}?\){_END}")
def _start_v1(match: re.Match[str]) -> Command:
    return StartFlow(match.group(1))


@_rule(rf"SetSlot\({_Q}?{_NAME}{_Q}?, ?(.*)\){_END}")
def _set_v1(match: re.Match[str]) -> Command:
    value = _clean(match.group(2))
    return SetSlot(
        match.group(1), None if not value or value in NONE_VALUES else value, False, "LLM"
    )


@_rule(r"Clarify\(([^)]*)\)" + _END)
def _clarify_v1(match: re.Match[str]) -> Command:
    options = [_clean(o) for o in match.group(1).replace(",", " ").split()]
    return Clarify(tuple(sorted(o for o in options if o)))


_V1_SIMPLE: dict[str, Callable[[], Command]] = {
    "CancelFlow": CancelFlow,
    "ChitChat": ChitChat,
    "SearchAndReply": KnowledgeAnswer,
    "KnowledgeAnswer": KnowledgeAnswer,
    "HumanHandoff": HumanHandoff,
    "SkipQuestion": SkipQuestion,
    "RepeatLastBotMessages": RepeatBotMessages,
}


@_rule(rf"({'|'.join(_V1_SIMPLE)}|CannotHandle)\(\){_END}")
def _simple_v1(match: re.Match[str]) -> Command | None:
    build = _V1_SIMPLE.get(match.group(1))
    return build() if build else None


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


def top_frames(
    stack: Sequence[Mapping[str, Any]],
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """(top user flow frame ignoring call frames, top user flow frame), as Rasa picks them."""
    calling = called = None
    for frame in reversed(stack):
        if str(frame.get("flow_id", "")).startswith("pattern_"):
            continue
        if called is None:
            called = frame
        if frame.get("frame_type") != "call":
            calling = frame
            break
    return calling, called


def _collects(project: FlowProject, flow_id: str, seen: set[str]) -> set[str]:
    """Slots a flow (and the flows it calls) collects without ``ask_before_filling``."""
    flow = project.flows.get(flow_id)
    if flow is None or flow_id in seen:
        return set()
    seen.add(flow_id)
    names = set()
    for step in flow.steps.values():
        if step.collect and not step.ask_before_filling:
            names.add(step.collect)
        if step.call:
            names |= _collects(project, step.call, seen)
    return names


def open_slots(
    project: FlowProject, stack: Sequence[Mapping[str, Any]], started: Sequence[str]
) -> set[str]:
    """Slots an LLM may set now (Rasa): those of the active flow, the one being asked, and
    those of flows the same message starts."""
    calling, called = top_frames(stack)
    names: set[str] = set()
    if calling is not None:
        names |= _collects(project, str(calling.get("flow_id")), set())
    if called is not None and called.get("state") == "asked":
        flow = project.flows.get(str(called.get("flow_id")))
        step = flow.steps.get(str(called.get("step_id"))) if flow else None
        if step is not None and step.collect:
            names.add(step.collect)
    for flow_id in started:
        names |= _collects(project, flow_id, set())
    return names


def check_commands(
    commands: list[Command],
    project: FlowProject,
    slots: Mapping[str, Any],
    stack: Sequence[Mapping[str, Any]] = (),
    exempt_slots: frozenset[str] = frozenset({"route_session_to_calm"}),
) -> list[Command]:
    """Drop what the project does not allow, coerce values, resolve single-option clarifies.

    A SetSlot from the LLM is kept only for a slot the LLM may fill (its mappings) that the
    active flow, the question being asked or a flow started by the same answer collects.
    """
    startable = set(startable_flow_ids(project, slots))
    active_flows = {str(frame.get("flow_id")) for frame in stack}
    resolved: list[Command] = []
    for command in commands:
        if isinstance(command, StartFlow):
            if command.flow_id in startable:
                resolved.append(command)
        elif isinstance(command, SetSlot) and command.name == "flow_name":
            if command.value in startable:
                resolved.append(StartFlow(str(command.value)))  # a common LLM slip
        elif isinstance(command, Clarify):
            valid = [
                o
                for o in dict.fromkeys(command.options)
                if o in startable and o not in active_flows
            ]
            if len(valid) == 1:
                resolved.append(StartFlow(valid[0]))
            elif len(valid) > 1:
                resolved.append(Clarify(tuple(valid)))
        else:
            resolved.append(command)
    started = [c.flow_id for c in resolved if isinstance(c, StartFlow)]
    allowed = open_slots(project, stack, started) | exempt_slots
    checked: list[Command] = []
    for command in resolved:
        if isinstance(command, SetSlot):
            slot = project.domain.slots.get(command.name)
            if slot is None:
                continue
            if command.extractor == "LLM" and (
                not llm_may_fill(slot) or command.name not in allowed
            ):
                continue
            command = SetSlot(
                command.name, _coerce(slot, command.value), command.is_answer, command.extractor
            )
        checked.append(command)
    return checked
