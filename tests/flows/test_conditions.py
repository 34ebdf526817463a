"""The condition language: operators, precedence, coercions and error positions."""

from __future__ import annotations

from typing import Any

import pytest

from action_server.flows.conditions import ConditionError, compile_condition


def holds(text: str, slots: dict[str, Any] | None = None, **context: Any) -> bool:
    return compile_condition(text).evaluate(slots or {}, context)


@pytest.mark.parametrize(
    ("text", "slots", "expected"),
    [
        ("slots.a = 'x'", {"a": "x"}, True),
        ('slots.a == "x"', {"a": "x"}, True),
        ("slots.a != 'x'", {"a": "y"}, True),
        ("slots.a is 'x'", {"a": "x"}, True),
        ("slots.a is not 'x'", {"a": "x"}, False),
        ("slots.a > 3", {"a": 4}, True),
        ("slots.a >= 4", {"a": 4}, True),
        ("slots.a < 4", {"a": 4}, False),
        ("slots.a <= 4", {"a": 4}, True),
        ("slots.a > slots.b", {"a": 5, "b": 2}, True),
        ("slots.a = slots.b", {"a": "q", "b": "q"}, True),
    ],
)
def test_comparison_operators(text: str, slots: dict[str, Any], expected: bool) -> None:
    assert holds(text, slots) is expected


def test_numeric_strings_compare_as_numbers() -> None:
    assert holds("slots.party_size > 12", {"party_size": "13"})
    assert holds("slots.party_size = 4", {"party_size": "4.0"})
    assert not holds("slots.party_size > 12", {"party_size": "9"})


def test_string_equality_is_case_sensitive() -> None:
    assert not holds("slots.cuisine = 'Italian'", {"cuisine": "italian"})


def test_boolean_equals_true_false_strings() -> None:
    assert holds("slots.ok = true", {"ok": True})
    assert holds("slots.ok = true", {"ok": "True"})
    assert holds("slots.ok is false", {"ok": "false"})
    assert not holds("slots.ok = true", {"ok": 1})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (False, False),
        ("false", False),
        ("False", False),
        ("", False),
        (0, False),
        ([], False),
        (True, True),
        ("yes", True),
        (3, True),
        (["a"], True),
    ],
)
def test_bare_slot_is_truthy_when_set_and_not_false(value: Any, expected: bool) -> None:
    assert holds("slots.flag", {"flag": value}) is expected


def test_missing_slot_is_null_and_orders_false() -> None:
    assert holds("slots.nope is null")
    assert holds("slots.nope = undefined")
    assert holds("slots.nope is empty")
    assert not holds("slots.nope > 1")
    assert not holds("slots.nope < 1")


def test_empty_matches_empty_values() -> None:
    assert holds("slots.a is empty", {"a": ""})
    assert holds("slots.a is empty", {"a": []})
    assert not holds("slots.a is empty", {"a": "x"})


def test_contains_on_sets_lists_and_strings() -> None:
    assert holds("{'WARN' 'ERR' 'CRIT'} contains slots.level", {"level": "ERR"})
    assert holds("{'WARN', 'ERR'} contains slots.level", {"level": "WARN"})
    assert not holds("{'WARN' 'ERR'} contains slots.level", {"level": "INFO"})
    assert holds("slots.tags contains 'vip'", {"tags": ["new", "vip"]})
    assert holds("slots.product contains 'Rasa'", {"product": "Rasa Pro"})
    assert not holds("slots.product contains 'rasa'", {"product": "Rasa Pro"})
    assert holds("{1 2 3} contains slots.n", {"n": "2"})


def test_matches_uses_a_regex_compiled_at_load_time() -> None:
    zipcode = compile_condition(r'slots.zip matches "^[0-9]{5}(-[0-9]{4})?$"')
    assert zipcode.evaluate({"zip": "12345"}, {})
    assert not zipcode.evaluate({"zip": "1234"}, {})
    assert not zipcode.evaluate({"zip": None}, {})
    assert holds("slots.name matches '(?i)^ann'", {"name": "ANNA"})


def test_context_references() -> None:
    assert holds("context.channel = 'voice'", channel="voice")
    assert holds("context.user.tier = 'gold'", user={"tier": "gold"})
    assert holds("context.missing is null")


def test_precedence_not_binds_a_comparison_and_and_binds_tighter_than_or() -> None:
    assert holds("not slots.a = 1", {"a": 2})
    assert holds("slots.a = 1 or slots.b = 1 and slots.c = 1", {"a": 1, "b": 0, "c": 0})
    assert not holds("(slots.a = 1 or slots.b = 1) and slots.c = 1", {"a": 1, "b": 0, "c": 0})
    assert holds("not not slots.a", {"a": True})
    assert holds("slots.a > 0 and not (slots.b or slots.c)", {"a": 1})


def test_literals_true_false_null_numbers_and_bare_words() -> None:
    assert holds("true")
    assert not holds("false")
    assert not holds("null")
    assert holds("slots.t = -1.5", {"t": -1.5})
    assert holds("slots.cuisine = italian", {"cuisine": "italian"})
    assert holds("TRUE")


def test_yaml_booleans_compile() -> None:
    assert compile_condition(True).evaluate({}, {})
    assert not compile_condition(False).evaluate({}, {})


def test_slot_names_are_collected() -> None:
    condition = compile_condition("slots.a > slots.b or context.c or slots.d.e")
    assert condition.slot_names == frozenset({"a", "b", "d"})


def test_evaluate_never_raises_for_odd_slot_values() -> None:
    condition = compile_condition("slots.a > 3 and slots.a contains 'x' and slots.a matches 'x'")
    for value in (None, {"k": 1}, [1, 2], object(), 3.5, True):
        condition.evaluate({"a": value}, {})


@pytest.mark.parametrize(
    ("text", "offset", "reason"),
    [
        ("slots.a >", 9, "expected a value, found end of condition"),
        ("slots.a = 'x", 10, "unterminated string"),
        ("slots.a ~ 1", 8, "unexpected character '~'"),
        ("(slots.a = 1", 12, "expected ')'"),
        ("slots.a = 1 slots.b", 12, "unexpected 'slots.b'"),
        ("slots.a matches 1", 16, "'matches' needs a quoted regular expression"),
        ("slots.a matches '(x'", 16, "invalid regular expression"),
        ("slots = 1", 0, "'slots' needs a name"),
        ("", 0, "empty condition"),
        ("slots.a and or slots.b", 12, "expected a value, found keyword 'or'"),
    ],
)
def test_syntax_errors_name_the_column(text: str, offset: int, reason: str) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(text)
    assert caught.value.offset == offset
    assert reason in caught.value.reason
    assert f"column {offset + 1}" in str(caught.value)


def test_context_templates_fill_in_when_evaluated() -> None:
    """Rasa's patterns write `slots.{{context.collect}} is not null`."""
    condition = compile_condition("slots.{{context.collect}} is not null")
    assert condition.slot_names == frozenset()
    assert condition.evaluate({"amount": 3}, {"collect": "amount"}) is True
    assert condition.evaluate({"amount": None}, {"collect": "amount"}) is False
    assert condition.evaluate({}, {}) is False  # renders to an invalid condition: false
