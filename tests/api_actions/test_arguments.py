"""Typed argument declarations, validation and CLI coercion."""

from __future__ import annotations

import pytest

from action_server.executor.arguments import (
    ArgumentError,
    ArgumentSpec,
    MissingArgumentsError,
    coerce_cli_value,
    describe_action,
    parse_argument_specs,
    validate_arguments,
)
from action_server.interfaces import Action

SPECS = [
    ArgumentSpec("order_id", "number"),
    ArgumentSpec("gift", "bool", required=False),
    ArgumentSpec("tags", "array", required=False),
    ArgumentSpec("address", "object", required=False),
    ArgumentSpec("note", "string", required=False),
]


def test_validate_coerces_unambiguous_strings() -> None:
    values = {"order_id": "12", "gift": "true", "tags": '["a"]', "address": '{"z": 1}', "note": 7.0}
    assert validate_arguments(SPECS, values) == {
        "order_id": 12,
        "gift": True,
        "tags": ["a"],
        "address": {"z": 1},
        "note": "7",
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"order_id": "abc"}, "argument 'order_id': expected number, got 'abc'"),
        ({"order_id": True}, "argument 'order_id': expected number, got True"),
        ({"order_id": 1, "gift": "yes"}, "argument 'gift': expected bool, got 'yes'"),
        ({"order_id": 1, "tags": "{}"}, "argument 'tags': expected array, got '{}'"),
        ({"order_id": 1, "note": False}, "argument 'note': expected string, got False"),
        ({"order_id": 1, "colour": "red"}, "unknown argument 'colour' (declared: address, gift"),
    ],
)
def test_validate_names_the_offending_field(values: dict, message: str) -> None:
    with pytest.raises(ArgumentError) as info:
        validate_arguments(SPECS, values)
    assert str(info.value).startswith(message)


def test_missing_arguments_are_reported_together() -> None:
    specs = [ArgumentSpec("a"), ArgumentSpec("b", "number")]
    with pytest.raises(MissingArgumentsError) as info:
        validate_arguments(specs, {"a": None})
    assert str(info.value) == "missing required arguments: 'a' (string), 'b' (number)"
    assert [s.name for s in info.value.missing] == ["a", "b"]


def test_declarations_accept_lists_and_mappings() -> None:
    assert parse_argument_specs({"n": "int", "flag": {"type": "boolean", "required": False}}) == [
        ArgumentSpec("n", "number"),
        ArgumentSpec("flag", "bool", required=False),
    ]
    assert parse_argument_specs(["x", {"name": "y", "type": "list"}]) == [
        ArgumentSpec("x"),
        ArgumentSpec("y", "array"),
    ]
    with pytest.raises(ArgumentError, match="unknown argument type 'date'"):
        parse_argument_specs({"when": "date"})


def test_cli_values_are_parsed_by_declared_type_or_by_shape() -> None:
    assert coerce_cli_value("007", ArgumentSpec("code")) == "007"
    assert coerce_cli_value("007") == 7
    assert coerce_cli_value("2.5") == 2.5
    assert coerce_cli_value("false") is False
    assert coerce_cli_value('{"a": [1]}') == {"a": [1]}
    assert coerce_cli_value("hello world") == "hello world"


def test_describe_action_of_a_class_action_with_declared_arguments() -> None:
    class ActionRefund(Action):
        """Refund an order."""

        arguments = [{"name": "order_id", "type": "number", "description": "Order"}]

        def name(self) -> str:
            return "action_refund"

    assert describe_action(ActionRefund()) == {
        "name": "action_refund",
        "kind": "class",
        "description": "Refund an order.",
        "arguments": [
            {"name": "order_id", "type": "number", "required": True, "description": "Order"}
        ],
    }
