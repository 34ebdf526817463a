"""Rasa's REST channel and tracker endpoint, as a Sanic blueprint over a ``FlowEngine``.

- ``POST /webhooks/rest/webhook`` ``{"sender", "message", "metadata"?}`` answers the bot's
  messages as Rasa's collecting output channel does: ``[{"recipient_id", "text", ...}]``;
- ``GET /webhooks/rest/`` answers ``{"status": "ok"}``;
- ``GET /conversations/<conversation_id>/tracker`` answers the tracker JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError
from sanic import Blueprint, HTTPResponse, Request

from action_server.channels.limits import message_too_long
from action_server.interfaces.caller_input import JsonInputError, decode_json, quote_input
from action_server.stores.locks import ConversationLockTimeout
from action_server.stores.store import ConversationStoreError

__all__ = ["RestMessage", "collect_output", "rest_blueprint"]

logger = logging.getLogger(__name__)

CHANNEL_NAME = "rest"
_INCLUDE_EVENTS = ("ALL", "APPLIED", "AFTER_RESTART", "NONE")


class RestMessage(BaseModel):
    """The body Rasa's REST channel accepts; a missing sender is "default", as in Rasa."""

    model_config = ConfigDict(extra="allow")

    sender: StrictStr | StrictInt = Field(default="default")
    message: StrictStr
    metadata: dict[str, Any] | None = None


def _field_error(exc: ValidationError) -> tuple[str, str]:
    """The first problem as (field, message) for a 400 answer."""
    error = exc.errors()[0]
    # Only the top-level name: for a union pydantic appends the member type ("sender.str").
    field = str(error["loc"][0]) if error["loc"] else "body"
    if error["type"] == "missing":
        return field, f"'{field}' is required"
    expected = {"sender": "a string", "message": "a string", "metadata": "a JSON object"}
    wanted = expected.get(field)
    if wanted:
        return field, f"'{field}' must be {wanted}"
    return field, f"'{field}': {error['msg']}"


def json_response(body: Any, status: int = 200) -> HTTPResponse:
    # Not the server's helper: conversations sit below the server in the import order.
    return HTTPResponse(
        orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
    )


def _error(message: str, status: int, **extra: Any) -> HTTPResponse:
    return json_response({"error": message, **extra}, status=status)


def collect_output(recipient_id: str, message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One bot message as Rasa's collecting output channel stores it (possibly several).

    Text with buttons (or quick replies) stays one message; plain text is split on blank
    lines; custom payloads, images, attachments and elements follow as messages of their own.
    """

    def out(**fields: Any) -> dict[str, Any]:
        return {
            "recipient_id": recipient_id,
            **{k: v for k, v in fields.items() if v is not None},
        }

    result: list[dict[str, Any]] = []
    text = message.get("text")
    if message.get("quick_replies"):
        result.append(out(text=text, buttons=message["quick_replies"]))
    elif message.get("buttons"):
        result.append(out(text=text, buttons=message["buttons"]))
    elif text:
        result.extend(out(text=part) for part in str(text).strip().split("\n\n"))
    if message.get("custom"):
        result.append(out(custom=message["custom"]))
    if message.get("image"):
        result.append(out(image=message["image"]))
    if message.get("attachment"):
        result.append(out(attachment=message["attachment"]))
    for element in message.get("elements") or []:
        if isinstance(element, dict):
            title = f"{element.get('title', '')} : {element.get('subtitle', '')}"
            result.append(out(text=title, buttons=element.get("buttons") or []))
    return result


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type: clients sent JSON, not Python."""
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else type(value).__name__


def rest_blueprint(engine: Any) -> Blueprint:
    """The REST channel and tracker routes for ``engine`` (a ``FlowEngine``)."""
    blueprint = Blueprint("rest_channel")

    async def health(_: Request) -> HTTPResponse:
        return json_response({"status": "ok"})

    async def webhook(request: Request) -> HTTPResponse:
        try:
            body = decode_json(request.body or b"")
        except JsonInputError as exc:
            return _error(f"Request body is not valid JSON: {exc}", 400, field="body")
        if not isinstance(body, dict):
            return _error(
                f"Request body must be a JSON object, got {_json_type(body)}", 400, field="body"
            )
        try:
            data = RestMessage.model_validate(body)
        except ValidationError as exc:
            field, message = _field_error(exc)
            return _error(message, 400, field=field)
        sender = str(data.sender)
        if not sender.strip():
            return _error("'sender' must not be empty", 400, field="sender")
        too_long = message_too_long(data.message)
        if too_long is not None:
            return _error(too_long, 413, field="message")
        metadata = {"input_channel": CHANNEL_NAME, **(data.metadata or {})}
        try:
            turn = await engine.handle(sender, data.message, metadata)
        except Exception as exc:
            return _engine_error(exc, sender)
        output: list[dict[str, Any]] = []
        for message in turn.messages:
            output.extend(collect_output(sender, message))
        return json_response(output)

    async def tracker(request: Request, conversation_id: str) -> HTTPResponse:
        include = request.args.get("include_events", "ALL").upper()
        if include not in _INCLUDE_EVENTS:
            return _error(
                f"'include_events' must be one of {', '.join(_INCLUDE_EVENTS)}, "
                f"got {quote_input(include)}",
                400,
                field="include_events",
            )
        try:
            data = await engine.tracker(conversation_id)
        except Exception as exc:
            return _engine_error(exc, conversation_id)
        if include == "NONE":
            data = {key: value for key, value in data.items() if key != "events"}
        elif include != "ALL":
            data = {**data, "events": _after_last_restart(data.get("events") or [])}
        return json_response(data)

    blueprint.add_route(health, "/webhooks/rest/", methods=["GET"], name="rest_health")
    blueprint.add_route(webhook, "/webhooks/rest/webhook", methods=["POST"], name="rest_webhook")
    blueprint.add_route(
        tracker,
        "/conversations/<conversation_id:str>/tracker",
        methods=["GET"],
        name="conversation_tracker",
    )
    return blueprint


def _after_last_restart(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa's AFTER_RESTART (and APPLIED: the engine never emits undo or rewind events)."""
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "restart":
            return events[index + 1 :]
    return events


def _engine_error(exc: Exception, conversation_id: str) -> HTTPResponse:
    """Engine and store failures as JSON: the client learns what, the log learns why."""
    if isinstance(exc, ConversationLockTimeout):
        return _error(
            f"Conversation {quote_input(conversation_id)} is busy with another message; try again",
            409,
        )
    if isinstance(exc, ConversationStoreError):
        logger.error("conversation %s: store error: %s", quote_input(conversation_id), exc)
        return _error("The conversation store is unavailable; try again later", 503)
    logger.exception("conversation %s: the flow engine failed", quote_input(conversation_id))
    return _error(
        f"Could not handle the message for conversation {quote_input(conversation_id)}", 500
    )
