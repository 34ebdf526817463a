"""Wire models of the voice event webhook: events a phone platform sends, actions we answer.

The shapes follow sipgate AI Flow's documented events and actions: every event has a ``type``
and a ``session`` whose ``id`` is our conversation id; every action carries the ``session_id``
and a ``type``. Validation happens here, at the edge; ``parse_event`` turns a pydantic error
into one sentence naming the field. Event types we do not act on (``sms_failed``, the
deprecated ``user_barge_in``, future ones) parse to ``IgnoredEvent``: the contract is to answer
every event with an action or 204, never with an error.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import wave
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from action_server.interfaces.caller_input import quote_input, show_input

__all__ = [
    "EVENT_TYPES",
    "PASSTHROUGH_ACTIONS",
    "AudioAction",
    "BargeInAction",
    "BargeInConfig",
    "IgnoredEvent",
    "HangupAction",
    "SendSmsAction",
    "SpeakAction",
    "TransferAction",
    "VoiceAction",
    "VoiceEvent",
    "VoiceEventError",
    "VoiceSession",
    "check_wav",
    "normalise_number",
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
    # Documented: "inbound" / "outbound"; anything else a platform adds must not break a call.
    direction: str | None = None
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

    @model_validator(mode="before")
    @classmethod
    def _older_transcript_field(cls, data: Any) -> Any:
        # Older payloads name the recognised text ``transcript``.
        if isinstance(data, dict) and "text" not in data and "transcript" in data:
            return {**data, "text": data["transcript"]}
        return data


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


@dataclass(frozen=True)
class IgnoredEvent:
    """An event of a type we do not act on; answered with 204 (HTTP) or nothing (WebSocket)."""

    type: str
    session_id: str | None


def parse_event(data: Any) -> Any:
    """Validate one decoded JSON event; ``VoiceEventError`` names the problem."""
    if not isinstance(data, dict):
        raise VoiceEventError(f"an event must be a JSON object, got {_json_kind(data)}")
    kind = data.get("type")
    if kind is None:
        raise VoiceEventError("the event has no 'type'")
    if kind not in EVENT_TYPES:
        session = data.get("session")
        session_id = session.get("id") if isinstance(session, dict) else None
        # Quoted short: it is logged; and str() of an object 1,000 levels deep would raise.
        name = show_input(kind) if isinstance(kind, str) else quote_input(kind)
        return IgnoredEvent(name, session_id if isinstance(session_id, str) else None)
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
    return f"{quote_input(where)}: {error['msg']}"


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


class BargeInConfig(BaseModel):
    """How the caller may interrupt a ``speak``/``audio`` (sipgate's four strategies)."""

    model_config = ConfigDict(extra="forbid")

    strategy: Literal["none", "manual", "minimum_characters", "immediate"]
    minimum_characters: int | None = Field(default=None, ge=1)
    allow_after_ms: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _characters_only_for_their_strategy(self) -> BargeInConfig:
        if self.minimum_characters is not None and self.strategy != "minimum_characters":
            raise ValueError("minimum_characters applies only to strategy 'minimum_characters'")
        return self


class SpeakAction(_Action):
    """Say ``text`` or ``ssml`` (never both)."""

    type: Literal["speak"] = "speak"
    text: str | None = None
    ssml: str | None = None
    barge_in: BargeInConfig | None = None
    user_input_timeout_seconds: float | None = None
    tts: dict[str, Any] | None = None
    vad: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _text_or_ssml(self) -> SpeakAction:
        if (self.text is None) == (self.ssml is None):
            raise ValueError("a speak action needs exactly one of 'text' and 'ssml'")
        return self


class AudioAction(_Action):
    """Play a base64 WAV (16 kHz, mono, 16-bit PCM)."""

    type: Literal["audio"] = "audio"
    audio: str
    barge_in: BargeInConfig | None = None
    user_input_timeout_seconds: float | None = None


class HangupAction(_Action):
    type: Literal["hangup"] = "hangup"


_NUMBER_SEPARATORS = re.compile(r"[\s\-/().]")


def normalise_number(value: Any) -> str:
    """E.164 digits without ``+`` (sipgate's documented form): ``+49 30 1234-567`` -> ``49301234567``.

    ``00`` as an international prefix is dropped too; anything but digits is a ValueError.
    """
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValueError(f"a phone number must be a string, got {value!r}")
    number = _NUMBER_SEPARATORS.sub("", str(value))
    if number.startswith("+"):
        number = number[1:]
    elif number.startswith("00"):
        number = number[2:]
    if not number.isdigit() or not 3 <= len(number) <= 15:
        raise ValueError(f"{value!r} is not a phone number (E.164: up to 15 digits)")
    return number


class TransferAction(_Action):
    type: Literal["transfer"] = "transfer"
    target_phone_number: str
    caller_id_name: str = Field(min_length=1)
    caller_id_number: str
    timeout: int | None = Field(default=None, ge=5, le=120)

    @field_validator("target_phone_number", "caller_id_number", mode="before")
    @classmethod
    def _e164(cls, value: Any) -> str:
        return normalise_number(value)


class BargeInAction(_Action):
    """Stop the playback now (for speech whose barge-in strategy is ``manual``)."""

    type: Literal["barge_in"] = "barge_in"


class SendSmsAction(_Action):
    type: Literal["send_sms"] = "send_sms"
    phone_number: str
    message: str = Field(min_length=1)

    @field_validator("phone_number", mode="before")
    @classmethod
    def _e164(cls, value: Any) -> str:
        return normalise_number(value)


class _PassthroughAction(_Action):
    """Newer actions whose options we hand through unchanged from a bot message's ``custom``."""

    model_config = ConfigDict(extra="allow")


class MixAudioAction(_PassthroughAction):
    type: Literal["mix_audio"] = "mix_audio"


class ConfigureTranscriptionAction(_PassthroughAction):
    type: Literal["configure_transcription"] = "configure_transcription"


class ConfigureVoiceToVoiceAction(_PassthroughAction):
    type: Literal["configure_voice_to_voice"] = "configure_voice_to_voice"


PASSTHROUGH_ACTIONS: dict[str, type[_Action]] = {
    "mix_audio": MixAudioAction,
    "configure_transcription": ConfigureTranscriptionAction,
    "configure_voice_to_voice": ConfigureVoiceToVoiceAction,
    "send_sms": SendSmsAction,
}

VoiceAction = Union[
    SpeakAction,
    AudioAction,
    HangupAction,
    TransferAction,
    BargeInAction,
    SendSmsAction,
    MixAudioAction,
    ConfigureTranscriptionAction,
    ConfigureVoiceToVoiceAction,
]


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
