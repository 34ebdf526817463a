"""Slash payloads and the default command source (button payloads, intents, answers), no NLU.

A *command source* turns one user message into commands (``commands.py``) the engine applies
before advancing the dialogue stack; the default source understands, without any NLU:

- ``/SetSlots(slot=value, other="quoted, value")`` - Rasa's button payload for slots;
- ``/StartFlow(flow_id)`` - start a flow (subject to its guard);
- ``/CancelFlow`` (or ``/CancelFlow()``) - cancel the running flow. Plain words such as
  "cancel" are deliberately *not* commands: without NLU they would hijack answers like a
  restaurant called "Stop";
- ``/restart`` - forget the conversation and start over;
- ``/intent_name`` or ``/intent_name{"entity": "value"}`` - starts the flows whose
  ``nlu_trigger`` names the intent; entities naming domain slots become slot values;
- any other text answers the collect step that is waiting; with nothing to answer it yields
  ``CannotHandle`` and the engine says it did not understand.
"""

from __future__ import annotations

import re

from action_server.flows.model import FlowProject
from action_server.interfaces.caller_input import JsonInputError, decode_json, quote_input
from action_server.stores.store import ConversationState
from action_server.understanding.commands import (
    CancelFlow,
    CannotHandle,
    Command,
    Restart,
    SetSlot,
    StartFlow,
    collecting_slot,
)

__all__ = ["DefaultCommandSource", "PayloadError", "parse_payload", "payload_commands"]


# Payloads are parsed by hand in one left-to-right pass: a regular expression with two `\s*`
# around an optional group backtracks quadratically on "/greet" + 40,000 spaces + "x", and the
# parser runs on the event loop. The only patterns left are a single character-class run,
# matched from a fixed position, which is linear.
_COMMANDS = ("SetSlots", "StartFlow", "CancelFlow")
_NAME_RUN = re.compile(r"[A-Za-z_][\w\-.]*")
_SEPARATORS = re.compile(r"[,'\"]")


class PayloadError(ValueError):
    """A ``/...`` payload that does not parse; the message quotes the payload."""


def _split_arguments(text: str, payload: str) -> list[str]:
    """Split on commas outside quotes; quotes are kept for ``_unquote``.

    Only commas and quotes are visited (found by a one-character pattern), so the cost is
    one scan of ``text`` however long the runs between them are.
    """
    parts: list[str] = []
    start = 0
    quote: str | None = None
    for found in _SEPARATORS.finditer(text):
        char = found.group()
        if quote:
            if char == quote:
                quote = None
        elif char == ",":
            parts.append(text[start : found.start()])
            start = found.end()
        else:
            quote = char
    if quote:
        raise PayloadError(f"unterminated {quote} quote in {quote_input(payload)}")
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _parse_set_slots(arguments: str, payload: str) -> list[Command]:
    commands: list[Command] = []
    for part in _split_arguments(arguments, payload):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not _is_name(name):
            raise PayloadError(
                f"expected slot=value, got {quote_input(part)} in {quote_input(payload)}"
            )
        commands.append(SetSlot(name, _unquote(value.strip())))
    if not commands:
        raise PayloadError(f"no slot=value pairs in {quote_input(payload)}")
    return commands


def _parse_start_flow(arguments: str, payload: str) -> list[Command]:
    parts = _split_arguments(arguments, payload)
    if len(parts) != 1:
        raise PayloadError(f"expected one flow id in {quote_input(payload)}")
    name, sep, value = parts[0].partition("=")
    flow_id = _unquote(value.strip() if sep else name.strip())
    if not flow_id:
        raise PayloadError(f"expected one flow id in {quote_input(payload)}")
    return [StartFlow(flow_id)]


def _is_name(text: str) -> bool:
    found = _NAME_RUN.match(text)
    return found is not None and found.end() == len(text)


def parse_payload(text: str, project: FlowProject) -> list[Command] | None:
    """Commands for a ``/...`` payload; None when ``text`` is not a payload at all.

    Raises PayloadError for a payload that looks like a command but does not parse. Runs in
    time linear in ``len(text)`` (see ``_NAME_RUN``).
    """
    text = text.strip()
    if not text.startswith("/"):
        return None
    found = _NAME_RUN.match(text, 1)
    if found is None:
        return None
    name = found.group()
    # `text` is stripped, so a closing bracket can only be its last character.
    rest = text[found.end() :].lstrip()
    if name in _COMMANDS:
        if rest and not rest.startswith("("):
            return None  # "/SetSlots now" is text, as with any unknown word after a name
        if rest and not rest.endswith(")"):
            raise PayloadError(f"missing closing ')' in {quote_input(text)}")
        arguments = rest[1:-1]
        if name == "CancelFlow":
            if arguments.strip():
                raise PayloadError(f"/CancelFlow takes no arguments, got {quote_input(text)}")
            return [CancelFlow()]
        if name == "SetSlots":
            return _parse_set_slots(arguments, text)
        return _parse_start_flow(arguments, text)
    if text == "/restart":
        return [Restart()]
    if rest and not (rest.startswith("{") and rest.endswith("}")):
        return None
    return _intent_commands(name, rest or None, text, project)


def _intent_commands(
    intent: str, entities_json: str | None, payload: str, project: FlowProject
) -> list[Command]:
    commands: list[Command] = []
    if entities_json:
        try:
            entities = decode_json(entities_json)
        except JsonInputError as exc:
            raise PayloadError(
                f"entities in {quote_input(payload)} are not valid JSON: {exc}"
            ) from None
        if not isinstance(entities, dict):
            raise PayloadError(f"entities in {quote_input(payload)} must be a JSON object")
        commands.extend(
            SetSlot(name, value) for name, value in entities.items() if name in project.domain.slots
        )
    flows = project.flows_triggered_by(intent)
    if flows:
        commands.append(StartFlow(flows[0].id))
    elif not commands:
        commands.append(CannotHandle(f"no flow is triggered by intent '{intent}'"))
    return commands


def payload_commands(text: str, project: FlowProject) -> list[Command] | None:
    """The commands of a slash payload (a malformed one is CannotHandle naming the problem);
    None when ``text`` is not a payload, for the next understanding step."""
    try:
        return parse_payload(text, project)
    except PayloadError as exc:
        return [CannotHandle(str(exc))]


class DefaultCommandSource:
    """Payloads and plain answers, no NLU (see the module docstring)."""

    async def parse(
        self, text: str, state: ConversationState, project: FlowProject
    ) -> list[Command]:
        commands = payload_commands(text, project)
        if commands is not None:
            return commands
        slot = collecting_slot(state, project)
        if slot is not None:
            return [SetSlot(slot, text.strip(), is_answer=True)]
        return [CannotHandle()]
