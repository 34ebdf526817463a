"""Wire models of RTVI (Real-Time Voice Interface) messages: what clients send and we answer.

Every message is ``{"label": "rtvi-ai", "type": ..., "id": ..., "data": ...}``. We speak the
actions part of the protocol (``describe-actions`` / ``action``) and the newer custom messages
(``client-message`` ``{t, d}`` answered by ``server-response``), plus ``client-ready``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "LABEL",
    "PROTOCOL_VERSION",
    "ActionRun",
    "ClientMessage",
    "RtviMessage",
    "RtviMessageError",
    "action_response",
    "actions_available",
    "bot_ready",
    "error_message",
    "error_response",
    "format_validation_error",
    "server_response",
]

LABEL = "rtvi-ai"
PROTOCOL_VERSION = "1.0.0"


class RtviMessageError(ValueError):
    """A message that is not RTVI at all; answered with an ``error`` message (no id to echo)."""


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


class RtviMessage(_Wire):
    label: Literal["rtvi-ai"]
    type: str = Field(min_length=1)
    id: str = Field(min_length=1)
    data: Any = None


class ActionArgument(_Wire):
    name: str = Field(min_length=1)
    value: Any = None


class ActionRun(_Wire):
    service: str = Field(min_length=1)
    action: str = Field(min_length=1)
    arguments: list[ActionArgument] | None = None

    def values(self) -> dict[str, Any]:
        return {argument.name: argument.value for argument in self.arguments or []}


class ClientMessage(_Wire):
    t: str = Field(min_length=1)
    d: Any = None


def format_validation_error(exc: ValidationError, prefix: str) -> str:
    """One line naming the first bad field, e.g. ``data.service: Field required``."""
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or prefix
    if prefix and where != prefix:
        where = f"{prefix}.{where}"
    return f"{where}: {error['msg']}"


def _message(kind: str, data: Any, message_id: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"label": LABEL, "type": kind}
    if message_id is not None:
        message["id"] = message_id
    message["data"] = data
    return message


def actions_available(message_id: str, actions: list[dict[str, Any]]) -> dict[str, Any]:
    return _message("actions-available", {"actions": actions}, message_id)


def action_response(message_id: str, result: Any) -> dict[str, Any]:
    return _message("action-response", {"result": result}, message_id)


def server_response(message_id: str, t: str, d: Any) -> dict[str, Any]:
    return _message("server-response", {"t": t, "d": d}, message_id)


def error_response(message_id: str, error: str) -> dict[str, Any]:
    return _message("error-response", {"error": error}, message_id)


def error_message(error: str, fatal: bool = False) -> dict[str, Any]:
    return _message("error", {"error": error, "fatal": fatal})


def bot_ready(message_id: str, about: dict[str, Any]) -> dict[str, Any]:
    return _message("bot-ready", {"version": PROTOCOL_VERSION, "about": about}, message_id)
