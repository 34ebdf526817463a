"""Domain parsing (slots, responses, actions, intents) and slot value coercion."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_server.flows.loader import load_project
from action_server.flows.model import SlotDefinition

from .helpers import write

DOMAIN = """
version: "3.1"
intents:
  - greet
  - inform: {use_entities: [city]}
entities: [city]
slots:
  name:
    type: text
    mappings: [{type: from_llm}]
  size:
    type: float
    initial_value: "2"
    min_value: 1
    max_value: 12
  ok:
    type: bool
    influence_conversation: true
  cuisine:
    type: categorical
    values: [Italian, japanese]
  tags:
    type: list
  blob:
    type: any
responses:
  utter_greet:
    - text: "Hi {name}"
    - text: "Hello {name}"
      condition:
        - type: slot
          name: ok
          value: true
  utter_pick:
    - text: Pick one
      buttons:
        - title: Italian
          payload: /SetSlots(cuisine=italian)
      image: https://example.com/x.png
  utter_custom:
    - custom: {kind: card}
actions:
  - action_one
  - action_two: {send_domain: true}
forms:
  booking_form:
    required_slots: [name]
session_config:
  session_expiration_time: 60
"""


def load_domain(tmp_path: Path, text: str = DOMAIN):
    write(tmp_path, "domain.yml", text)
    return load_project([tmp_path], with_defaults=False)


def test_domain_sections_are_parsed(tmp_path: Path) -> None:
    result = load_domain(tmp_path)
    assert result.issues == []
    domain = result.project.domain
    assert domain.intents == ["greet", "inform"]
    assert domain.entities == ["city"]
    assert list(domain.slots) == ["name", "size", "ok", "cuisine", "tags", "blob"]
    assert domain.actions == ["action_one", "action_two"]
    assert domain.forms == {"booking_form": {"required_slots": ["name"]}}
    assert domain.session_config == {"session_expiration_time": 60}
    assert len(domain.responses["utter_greet"]) == 2
    assert domain.responses["utter_greet"][1]["condition"][0]["name"] == "ok"
    assert (
        domain.responses["utter_pick"][0]["buttons"][0]["payload"] == "/SetSlots(cuisine=italian)"
    )
    assert domain.responses["utter_custom"] == [{"custom": {"kind": "card"}}]


def test_slot_definitions(tmp_path: Path) -> None:
    slots = load_domain(tmp_path).project.domain.slots
    assert slots["size"].initial_value == 2.0  # coerced from "2"
    assert (slots["size"].min_value, slots["size"].max_value) == (1.0, 12.0)
    assert slots["ok"].influence_conversation is True
    assert slots["cuisine"].values == ["Italian", "japanese"]
    assert slots["name"].mappings == [{"type": "from_llm"}]
    assert slots["name"].source is not None and slots["name"].source.line == 7


def test_initial_slots_and_rasa_domain_dict(tmp_path: Path) -> None:
    domain = load_domain(tmp_path).project.domain
    assert domain.initial_slots()["size"] == 2.0
    assert domain.initial_slots()["name"] is None
    as_dict = domain.to_dict()
    assert as_dict["slots"]["cuisine"]["values"] == ["Italian", "japanese"]
    assert as_dict["actions"] == ["action_one", "action_two"]
    assert set(as_dict) >= {"intents", "entities", "slots", "responses", "actions", "forms"}


@pytest.mark.parametrize(
    ("slot_type", "value", "expected"),
    [
        ("bool", "true", True),
        ("bool", "Yes", True),
        ("bool", "no", False),
        ("bool", "FALSE", False),
        ("bool", 1, True),
        ("float", "4", 4.0),
        ("float", 3, 3.0),
        ("float", " 2.5 ", 2.5),
        ("text", 42, "42"),
        ("list", "a", ["a"]),
        ("list", ["a", "b"], ["a", "b"]),
        ("any", {"k": 1}, {"k": 1}),
        ("text", None, None),
    ],
)
def test_slot_coercion(slot_type: str, value: object, expected: object) -> None:
    assert SlotDefinition("s", slot_type).coerce(value) == expected


def test_categorical_matches_case_insensitively_and_returns_declared_value() -> None:
    slot = SlotDefinition("cuisine", "categorical", values=["Italian", "japanese"])
    assert slot.coerce("italian") == "Italian"
    assert slot.coerce("JAPANESE") == "japanese"


@pytest.mark.parametrize(
    ("slot", "value", "message"),
    [
        (SlotDefinition("ok", "bool"), "maybe", "slot 'ok' (bool) cannot take 'maybe'"),
        (SlotDefinition("n", "float"), "many", "slot 'n' (float) cannot take 'many': not a number"),
        (SlotDefinition("n", "float"), True, "slot 'n' (float) cannot take a boolean"),
        (
            SlotDefinition("c", "categorical", values=["a", "b"]),
            "z",
            "slot 'c' (categorical) cannot take 'z': allowed values are 'a', 'b'",
        ),
        (SlotDefinition("t", "text"), {"a": 1}, "slot 't' (text) cannot take a dict"),
    ],
)
def test_slot_coercion_errors_name_slot_and_value(
    slot: SlotDefinition, value: object, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        slot.coerce(value)
    assert message in str(caught.value)


def test_domain_errors_are_reported_with_positions(tmp_path: Path) -> None:
    result = load_domain(
        tmp_path,
        """
        slots:
          a:
            type: colour
          b:
            type: categorical
          c:
            mappings: []
          d:
            type: bool
            initial_value: perhaps
          e: just text
        responses:
          utter_x: hello
          utter_y:
            - just a string
        actions:
          - [nested]
        """,
    )
    found = [(i.line, i.message) for i in result.issues]
    assert found == [
        (
            3,
            "slot 'a' has unknown type 'colour' (expected one of text, bool, float, "
            "categorical, list, any)",
        ),
        (4, "categorical slot 'b' needs a non-empty list of 'values'"),
        (6, "slot 'c' has no 'type'"),
        (10, "initial_value: slot 'd' (bool) cannot take 'perhaps': use true/false (or yes/no)"),
        (11, "slot 'e' must be a mapping, found text"),
        (
            13,
            "response 'utter_x' must be a non-empty list of variations (like '- text: ...'), "
            "found text",
        ),
        (
            15,
            "response 'utter_y': each variation must be a mapping (like '- text: ...'), found text",
        ),
        (17, "'actions' items must be names or one-key mappings, found a list"),
    ]
    assert all(i.file.endswith("domain.yml") for i in result.issues)


def test_duplicate_slot_or_response_across_files_names_both_places(tmp_path: Path) -> None:
    write(
        tmp_path, "a.yml", "slots:\n  x:\n    type: text\nresponses:\n  utter_r:\n    - text: a\n"
    )
    write(
        tmp_path, "b.yml", "slots:\n  x:\n    type: bool\nresponses:\n  utter_r:\n    - text: b\n"
    )
    result = load_project([tmp_path])
    messages = [str(i) for i in result.issues]
    assert len(messages) == 2
    assert messages[0].startswith(f"{tmp_path / 'b.yml'}:2:3: slot 'x' is defined twice")
    assert f"first defined at {tmp_path / 'a.yml'}:2:3" in messages[0]
    assert "response 'utter_r' is defined twice" in messages[1]
    assert result.project.domain.slots["x"].type == "text"  # the first one wins
