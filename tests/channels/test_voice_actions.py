"""Bot messages -> voice actions, without a server."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from action_server.channels.voice import voice_actions
from action_server.channels.voice_models import SpeakAction, check_wav

AUDIO_16K = (
    "UklGRkQAAABXQVZFZm10IBAAAAABAAEAgD4AAAB9AAACABAAZGF0YSAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAA=="
)


def test_consecutive_texts_merge_into_one_speak() -> None:
    actions = voice_actions("s", [{"text": "Hello."}, {"text": "How can I help?"}])
    assert actions == [{"session_id": "s", "type": "speak", "text": "Hello. How can I help?"}]


def test_speak_options_in_custom_keep_a_message_apart() -> None:
    messages = [
        {"text": "One."},
        {"text": "Two.", "custom": {"barge_in": {"strategy": "none"}, "tts": {"voice": "x"}}},
        {"text": "Three."},
    ]
    assert voice_actions("s", messages) == [
        {"session_id": "s", "type": "speak", "text": "One."},
        {
            "session_id": "s",
            "type": "speak",
            "text": "Two.",
            "barge_in": {"strategy": "none"},
            "tts": {"voice": "x"},
        },
        {"session_id": "s", "type": "speak", "text": "Three."},
    ]


def test_ended_conversation_hangs_up_after_its_last_words() -> None:
    actions = voice_actions("s", [{"text": "Bye."}], ended=True, user_input_timeout_seconds=5)
    assert actions == [
        {"session_id": "s", "type": "speak", "text": "Bye."},
        {"session_id": "s", "type": "hangup"},
    ]


def test_transfer_message_becomes_transfer_and_no_hangup() -> None:
    messages = [
        {"text": "Connecting."},
        {"custom": {"type": "transfer", "target": "+491", "caller_id_name": "Shop"}},
    ]
    assert voice_actions("s", messages, ended=True) == [
        {"session_id": "s", "type": "speak", "text": "Connecting."},
        {
            "session_id": "s",
            "type": "transfer",
            "target_phone_number": "+491",
            "caller_id_name": "Shop",
        },
    ]


def test_input_timeout_goes_on_the_last_spoken_action_only() -> None:
    messages = [{"text": "A."}, {"custom": {"audio": AUDIO_16K}}]
    actions = voice_actions("s", messages, user_input_timeout_seconds=7)
    assert "user_input_timeout_seconds" not in actions[0]
    assert actions[1]["type"] == "audio"
    assert actions[1]["user_input_timeout_seconds"] == 7


def test_unplayable_audio_without_text_is_dropped() -> None:
    assert voice_actions("s", [{"custom": {"audio": "not base64!"}}]) == []


def test_speak_needs_exactly_one_of_text_and_ssml() -> None:
    with pytest.raises(ValidationError, match="exactly one of 'text' and 'ssml'"):
        SpeakAction(session_id="s", text="a", ssml="<speak/>")
    with pytest.raises(ValidationError, match="exactly one of 'text' and 'ssml'"):
        SpeakAction(session_id="s")


def test_check_wav_names_what_is_wrong() -> None:
    check_wav(AUDIO_16K)
    with pytest.raises(ValueError, match="not valid base64"):
        check_wav("%%%")
    with pytest.raises(ValueError, match="not a PCM WAV file"):
        check_wav("aGVsbG8=")
