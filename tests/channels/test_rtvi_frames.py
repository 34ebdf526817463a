"""Pipecat's protobuf Frame on the RTVI socket, tested with bytes."""

from __future__ import annotations

import pytest

from action_server.channels.rtvi_frames import FrameError, RtviFrame, decode_frame, encode_message


def test_message_frame_bytes() -> None:
    # Frame.message (field 4, length-delimited) holding MessageFrame.data (field 1).
    assert encode_message('{"a":1}') == b'\x22\x09\x0a\x07{"a":1}'


def test_lengths_over_127_use_multi_byte_varints() -> None:
    text = "x" * 200
    encoded = encode_message(text)
    assert encoded[:6] == b"\x22\xcb\x01\x0a\xc8\x01"
    assert decode_frame(encoded) == RtviFrame("message", text)


def test_round_trip_keeps_unicode() -> None:
    text = '{"label": "rtvi-ai", "data": {"text": "Grüße 👋"}}'
    assert decode_frame(encode_message(text)) == RtviFrame("message", text)


def test_empty_message_is_an_empty_string() -> None:
    assert encode_message("") == b"\x22\x00"
    assert decode_frame(b"\x22\x00") == RtviFrame("message", "")


def test_audio_frames_are_recognised_and_skipped() -> None:
    # Frame.audio (field 2) with AudioRawFrame.audio (field 3) and sample_rate (field 4, varint).
    audio = b"\x1a\x04\x00\x01\x02\x03\x20\x80\x7d"
    assert decode_frame(b"\x12" + bytes([len(audio)]) + audio) == RtviFrame("audio")


def test_unknown_fields_are_skipped() -> None:
    unknown = b"\x28\x05" + b"\x35\x01\x02\x03\x04" + b"\x39" + bytes(8)  # varint, fixed32/64
    frame = unknown + encode_message("{}")
    assert decode_frame(frame) == RtviFrame("message", "{}")


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", "Frame has none of"),
        (b"\x22\x05\x0a\x03ab", "runs past the end"),
        (b"\x22", "truncated varint"),
        (b"\x22\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "varint longer than"),
        (b"\x23\x00", "unsupported wire type 3"),
        (b"\x02\x00", "field number 0"),
        (b"\x22\x04\x0a\x02\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_bytes_say_what_is_wrong(raw: bytes, error: str) -> None:
    with pytest.raises(FrameError, match=error):
        decode_frame(raw)
