"""Wire models of RTVI (Real-Time Voice Interface) messages: what clients send and we answer.

Every message is ``{"label": "rtvi-ai", "type": ..., "id": ..., "data": ...}``. We speak the
0.x actions messages (``describe-actions`` / ``action``), and protocol 1.x/2.x: the
``client-ready`` / ``bot-ready`` handshake, ``client-message`` ``{t, d}`` answered by
``server-response``, ``send-text`` / ``dtmf`` answered by the bot output events below.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from action_server.interfaces.caller_input import INPUT_QUOTE_LIMIT

__all__ = [
    "LABEL",
    "PROTOCOL_VERSION",
    "PROTOCOL_VERSIONS",
    "ActionRun",
    "ClientMessage",
    "RtviMessage",
    "RtviMessageError",
    "action_response",
    "actions_available",
    "bot_output_messages",
    "bot_ready",
    "dtmf_digits",
    "negotiate_version",
    "error_message",
    "error_response",
    "format_validation_error",
    "server_message",
    "server_response",
    "user_transcription",
]

LABEL = "rtvi-ai"
# The newest version we speak for each major; a client's major picks one (2.1: dtmf buttons).
PROTOCOL_VERSIONS = {1: "1.0.0", 2: "2.1.0"}
PROTOCOL_VERSION = PROTOCOL_VERSIONS[2]
DTMF_KEYS = frozenset("0123456789*#")


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
    if len(where) > INPUT_QUOTE_LIMIT:  # keys of a client's object can be arbitrarily long
        where = where[:INPUT_QUOTE_LIMIT] + "..."
    return f"{where}: {error['msg']}"


def _message(kind: str, data: Any, message_id: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"label": LABEL, "type": kind}
    if message_id is not None:
        message["id"] = message_id
    if data is not None:
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


def negotiate_version(client_data: Any) -> str:
    """Our version for a ``client-ready``: the client's major if we speak it, else the nearest.

    Clients before 1.0 send no version; they get 1.0.0 as before.
    """
    version = client_data.get("version") if isinstance(client_data, dict) else None
    try:
        major = int(str(version).split(".", 1)[0])
    except ValueError:
        major = 1
    return PROTOCOL_VERSIONS[min(max(major, min(PROTOCOL_VERSIONS)), max(PROTOCOL_VERSIONS))]


def bot_ready(message_id: str, version: str, about: dict[str, Any]) -> dict[str, Any]:
    return _message("bot-ready", {"version": version, "about": about}, message_id)


def dtmf_digits(data: Any) -> str:
    """The keys of a ``dtmf`` message: ``{"buttons": [...]}`` (2.1) or ``{"button": k}`` (2.0)."""
    if not isinstance(data, dict):
        raise ValueError("data must be an object with 'buttons'")
    if "buttons" in data:
        buttons = data["buttons"]
        if not isinstance(buttons, list) or not buttons:
            raise ValueError("data.buttons must be a non-empty list of keys")
    elif "button" in data:
        buttons = [data["button"]]
    else:
        raise ValueError("data.buttons: Field required")
    for key in buttons:
        if not isinstance(key, str) or key not in DTMF_KEYS:
            raise ValueError(f"data.buttons: {key!r} is not a DTMF key (0-9, *, #)")
    return "".join(buttons)


def user_transcription(text: str, user_id: str, timestamp: str) -> dict[str, Any]:
    """What the user said (typed text or keys), final, as a speech client would show it."""
    data = {"text": text, "final": True, "timestamp": timestamp, "user_id": user_id}
    return _message("user-transcription", data)


def server_message(data: Any) -> dict[str, Any]:
    return _message("server-message", data)


def bot_output_messages(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The RTVI events for one bot message of a turn.

    Text goes out as ``bot-llm-started`` / ``bot-llm-text`` / ``bot-llm-stopped`` and as one
    ``bot-output`` sentence that is not spoken (we have no TTS); anything besides the text
    (buttons, custom payloads, images) as a ``server-message`` ``{"type": "bot-message", ...}``.
    """
    out: list[dict[str, Any]] = []
    text = message.get("text")
    if isinstance(text, str) and text:
        out.append(_message("bot-llm-started", None))
        out.append(_message("bot-llm-text", {"text": text}))
        out.append(_message("bot-llm-stopped", None))
        out.append(
            _message(
                "bot-output",
                {
                    "text": text,
                    "aggregated_by": "sentence",
                    "spoken": False,
                    "will_be_spoken": False,
                },
            )
        )
    if any(key != "text" and value not in (None, [], {}) for key, value in message.items()):
        out.append(server_message({"type": "bot-message", "message": message}))
    return out
