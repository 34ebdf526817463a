"""Wire models of the voice event webhook: events a phone platform sends, actions we answer.

The shapes follow the phone-bot event/action protocol (sipgate AI Flow style): every event has
a ``type`` and a ``session`` whose ``id`` is our conversation id; every action carries the
``session_id`` and a ``type``. Validation happens here, at the edge; ``parse_event`` turns a
pydantic error into one sentence naming the field.
"""

from __future__ import annotations

import base64
import binascii
import io
import wave
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

__all__ = [
    "EVENT_TYPES",
    "AudioAction",
    "BargeInAction",
    "HangupAction",
    "SpeakAction",
    "TransferAction",
    "VoiceAction",
    "VoiceEvent",
    "VoiceEventError",
    "VoiceSession",
    "check_wav",
    "parse_event",
]

AUDIO_SAMPLE_RATE = 16_000
AUDIO_CHANNELS = 1
AUDIO_SAMPLE_WIDTH = 2  # bytes: 16-bit PCM


class VoiceEventError(ValueError):
    """An event we cannot accept; the message says what is wrong and where."""


class _Wire(BaseModel):
    # Platforms add fields over time; unknown ones must not break a live call.
    model_config = ConfigDict(extra="allow")


class VoiceSession(_Wire):
    id: str = Field(min_length=1)
    account_id: str | None = None
    phone_number: str | None = None
    direction: Literal["inbound", "outbound"] | None = None
    from_phone_number: str | None = None
    to_phone_number: str | None = None


class _Event(_Wire):
    session: VoiceSession


class SessionStart(_Event):
    type: Literal["session_start"]


class UserSpeak(_Event):
    type: Literal["user_speak"]
    text: str
    barged_in: bool = False


class UserSpeechStarted(_Event):
    type: Literal["user_speech_started"]


class DtmfReceived(_Event):
    type: Literal["dtmf_received"]
    digit: str = Field(min_length=1)


class AssistantSpeak(_Event):
    type: Literal["assistant_speak"]


class AssistantSpeechEnded(_Event):
    type: Literal["assistant_speech_ended"]


class UserInputTimeout(_Event):
    type: Literal["user_input_timeout"]


class SessionEnd(_Event):
    type: Literal["session_end"]


VoiceEvent = Annotated[
    Union[
        SessionStart,
        UserSpeak,
        UserSpeechStarted,
        DtmfReceived,
        AssistantSpeak,
        AssistantSpeechEnded,
        UserInputTimeout,
        SessionEnd,
    ],
    Field(discriminator="type"),
]
EVENT_TYPES: tuple[str, ...] = (
    "session_start",
    "user_speak",
    "user_speech_started",
    "dtmf_received",
    "assistant_speak",
    "assistant_speech_ended",
    "user_input_timeout",
    "session_end",
)
_EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(VoiceEvent)


def parse_event(data: Any) -> Any:
    """Validate one decoded JSON event; ``VoiceEventError`` names the problem."""
    if not isinstance(data, dict):
        raise VoiceEventError(f"an event must be a JSON object, got {_json_kind(data)}")
    kind = data.get("type")
    if kind is None:
        raise VoiceEventError("the event has no 'type'")
    if kind not in EVENT_TYPES:
        raise VoiceEventError(
            f"unknown event type {kind!r} (expected one of {', '.join(EVENT_TYPES)})"
        )
    if "session" not in data:
        raise VoiceEventError(f"event '{kind}' has no 'session'")
    try:
        return _EVENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise VoiceEventError(f"event '{kind}': {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    # The discriminator adds the type name to the location; it is already in our prefix.
    location = [str(p) for p in error["loc"] if p not in EVENT_TYPES]
    where = ".".join(location) or "event"
    return f"'{where}': {error['msg']}"


def _json_kind(value: Any) -> str:
    names = {list: "an array", str: "a string", int: "a number", float: "a number"}
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return names.get(type(value), type(value).__name__)


# --- actions ----------------------------------------------------------------------------------


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class SpeakAction(_Action):
    """Say ``text`` or ``ssml`` (never both)."""

    type: Literal["speak"] = "speak"
    text: str | None = None
    ssml: str | None = None
    barge_in: dict[str, Any] | None = None
    user_input_timeout_seconds: float | None = None
    tts: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _text_or_ssml(self) -> SpeakAction:
        if (self.text is None) == (self.ssml is None):
            raise ValueError("a speak action needs exactly one of 'text' and 'ssml'")
        return self


class AudioAction(_Action):
    """Play a base64 WAV (16 kHz, mono, 16-bit PCM)."""

    type: Literal["audio"] = "audio"
    audio: str
    barge_in: dict[str, Any] | None = None
    user_input_timeout_seconds: float | None = None


class HangupAction(_Action):
    type: Literal["hangup"] = "hangup"


class TransferAction(_Action):
    type: Literal["transfer"] = "transfer"
    target_phone_number: str = Field(min_length=1)
    caller_id_name: str | None = None
    caller_id_number: str | None = None


class BargeInAction(_Action):
    type: Literal["barge_in"] = "barge_in"


VoiceAction = Union[SpeakAction, AudioAction, HangupAction, TransferAction, BargeInAction]


def check_wav(data: str) -> None:
    """Raise ValueError unless ``data`` is base64 of a 16 kHz mono 16-bit PCM WAV file."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("audio is not valid base64") from None
    try:
        with wave.open(io.BytesIO(raw), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"audio is not a PCM WAV file: {exc}") from None
    if (rate, channels, width) != (AUDIO_SAMPLE_RATE, AUDIO_CHANNELS, AUDIO_SAMPLE_WIDTH):
        raise ValueError(
            f"audio must be 16 kHz mono 16-bit PCM, got {rate} Hz, {channels} channel(s), "
            f"{width * 8}-bit"
        )
