"""Pipecat's protobuf frame on the RTVI WebSocket: pure encode/decode, no I/O.

The official ``@pipecat-ai/websocket-transport`` sends every RTVI message as a binary
WebSocket frame holding ``pipecat.Frame { oneof frame { TextFrame text = 1; AudioRawFrame
audio = 2; TranscriptionFrame transcription = 3; MessageFrame message = 4; } }`` with
``MessageFrame { string data = 1; }`` carrying the RTVI JSON, and it drops text frames. Only
``message`` matters to us; the other kinds (microphone audio) are recognised and skipped.
Hand-written varint / length-delimited encoding keeps this free of a protobuf dependency.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FrameError", "RtviFrame", "decode_frame", "encode_message"]

FRAME_KINDS = {1: "text", 2: "audio", 3: "transcription", 4: "message"}
_MESSAGE_FIELD = 4
_DATA_FIELD = 1
_LENGTH_DELIMITED = 2
_MAX_VARINT_BYTES = 10


class FrameError(ValueError):
    """Bytes that are not a pipecat ``Frame``; the message says where decoding stopped."""


@dataclass(frozen=True)
class RtviFrame:
    """One decoded frame: its kind, and for ``message`` the RTVI JSON text."""

    kind: str
    data: str | None = None


def encode_message(data: str) -> bytes:
    """``Frame{message: MessageFrame{data}}`` for one RTVI JSON text."""
    inner = _field(_DATA_FIELD, data.encode("utf-8")) if data else b""
    return _field(_MESSAGE_FIELD, inner)


def decode_frame(raw: bytes) -> RtviFrame:
    """The frame in ``raw``; unknown top-level fields are skipped like protobuf does."""
    kind: str | None = None
    payload = b""
    for number, wire_type, value in _fields(raw, "Frame"):
        if number in FRAME_KINDS and wire_type == _LENGTH_DELIMITED:
            kind, payload = FRAME_KINDS[number], value  # oneof: the last one wins
    if kind is None:
        raise FrameError("Frame has none of text, audio, transcription, message")
    if kind != "message":
        return RtviFrame(kind)
    data = ""
    for number, wire_type, value in _fields(payload, "MessageFrame"):
        if number == _DATA_FIELD and wire_type == _LENGTH_DELIMITED:
            try:
                data = value.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FrameError(f"MessageFrame.data is not UTF-8: {exc}") from None
    return RtviFrame("message", data)


def _field(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | _LENGTH_DELIMITED) + _varint(len(value)) + value


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(raw: bytes, pos: int, where: str) -> tuple[int, int]:
    result = 0
    for shift in range(_MAX_VARINT_BYTES):
        if pos >= len(raw):
            raise FrameError(f"{where}: truncated varint at byte {pos}")
        byte = raw[pos]
        pos += 1
        result |= (byte & 0x7F) << (7 * shift)
        if not byte & 0x80:
            return result, pos
    raise FrameError(f"{where}: varint longer than {_MAX_VARINT_BYTES} bytes at byte {pos}")


def _fields(raw: bytes, where: str) -> list[tuple[int, int, bytes]]:
    """(field number, wire type, bytes) of every field; varints and fixed ones as raw bytes."""
    fields: list[tuple[int, int, bytes]] = []
    pos = 0
    while pos < len(raw):
        start = pos
        key, pos = _read_varint(raw, pos, where)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise FrameError(f"{where}: field number 0 at byte {start}")
        if wire_type == 0:
            _, end = _read_varint(raw, pos, where)
        elif wire_type == 1:
            end = pos + 8
        elif wire_type == _LENGTH_DELIMITED:
            length, pos = _read_varint(raw, pos, where)
            end = pos + length
        elif wire_type == 5:
            end = pos + 4
        else:
            raise FrameError(f"{where}: unsupported wire type {wire_type} at byte {start}")
        if end > len(raw):
            raise FrameError(f"{where}: field {number} runs past the end ({end} > {len(raw)})")
        fields.append((number, wire_type, raw[pos:end]))
        pos = end
    return fields
