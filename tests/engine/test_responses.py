"""Rendering domain responses: variation choice, conditions, interpolation."""

from __future__ import annotations

from action_server.dialogue.responses import interpolate, render_response
from action_server.flows.model import Domain


def domain() -> Domain:
    return Domain(
        responses={
            "utter_greet": [
                {"text": "Hello {name}!", "buttons": [{"title": "Hi {name}", "payload": "/hi"}]},
                {"text": "second variation"},
                {
                    "condition": [{"type": "slot", "name": "vip", "value": True}],
                    "text": "Welcome back, dear {name}",
                },
                {"channel": "voice", "text": "voice only"},
            ],
            "utter_pic": [{"image": "https://x/{name}.png", "custom": {"who": "{name}"}}],
        }
    )


def test_first_unconditional_variation_is_chosen_with_slots_interpolated() -> None:
    message = render_response("utter_greet", domain(), {"name": "Ada", "vip": False})
    assert message == {
        "text": "Hello Ada!",
        "buttons": [{"title": "Hi Ada", "payload": "/hi"}],
    }


def test_matching_conditional_variation_takes_precedence() -> None:
    message = render_response("utter_greet", domain(), {"name": "Ada", "vip": True})
    assert message == {"text": "Welcome back, dear Ada"}


def test_channel_specific_variation_wins_only_on_that_channel() -> None:
    assert render_response("utter_greet", domain(), {}, channel="voice") == {"text": "voice only"}
    message = render_response("utter_greet", domain(), {"name": "x"}, channel="web")
    assert message is not None and message["text"] == "Hello x!"


def test_image_and_custom_payloads_are_interpolated() -> None:
    message = render_response("utter_pic", domain(), {"name": "ada"})
    assert message == {"image": "https://x/ada.png", "custom": {"who": "ada"}}


def test_unknown_placeholders_stay_and_none_renders_like_rasa() -> None:
    assert interpolate("{known} {unknown}", {"known": None}) == "None {unknown}"


def test_extra_values_override_slots() -> None:
    message = render_response("utter_pic", domain(), {"name": "slot"}, extra={"name": "extra"})
    assert message is not None and message["custom"] == {"who": "extra"}


def test_unknown_response_renders_nothing() -> None:
    assert render_response("utter_missing", domain(), {}) is None


def test_values_render_with_str_as_in_rasa() -> None:
    assert interpolate("{n} and {m} and {x}", {"n": 4.0, "m": 2.5, "x": None}) == (
        "4.0 and 2.5 and None"
    )


def test_context_placeholders_fill_from_a_pattern_context() -> None:
    text = "Stopped {{context.canceled_name}} at {time} ({{ context.missing }})"
    assert interpolate(text, {"time": "9"}, {"canceled_name": "booking"}) == (
        "Stopped booking at 9 ({{ context.missing }})"
    )


def test_jinja_variations_render_like_rasa_pattern_responses() -> None:
    from action_server.flows.model import Domain

    domain = Domain(
        responses={
            "utter_corrected_previous_input": [
                {
                    "text": "Updating {{ context.corrected_slots.keys()|join(', ') }} to "
                    "{{ context.new_slot_values | join(', ') }} for {{ name }}.",
                    "metadata": {"rephrase": True, "template": "jinja"},
                }
            ],
            "utter_broken": [{"text": "{{ oops", "metadata": {"template": "jinja"}}],
            "utter_sandboxed": [
                {"text": "{{ ''.__class__.__mro__ }}", "metadata": {"template": "jinja"}}
            ],
        }
    )
    context = {"corrected_slots": {"a": 1, "b": 2}, "new_slot_values": [1, 2]}
    message = render_response(
        "utter_corrected_previous_input", domain, {"name": "Ann"}, context=context
    )
    assert message == {"text": "Updating a, b to 1, 2 for Ann."}
    assert render_response("utter_broken", domain, {}) == {"text": "{{ oops"}
    sandboxed = render_response("utter_sandboxed", domain, {})
    assert sandboxed is not None and "object" not in str(sandboxed["text"])
