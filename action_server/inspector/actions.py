"""The Actions view's logic: every action with its form fields, and one run with its context.

A run is the same action call that ``action-server call`` builds (``build_call``): arguments in
the latest message's metadata, slots in the tracker, optionally the stored tracker of a real
conversation as the context. It runs where the webhook would run it (the executor), or, for a
response or an action only the flow engine knows, where the flow engine would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from action_server.client.action_client import (
    ActionClientError,
    ActionNotFoundError,
    ActionProtocolError,
    ActionRejectedError,
    ActionServerUnreachable,
    ActionTimeoutError,
)
from action_server.dialogue.action_results import message_from_dispatcher
from action_server.dialogue.responses import render_response
from action_server.dialogue.stack import DialogueStack
from action_server.dialogue.turn import Turn
from action_server.executor.arguments import (
    ArgumentError,
    build_call,
    coerce_cli_value,
    describe_action,
    parse_argument_specs,
)
from action_server.flows.model import Domain
from action_server.inspector import api_capture
from action_server.kinds.api_actions import ApiAction
from action_server.kinds.templating import placeholder_names
from action_server.stores.store import ConversationState

__all__ = [
    "ErrorMapper",
    "RunRequest",
    "RunRequestError",
    "describe_all",
    "run_action",
    "slot_values",
]

logger = logging.getLogger(__name__)

# Maps an exception of ``ActionExecutor.run`` to the (status, body) the webhook answers with;
# the server passes its own mapping in, so the inspector shows errors exactly as the API does.
ErrorMapper = Callable[[Exception, str, Any], tuple[int, dict[str, Any]]]

# Run by the flow engine itself, not by an action server (see FlowEngine._run_action).
ENGINE_ACTIONS = {
    "action_listen": "waits for the next user message",
    "action_restart": "resets slots and the dialogue stack",
}


class RunRequestError(ValueError):
    """The run request itself is bad (a field of the JSON body); answered with HTTP 400."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class RunRequest:
    """What the Actions form sends: argument and slot values, and an optional conversation."""

    args: dict[str, Any]
    slots: dict[str, Any]
    conversation_id: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> RunRequest:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise RunRequestError("the body must be a JSON object")
        for key in ("args", "slots"):
            if not isinstance(body.get(key) or {}, dict):
                raise RunRequestError(f"'{key}' must be an object", key)
        conversation = body.get("conversation_id") or None
        if conversation is not None and not isinstance(conversation, str):
            raise RunRequestError("'conversation_id' must be a string", "conversation_id")
        return cls(dict(body.get("args") or {}), dict(body.get("slots") or {}), conversation)


def describe_all(executor: Any, engine: Any | None) -> list[dict[str, Any]]:
    """Every action the server can run: executor actions, then responses and engine built-ins.

    Each entry is ``describe_action``'s (name, kind, description, arguments); API actions also
    carry ``request`` (method and URL template), ``variables`` (the ``$names`` it uses) and
    ``source`` (file:line of its YAML).
    """
    entries = []
    for action in executor.action_objects.values():
        entry = describe_action(action)
        if isinstance(action, ApiAction):
            config = action.config
            entry["request"] = {"method": config.method, "url": config.base_url + config.path}
            entry["source"] = config.source
            entry["variables"] = placeholder_names(
                [config.path, config.headers, config.query, config.body]
            )
        entries.append(entry)
    known = {entry["name"] for entry in entries}
    if engine is not None:
        domain = engine.project.domain
        for name in sorted(domain.responses):
            if name not in known:
                entries.append(_builtin(name, "response", "a response from the domain"))
        remote = sorted(set(engine.registered_actions) - known - set(domain.responses))
        for name in remote:
            entries.append(_builtin(name, "remote", "run by the flow engine's action endpoint"))
    for name, description in ENGINE_ACTIONS.items():
        if name not in known:
            entries.append(_builtin(name, "default", f"built in: {description}"))
    return entries


def _builtin(name: str, kind: str, description: str) -> dict[str, Any]:
    return {"name": name, "kind": kind, "description": description, "arguments": []}


def _typed(raw: Mapping[str, Any], specs: Mapping[str, Any], action: str) -> dict[str, Any]:
    """Form values: strings are coerced by the declared type (as ``call --arg``), "" = unset."""
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None or value == "":
            continue
        if isinstance(value, str):
            try:
                value = coerce_cli_value(value, specs.get(name))
            except ArgumentError as exc:
                raise RunRequestError(f"action '{action}': {exc.message}", name) from None
        values[name] = value
    return values


def slot_values(raw: Mapping[str, Any], domain: Domain) -> dict[str, Any]:
    """Form slot values: by the domain's slot type when it has the slot (a text slot keeps
    ``"0044"``), else read like ``call --slot`` (numbers, true/false, JSON)."""
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None or value == "":
            continue
        definition = domain.slots.get(name)
        try:
            if definition is not None:
                values[name] = definition.coerce(value)
            else:
                values[name] = coerce_cli_value(value) if isinstance(value, str) else value
        except ValueError as exc:
            raise RunRequestError(str(exc), name) from None
    return values


