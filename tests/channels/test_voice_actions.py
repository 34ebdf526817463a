"""Bot messages -> voice actions, without a server."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from action_server.channels.voice import voice_actions
from action_server.channels.voice_models import SpeakAction, check_wav, normalise_number

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
        {
            "custom": {
                "type": "transfer",
                "target": "+49 30 1234-567",
                "caller_id_name": "Shop",
                "caller_id_number": "0049301112222",
                "timeout": 30,
            }
        },
    ]
    assert voice_actions("s", messages, ended=True) == [
        {"session_id": "s", "type": "speak", "text": "Connecting."},
        {
            "session_id": "s",
            "type": "transfer",
            "target_phone_number": "49301234567",
            "caller_id_name": "Shop",
            "caller_id_number": "49301112222",
            "timeout": 30,
        },
    ]


SESSION = {"id": "s", "phone_number": "+49301112222", "from_phone_number": "+4915112345678"}


def test_transfer_caller_id_defaults_to_the_dialled_line_and_the_caller() -> None:
    messages = [{"custom": {"type": "transfer", "target": "49301234567"}}]
    assert voice_actions("s", messages, ended=True, session=SESSION) == [
        {
            "session_id": "s",
            "type": "transfer",
            "target_phone_number": "49301234567",
            "caller_id_name": "+4915112345678",
            "caller_id_number": "49301112222",
        }
    ]


@pytest.mark.parametrize(
    "custom",
    [
        {"type": "transfer"},  # no target: never the string "None"
        {"type": "transfer", "target": None},
        {"type": "transfer", "target": "sales"},  # not a number
        {"type": "transfer", "target": "+491234", "timeout": 4},  # 5-120 s
        {"type": "transfer", "target": "+491234", "timeout": 121},
    ],
)
def test_unusable_transfer_hangs_up_instead(custom: dict[str, object]) -> None:
    actions = voice_actions(
        "s", [{"text": "One moment.", "custom": custom}], ended=True, session=SESSION
    )
    assert [a["type"] for a in actions] == ["speak", "hangup"]


def test_speak_keeps_vad_and_validated_barge_in() -> None:
    vad = {"end_of_turn_silence_ms": 800}
    barge_in = {"strategy": "minimum_characters", "minimum_characters": 4, "allow_after_ms": 300}
    [action] = voice_actions("s", [{"text": "Hi.", "custom": {"vad": vad, "barge_in": barge_in}}])
    assert action["vad"] == vad
    assert action["barge_in"] == barge_in
    [action] = voice_actions(
        "s", [{"text": "Hi.", "custom": {"barge_in": {"strategy": "immediate"}}}]
    )
    assert action["barge_in"] == {"strategy": "immediate"}


@pytest.mark.parametrize(
    "barge_in",
    [
        {"strategy": "sometimes"},
        {"strategy": "none", "minimum_characters": 3},
        {"strategy": "minimum_characters", "minimum_characters": 0},
        {"strategy": "immediate", "allow_after_ms": -1},
        {"strategy": "manual", "extra": 1},
    ],
)
def test_invalid_barge_in_is_dropped_and_the_text_still_spoken(barge_in: dict[str, object]) -> None:
    [action] = voice_actions("s", [{"text": "Hi.", "custom": {"barge_in": barge_in}}])
    assert action == {"session_id": "s", "type": "speak", "text": "Hi."}


def test_newer_actions_from_custom_types() -> None:
    messages = [
        {
            "text": "I will text you.",
            "custom": {
                "type": "send_sms",
                "phone_number": "+4915112345678",
                "message": "Code 4242",
            },
        },
        {"custom": {"type": "mix_audio", "sound": "office", "volume": 0.2}},
        {"custom": {"type": "configure_transcription", "languages": ["de-DE", "en-US"]}},
        {"custom": {"type": "configure_voice_to_voice", "enabled": False}},
        {"custom": {"type": "barge_in"}},
        {"custom": {"type": "send_sms", "phone_number": "x"}},  # invalid: dropped
    ]
    assert voice_actions("s", messages) == [
        {"session_id": "s", "type": "speak", "text": "I will text you."},
        {
            "session_id": "s",
            "type": "send_sms",
            "phone_number": "4915112345678",
            "message": "Code 4242",
        },
        {"session_id": "s", "type": "mix_audio", "sound": "office", "volume": 0.2},
        {"session_id": "s", "type": "configure_transcription", "languages": ["de-DE", "en-US"]},
        {"session_id": "s", "type": "configure_voice_to_voice", "enabled": False},
        {"session_id": "s", "type": "barge_in"},
    ]


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("+491234567", "491234567"),
        ("491234567", "491234567"),
        ("0049 (30) 12/34.5", "493012345"),
        (491234567, "491234567"),
    ],
)
def test_numbers_normalise_to_e164_digits(raw: object, number: str) -> None:
    assert normalise_number(raw) == number


@pytest.mark.parametrize("raw", ["", "+", "12", "+49 30 abc", "1" * 16, None, True, 1.5])
def test_non_numbers_are_rejected(raw: object) -> None:
    with pytest.raises(ValueError, match="phone number"):
        normalise_number(raw)


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
