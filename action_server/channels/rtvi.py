"""RTVI actions over WebSocket (``/rtvi?conversation_id=...``) and HTTP (``POST /rtvi/action``).

Services offered to ``describe-actions`` / ``action``:

- ``actions``: every registered action, with its declared typed arguments; the result is the
  action's ``{"events", "responses"}``. The call goes through the executor exactly like a Rasa
  webhook call (arguments in the latest message's ``metadata["args"]``, and as slots for class
  actions), against the conversation's tracker; its events are *not* applied to the
  conversation - the client gets them and decides.
- ``conversation`` / ``send_text``: a user message into the flow engine; result: bot messages.
- ``tts`` / ``say``: adds a bot message to the conversation; result: true.

``client-message`` ``{t, d}`` runs the action named by ``t`` (``name`` for our service,
``service:action`` for any) with ``d`` as its arguments object, answered by ``server-response``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError
from sanic import Blueprint, HTTPResponse, Request

from action_server.channels import rtvi_models as wire
from action_server.channels.rest import json_response
from action_server.constants import RASA_PROTOCOL_VERSION
from action_server.exceptions import ActionFailed, ActionTimeout, InvalidActionCall
from action_server.executor.arguments import (
    ArgumentError,
    ArgumentSpec,
    arguments_of,
    build_call,
    validate_arguments,
)
from action_server.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)
from action_server.stores.locks import ConversationLockTimeout
from action_server.stores.store import ConversationState, ConversationStoreError

if TYPE_CHECKING:
    from action_server.dialogue.engine import FlowEngine
    from action_server.executor import ActionExecutor

__all__ = ["ACTIONS_SERVICE", "RtviDispatcher", "rtvi_blueprint"]

logger = logging.getLogger(__name__)

ACTIONS_SERVICE = "actions"
INPUT_CHANNEL = "rtvi"
_ACTION_ERRORS = (
    ActionNotFoundException,
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionTimeout,
    ActionFailed,
    InvalidActionCall,
)


class RtviActionError(Exception):
    """An action request that cannot be served; the message goes back in ``error-response``."""


Handler = Callable[[str, dict[str, Any]], Awaitable[Any]]


@dataclass
class _BuiltinAction:
    service: str
    action: str
    arguments: list[ArgumentSpec]
    result: str
    handler: Handler
    description: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.description = {
            "service": self.service,
            "action": self.action,
            "arguments": [{"name": a.name, "type": a.type} for a in self.arguments],
            "result": self.result,
        }


class RtviDispatcher:
    """Answers decoded RTVI messages for one conversation; shared by WebSocket and HTTP."""

    def __init__(self, executor: ActionExecutor, engine: FlowEngine | None = None) -> None:
        self.executor = executor
        self.engine = engine
        self._domain = engine.project.domain.to_dict() if engine is not None else {}
        text = [ArgumentSpec(name="text", type="string")]
        self._builtins: dict[str, _BuiltinAction] = {}
        if engine is not None:
            for builtin in (
                _BuiltinAction("conversation", "send_text", text, "array", self._send_text),
                _BuiltinAction("tts", "say", text, "bool", self._say),
            ):
                self._builtins[f"{builtin.service}:{builtin.action}"] = builtin

    # -- describe

    def describe(self) -> list[dict[str, Any]]:
        """``actions-available`` entries: our actions, then the built-in services."""
        described = []
        for name, action in self.executor.actions.items():
            try:
                specs = arguments_of(action)
            except ArgumentError as exc:
                logger.warning("RTVI: action '%s' has invalid arguments: %s", name, exc)
                continue
            described.append(
                {
                    "service": ACTIONS_SERVICE,
                    "action": name,
                    "arguments": [{"name": s.name, "type": s.type} for s in specs],
                    "result": "object",
                }
            )
        described.extend(builtin.description for builtin in self._builtins.values())
        return described

    # -- messages

    async def handle(self, data: Any, conversation_id: str) -> list[dict[str, Any]]:
        """The response messages (zero or more) to one decoded client message."""
        try:
            message = _parse(data)
        except wire.RtviMessageError as exc:
            return [wire.error_message(str(exc))]
        kind, message_id = message.type, message.id
        try:
            if kind == "describe-actions":
                return [wire.actions_available(message_id, self.describe())]
            if kind == "action":
                run = _model(wire.ActionRun, message.data, "data")
                result = await self.run(run.service, run.action, run.values(), conversation_id)
                return [wire.action_response(message_id, result)]
            if kind == "client-message":
                client = _model(wire.ClientMessage, message.data, "data")
                service, name = _split_action(client.t)
                values = _arguments_object(client.d)
                result = await self.run(service, name, values, conversation_id)
                return [wire.server_response(message_id, client.t, result)]
            if kind == "client-ready":
                return [wire.bot_ready(message_id, {"library": "action_server"})]
            return [wire.error_response(message_id, f"Unsupported type {kind}")]
        except RtviActionError as exc:
            return [wire.error_response(message_id, str(exc))]

    async def run(
        self, service: str, action: str, values: dict[str, Any], conversation_id: str
    ) -> Any:
        """Run one action of any service; every failure is an ``RtviActionError``."""
        builtin = self._builtins.get(f"{service}:{action}")
        if builtin is not None:
            args = _validate(builtin.arguments, values, f"{service}:{action}")
            return await self._guard(builtin.handler(conversation_id, args), action)
        if service != ACTIONS_SERVICE or action not in self.executor.actions:
            raise RtviActionError(f"Action {service}:{action} not registered")
        registered = self.executor.actions[action]
        try:
            specs = arguments_of(registered)
        except ArgumentError as exc:
            raise RtviActionError(f"action '{action}' declares invalid arguments: {exc}") from None
        args = _validate(specs, values, f"{service}:{action}")
        kind = getattr(registered, "kind", "class")
        return await self._guard(self._run_action(action, args, kind, conversation_id), action)

    async def _guard(self, work: Awaitable[Any], action: str) -> Any:
        try:
            return await work
        except RtviActionError:
            raise
        except _ACTION_ERRORS as exc:
            raise RtviActionError(str(exc)) from None
        except ArgumentError as exc:
            raise RtviActionError(f"action '{action}': {exc.message}") from None
        except (ConversationLockTimeout, ConversationStoreError) as exc:
            raise RtviActionError(str(exc)) from None
        except Exception:
            logger.exception("RTVI: action '%s' failed", action)
            raise RtviActionError(
                f"An exception occurred while running action '{action}'."
            ) from None

    async def _run_action(
        self, name: str, args: dict[str, Any], kind: str, conversation_id: str
    ) -> dict[str, Any]:
        tracker = await self._tracker(conversation_id)
        call = build_call(
            name,
            tracker,
            args,
            self._domain,
            version=RASA_PROTOCOL_VERSION,
            args_as_slots=kind == "class",  # class actions read their arguments as slots
        )
        return await self.executor.run(call)

    async def _tracker(self, conversation_id: str) -> dict[str, Any]:
        if self.engine is not None:
            return await self.engine.tracker(conversation_id)
        return {
            "sender_id": conversation_id,
            "slots": {},
            "latest_message": {},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        }

    # -- built-in services

    async def _send_text(self, conversation_id: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        assert self.engine is not None
        result = await self.engine.handle(
            conversation_id, args["text"], {"input_channel": INPUT_CHANNEL}
        )
        return result.messages

    async def _say(self, conversation_id: str, args: dict[str, Any]) -> bool:
        """Record a bot message as if the assistant had said it (e.g. a client-side TTS line)."""
        from action_server.dialogue import flow_events

        assert self.engine is not None
        store = self.engine.store
        async with store.lock(conversation_id):
            state = await store.load(conversation_id)
            if state is None:
                state = ConversationState(
                    conversation_id=conversation_id,
                    slots=self.engine.project.domain.initial_slots(),
                )
            state.events.append(flow_events.bot_uttered({"text": args["text"]}))
            await store.save(state)
        return True


def _parse(data: Any) -> wire.RtviMessage:
    if not isinstance(data, Mapping):
        raise wire.RtviMessageError("an RTVI message must be a JSON object")
    if data.get("label") != wire.LABEL:
        raise wire.RtviMessageError(
            f"not an RTVI message: 'label' must be '{wire.LABEL}', got {data.get('label')!r}"
        )
    try:
        return wire.RtviMessage.model_validate(data)
    except ValidationError as exc:
        raise wire.RtviMessageError(
            f"invalid RTVI message: {wire.format_validation_error(exc, '')}"
        ) from None


def _model(model: type[Any], data: Any, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RtviActionError(
            f"Invalid message: {wire.format_validation_error(exc, where)}"
        ) from None


def _split_action(t: str) -> tuple[str, str]:
    service, sep, action = t.partition(":")
    return (service, action) if sep else (ACTIONS_SERVICE, t)


def _arguments_object(d: Any) -> dict[str, Any]:
    if d is None:
        return {}
    if not isinstance(d, dict):
        raise RtviActionError(f"Invalid message: data.d must be an object of arguments, got {d!r}")
    return d


def _validate(specs: list[ArgumentSpec], values: dict[str, Any], action: str) -> dict[str, Any]:
    try:
        return validate_arguments(specs, values)
    except ArgumentError as exc:
        raise RtviActionError(f"action '{action}': {exc.message}") from None


# --- HTTP and WebSocket --------------------------------------------------------------------------


def rtvi_blueprint(dispatcher: RtviDispatcher) -> Blueprint:
    """``/rtvi`` (WebSocket) and ``POST /rtvi/action`` (HTTP fallback) around ``dispatcher``."""
    blueprint = Blueprint("rtvi_channel", url_prefix="/rtvi")

    async def websocket(request: Request, ws: Any) -> None:
        # Without an id every socket is a conversation of its own.
        conversation_id = request.args.get("conversation_id") or str(uuid.uuid4())
        while True:
            raw = await ws.recv()
            if raw is None:
                return
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                await ws.send(_text(wire.error_message(f"message is not valid JSON: {exc}")))
                continue
            for response in await _answer(dispatcher, data, conversation_id):
                await ws.send(_text(response))

    async def http_action(request: Request) -> HTTPResponse:
        try:
            body = orjson.loads(request.body or b"")
        except orjson.JSONDecodeError as exc:
            return json_response({"error": f"the body is not valid JSON: {exc}"}, 400)
        if not isinstance(body, dict):
            return json_response({"error": "the body must be a JSON object with 'actions'"}, 400)
        actions = body.get("actions")
        if not isinstance(actions, list):
            return json_response({"error": "'actions' must be a list of RTVI messages"}, 400)
        conversation_id = body.get("conversation_id") or request.args.get("conversation_id")
        if conversation_id is not None and not isinstance(conversation_id, str):
            return json_response({"error": "'conversation_id' must be a string"}, 400)
        conversation_id = conversation_id or str(uuid.uuid4())
        responses: list[dict[str, Any]] = []
        for message in actions:
            responses.extend(await _answer(dispatcher, message, conversation_id))
        return json_response(responses)

    blueprint.add_websocket_route(websocket, "", name="websocket")
    blueprint.add_route(http_action, "/action", methods=["POST"], name="action")
    return blueprint


async def _answer(
    dispatcher: RtviDispatcher, data: Any, conversation_id: str
) -> list[dict[str, Any]]:
    try:
        return await dispatcher.handle(data, conversation_id)
    except Exception:  # the socket must stay open whatever happens
        logger.exception("RTVI: cannot answer message")
        message_id = data.get("id") if isinstance(data, dict) else None
        error = "internal error while handling the message (see the server log)"
        if isinstance(message_id, str):
            return [wire.error_response(message_id, error)]
        return [wire.error_message(error)]


def _text(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()