async def _context_tracker(request: RunRequest, engine: Any | None) -> dict[str, Any]:
    if request.conversation_id is None:
        return {"sender_id": "inspector", "events": [], "slots": {}, "latest_message": {}}
    if engine is None:
        raise RunRequestError(
            "a conversation as context needs flows: start the server with --flows",
            "conversation_id",
        )
    tracker: dict[str, Any] = await engine.tracker(request.conversation_id)
    return tracker


async def run_action(
    name: str,
    request: RunRequest,
    executor: Any,
    engine: Any | None,
    map_error: ErrorMapper,
) -> dict[str, Any]:
    """Run ``name`` once; the report the Actions view shows (see docs/inspector.md)."""
    action = executor.action_objects.get(name)
    description = describe_action(action) if action is not None else None
    specs = {
        spec.name: spec
        for spec in parse_argument_specs(description["arguments"] if description else [])
    }
    args = _typed(request.args, specs, name)
    domain_model: Domain = engine.project.domain if engine is not None else Domain()
    slots = slot_values(request.slots, domain_model)
    tracker = await _context_tracker(request, engine)
    tracker["slots"] = {**(tracker.get("slots") or {}), **slots}
    domain = engine.project.domain.to_dict() if engine is not None else {}
    kind = description["kind"] if description else _kind_without_action(name, engine)
    call = build_call(name, tracker, args, domain, args_as_slots=kind == "class")
    report: dict[str, Any] = {
        "action": name,
        "kind": kind,
        "conversation_id": request.conversation_id,
        "args": args,
        "status": 200,
        "result": None,
        "error": None,
        "messages": [],
        "api_calls": [],
    }
    started = perf_counter()
    try:
        if action is not None:
            api_capture.watch(action)
            with api_capture.capture() as exchanges:
                report["api_calls"] = exchanges
                result = await executor.execute(call)
        elif kind == "response":
            result = _render(name, domain_model, call["tracker"]["slots"])
        elif kind == "remote" and engine is not None:
            try:
                result = await engine.action_client.run(call)
            except ActionClientError as exc:
                report["status"], report["error"] = _remote_error(exc)
                result = None
        elif kind == "default":
            result = {"events": _engine_action_events(name), "responses": []}
        else:
            result = None
            report["status"] = 404
            report["error"] = {
                "error": f"No registered action found for name '{name}'.",
                "action_name": name,
            }
    except Exception as exc:  # mapped exactly as the webhook maps it
        report["status"], report["error"] = map_error(exc, name, call["sender_id"])
        result = None
    report["duration_ms"] = round((perf_counter() - started) * 1000, 3)
    if result is not None:
        report["result"] = result
        report["messages"] = _messages(name, result, domain_model, call["tracker"]["slots"])
    return report


def _remote_error(exc: ActionClientError) -> tuple[int, dict[str, Any]]:
    """The action endpoint's failure as the flow engine saw it (the remote server's message)."""
    status = 500
    if isinstance(exc, ActionNotFoundError):
        status = 404
    elif isinstance(exc, ActionRejectedError):
        status = 400
    elif isinstance(exc, (ActionServerUnreachable, ActionTimeoutError)):
        status = 502 if isinstance(exc, ActionServerUnreachable) else 504
    elif isinstance(exc, ActionProtocolError) and exc.status:
        status = exc.status
    return status, {"error": exc.message, "action_name": exc.action_name}


def _kind_without_action(name: str, engine: Any | None) -> str:
    if engine is not None:
        if name in engine.project.domain.responses:
            return "response"
        if name in engine.registered_actions:
            return "remote"
    return "default" if name in ENGINE_ACTIONS else "unknown"


def _engine_action_events(name: str) -> list[dict[str, Any]]:
    return [{"event": "restart"}] if name == "action_restart" else []


def _render(name: str, domain: Domain, slots: Mapping[str, Any]) -> dict[str, Any]:
    message = render_response(name, domain, slots)
    if message is None:
        return {"events": [], "responses": []}
    return {"events": [], "responses": [message]}


def _messages(
    name: str, result: Mapping[str, Any], domain: Domain, slots: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The bot messages a user would see: ``bot`` events and dispatcher responses, rendered."""
    messages: list[dict[str, Any]] = []
    for event in result.get("events") or []:
        if isinstance(event, dict) and event.get("event") == "bot":
            data = event.get("data") or {}
            message = {"text": event.get("text"), **{k: v for k, v in data.items() if v}}
            messages.append({k: v for k, v in message.items() if v is not None})
    turn = Turn(
        state=ConversationState(conversation_id="inspector", slots=dict(slots)),
        stack=DialogueStack(),
        first_event=0,
    )
    for response in result.get("responses") or []:
        rendered = message_from_dispatcher(turn, domain, None, name, response)
        if rendered:
            messages.append(rendered)
    return messages
