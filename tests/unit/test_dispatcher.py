"""`CollectingDispatcher` produces rasa-sdk's exact message dicts."""

from __future__ import annotations

from typing import Any

import pytest

from action_server.interfaces import Tracker
from action_server.interfaces.dispatcher import CollectingDispatcher

EMPTY: dict[str, Any] = {
    "text": None,
    "buttons": [],
    "elements": [],
    "custom": {},
    "template": None,
    "response": None,
    "image": None,
    "attachment": None,
}


def _message(**overrides: Any) -> dict[str, Any]:
    return {**EMPTY, **overrides}


def test_new_dispatcher_has_no_messages() -> None:
    assert CollectingDispatcher().messages == []


def test_utter_message_with_text_only() -> None:
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(text="hello")
    assert dispatcher.messages == [_message(text="hello")]
    assert list(dispatcher.messages[0]) == list(EMPTY)


def test_utter_message_accepts_text_positionally() -> None:
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message("hello")
    assert dispatcher.messages[0]["text"] == "hello"


def test_utter_message_without_arguments_sends_empty_message() -> None:
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message()
    assert dispatcher.messages == [EMPTY]


def test_utter_message_with_every_argument() -> None:
    dispatcher = CollectingDispatcher()
    buttons = [{"title": "Yes", "payload": "/affirm"}]
    elements = [{"title": "card"}]
    dispatcher.utter_message(
        text="t",
        image="https://img/x.png",
        json_message={"k": "v"},
        response="utter_greet",
        attachment="file.pdf",
        buttons=buttons,
        elements=elements,
    )
    assert dispatcher.messages == [
        {
            "text": "t",
            "buttons": buttons,
            "elements": elements,
            "custom": {"k": "v"},
            "template": "utter_greet",
            "response": "utter_greet",
            "image": "https://img/x.png",
            "attachment": "file.pdf",
        }
    ]


def test_response_fills_both_template_and_response_keys() -> None:
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(response="utter_bye")
    assert dispatcher.messages == [_message(template="utter_bye", response="utter_bye")]


def test_template_is_a_deprecated_alias_of_response() -> None:
    dispatcher = CollectingDispatcher()
    with pytest.warns(FutureWarning, match="`response` instead of `template`"):
        dispatcher.utter_message(template="utter_old")
    assert dispatcher.messages == [_message(template="utter_old", response="utter_old")]


def test_response_wins_over_template_when_both_given() -> None:
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(template="utter_old", response="utter_new")
    assert dispatcher.messages[0]["template"] == "utter_new"
    assert dispatcher.messages[0]["response"] == "utter_new"


def test_kwargs_are_merged_into_the_message() -> None:
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(response="utter_hi", name="Ann", quick_replies=[1])
    assert dispatcher.messages == [
        _message(template="utter_hi", response="utter_hi", name="Ann", quick_replies=[1])
    ]


def test_kwargs_can_override_standard_keys_like_rasa_sdk() -> None:
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(text="x", custom={"raw": True})
    assert dispatcher.messages[0]["custom"] == {"raw": True}


def test_messages_accumulate_in_order() -> None:
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(text="one")
    dispatcher.utter_message(text="two")
    assert [m["text"] for m in dispatcher.messages] == ["one", "two"]


def test_empty_buttons_elements_and_json_become_empty_containers() -> None:
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(buttons=None, elements=[], json_message=None)
    message = dispatcher.messages[0]
    assert (message["buttons"], message["elements"], message["custom"]) == ([], [], {})


TRACKER = Tracker("u", {}, {}, [], False, None, {}, None)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            lambda d: d.utter_custom_message({"a": 1}, {"b": 2}),
            _message(elements=[{"a": 1}, {"b": 2}]),
        ),
        (lambda d: d.utter_elements({"a": 1}), _message(elements=[{"a": 1}])),
        (
            lambda d: d.utter_button_message("pick", [{"title": "x"}]),
            _message(text="pick", buttons=[{"title": "x"}]),
        ),
        (lambda d: d.utter_attachment("f.pdf"), _message(attachment="f.pdf")),
        (
            lambda d: d.utter_button_template("utter_q", [{"title": "x"}], TRACKER),
            _message(template="utter_q", response="utter_q", buttons=[{"title": "x"}]),
        ),
        (
            lambda d: d.utter_template("utter_q", TRACKER, name="Ann"),
            _message(template="utter_q", response="utter_q", name="Ann"),
        ),
        (lambda d: d.utter_custom_json({"k": 1}), _message(custom={"k": 1})),
        (lambda d: d.utter_image_url("http://i"), _message(image="http://i")),
    ],
)
def test_deprecated_helpers_warn_and_produce_the_same_message(
    call: Any, expected: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    with pytest.warns(FutureWarning, match="deprecated"):
        call(dispatcher)
    assert dispatcher.messages == [expected]
