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

Protocol 1.x/2.x: ``client-ready`` gets ``bot-ready`` with the negotiated version; ``send-text``
and ``dtmf`` are user turns in the flow engine, answered by ``user-transcription`` and the bot
output events (see ``rtvi_models.bot_output_messages``); ``disconnect-bot`` closes the socket;
``ui-*`` messages are accepted and ignored. On the WebSocket, binary frames are pipecat's
protobuf ``Frame`` (``rtvi_frames``) and are answered in kind; text frames are plain JSON.
``POST /rtvi/start`` answers ``startBotAndConnect`` with the connection params.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson
from pydantic import ValidationError
from sanic import Blueprint, HTTPResponse, Request

from action_server.channels import rtvi_models as wire
from action_server.channels.limits import message_too_long
from action_server.channels.rest import json_response
from action_server.channels.rtvi_frames import FrameError, decode_frame, encode_message
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
from action_server.interfaces.caller_input import (
    JsonInputError,
    decode_json,
    quote_input,
    show_input,
)
from action_server.stores.locks import ConversationLockTimeout
from action_server.stores.store import ConversationState, ConversationStoreError

if TYPE_CHECKING:
    from action_server.dialogue.engine import FlowEngine
    from action_server.executor import ActionExecutor

__all__ = ["ACTIONS_SERVICE", "RtviDispatcher", "RtviReply", "rtvi_blueprint"]

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


@dataclass
class RtviReply:
    """The messages answering one client message, and whether the session is over."""

    messages: list[dict[str, Any]]
    close: bool = False


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
        for name, action in self.executor.action_objects.items():
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

    async def handle(self, data: Any, conversation_id: str) -> RtviReply:
        """The response messages (zero or more) to one decoded client message."""
        try:
            message = _parse(data)
        except wire.RtviMessageError as exc:
            return RtviReply([wire.error_message(str(exc))])
        kind, message_id = message.type, message.id
        try:
            if kind == "client-ready":
                version = wire.negotiate_version(message.data)
                return RtviReply(
                    [wire.bot_ready(message_id, version, {"library": "action_server"})]
                )
            if kind == "client-message":
                client = _model(wire.ClientMessage, message.data, "data")
                service, name = _split_action(client.t)
                values = _arguments_object(client.d)
                result = await self.run(service, name, values, conversation_id)
                return RtviReply([wire.server_response(message_id, client.t, result)])
            if kind == "send-text":
                text = _send_text_content(message.data)
                return RtviReply(await self._user_turn(conversation_id, text, {}))
            if kind == "dtmf":
                try:
                    digits = wire.dtmf_digits(message.data)
                except ValueError as exc:
                    raise RtviActionError(f"Invalid message: {exc}") from None
                return RtviReply(await self._user_turn(conversation_id, digits, {"dtmf": digits}))
            if kind == "disconnect-bot":
                return RtviReply([], close=True)
            if kind.startswith("ui-"):
                return RtviReply([])  # UI events/snapshots: nothing in a flow listens to them
            if kind == "describe-actions":
                return RtviReply([wire.actions_available(message_id, self.describe())])
            if kind == "action":
                run = _model(wire.ActionRun, message.data, "data")
                result = await self.run(run.service, run.action, run.values(), conversation_id)
                return RtviReply([wire.action_response(message_id, result)])
            return RtviReply(
                [wire.error_response(message_id, f"Unsupported type {show_input(str(kind))}")]
            )
        except RtviActionError as exc:
            return RtviReply([wire.error_response(message_id, str(exc))])

    async def _user_turn(
        self, conversation_id: str, text: str, extra: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """A user turn through the flow engine: the transcription, then the bot's output."""
        if self.engine is None:
            raise RtviActionError("there is no flow engine to send text to")
        too_long = message_too_long(text, "text")
        if too_long is not None:
            raise RtviActionError(too_long)
        metadata: dict[str, Any] = {"input_channel": INPUT_CHANNEL}
        if extra:
            metadata[INPUT_CHANNEL] = extra
        stamp = datetime.now(timezone.utc).isoformat()
        result = await self._guard(self.engine.handle(conversation_id, text, metadata), "send-text")
        out = [wire.user_transcription(text, conversation_id, stamp)]
        for bot_message in result.messages:
            out.extend(wire.bot_output_messages(bot_message))
        return out

    async def run(
        self, service: str, action: str, values: dict[str, Any], conversation_id: str
    ) -> Any:
        """Run one action of any service; every failure is an ``RtviActionError``."""
        builtin = self._builtins.get(f"{service}:{action}")
        if builtin is not None:
            args = _validate(builtin.arguments, values, f"{service}:{action}")
            return await self._guard(builtin.handler(conversation_id, args), action)
        if service != ACTIONS_SERVICE or action not in self.executor.action_objects:
            raise RtviActionError(f"Action {show_input(f'{service}:{action}')} not registered")
        registered = self.executor.action_objects[action]
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
        return await self.executor.execute(call)

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
        too_long = message_too_long(args["text"], "text")
        if too_long is not None:
            raise RtviActionError(too_long)
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
            f"not an RTVI message: 'label' must be '{wire.LABEL}', "
            f"got {quote_input(data.get('label'))}"
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


def _send_text_content(data: Any) -> str:
    content = data.get("content") if isinstance(data, Mapping) else None
    if not isinstance(content, str) or not content.strip():
        raise RtviActionError("Invalid message: data.content must be a non-empty string")
    return content


def _split_action(t: str) -> tuple[str, str]:
    service, sep, action = t.partition(":")
    return (service, action) if sep else (ACTIONS_SERVICE, t)


def _arguments_object(d: Any) -> dict[str, Any]:
    if d is None:
        return {}
    if not isinstance(d, dict):
        raise RtviActionError(
            f"Invalid message: data.d must be an object of arguments, got {quote_input(d)}"
        )
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
        binary = False  # answer in the framing the client used last
        while True:
            raw = await ws.recv()
            if raw is None:
                return
            binary = isinstance(raw, bytes)
            try:
                data = _decode(raw)
            except ValueError as exc:
                await ws.send(_encode(wire.error_message(str(exc)), binary))
                continue
            if data is _SKIP:
                continue
            reply = await _answer(dispatcher, data, conversation_id)
            for response in reply.messages:
                await ws.send(_encode(response, binary))
            if reply.close:
                await ws.close()
                return

    async def start(request: Request) -> HTTPResponse:
        """Connection params for ``startBotAndConnect``: only ``wsUrl`` and ``token``."""
        body: Any = {}
        if request.body:
            try:
                body = decode_json(request.body)
            except JsonInputError as exc:
                return json_response({"error": f"the body is not valid JSON: {exc}"}, 400)
        conversation_id = body.get("conversation_id") if isinstance(body, dict) else None
        if conversation_id is not None and not isinstance(conversation_id, str):
            return json_response({"error": "'conversation_id' must be a string"}, 400)
        scheme = "wss" if request.scheme in ("https", "wss") else "ws"
        query = urlencode({"conversation_id": conversation_id or str(uuid.uuid4())})
        params = {"wsUrl": f"{scheme}://{request.host}{blueprint.url_prefix}?{query}"}
        token = _request_token(request)
        if token:
            params["token"] = token  # the socket is checked like any request: pass it on
        return json_response(params)

    async def http_action(request: Request) -> HTTPResponse:
        try:
            body = decode_json(request.body or b"")
        except JsonInputError as exc:
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
            responses.extend((await _answer(dispatcher, message, conversation_id)).messages)
        return json_response(responses)

    blueprint.add_websocket_route(websocket, "", name="websocket")
    blueprint.add_route(http_action, "/action", methods=["POST"], name="action")
    blueprint.add_route(start, "/start", methods=["POST"], name="start")
    return blueprint


async def _answer(dispatcher: RtviDispatcher, data: Any, conversation_id: str) -> RtviReply:
    try:
        return await dispatcher.handle(data, conversation_id)
    except Exception:  # the socket must stay open whatever happens
        logger.exception("RTVI: cannot answer message")
        message_id = data.get("id") if isinstance(data, dict) else None
        error = "internal error while handling the message (see the server log)"
        if isinstance(message_id, str):
            return RtviReply([wire.error_response(message_id, error)])
        return RtviReply([wire.error_message(error)])


_SKIP = object()  # a frame that carries no RTVI message (microphone audio): nothing to answer


def _decode(raw: bytes | str) -> Any:
    """The decoded JSON of a text frame or of a protobuf ``MessageFrame``; ValueError if bad."""
    if isinstance(raw, bytes):
        try:
            frame = decode_frame(raw)
        except FrameError as exc:
            raise ValueError(f"binary message is not a pipecat Frame: {exc}") from None
        if frame.kind != "message":
            return _SKIP
        raw = frame.data or ""
    try:
        return decode_json(raw)
    except JsonInputError as exc:
        raise ValueError(f"message is not valid JSON: {exc}") from None


def _encode(message: dict[str, Any], binary: bool) -> bytes | str:
    text = orjson.dumps(message).decode()
    return encode_message(text) if binary else text


def _request_token(request: Request) -> str | None:
    """The shared token this request carried (query, ``X-API-TOKEN`` or Bearer), if any."""
    token = request.args.get("token") or request.headers.get("x-api-token")
    if token:
        return str(token)
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None
