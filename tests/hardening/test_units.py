"""Pure functions of the hardening: linear slash parsing, caller JSON, quoting, YAML bounds."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import pytest
import yaml

from action_server.config.safe_yaml import (
    MAX_ALIAS_NODES,
    YamlLimitError,
    safe_load,
)
from action_server.config.yaml_lines import YamlSyntaxError, load_yaml_document
from action_server.flows.model import FlowProject
from action_server.flows.yaml_loader import YamlSyntaxError as FlowsYamlError
from action_server.flows.yaml_loader import load_yaml
from action_server.interfaces.caller_input import JsonInputError, decode_json, quote_input
from action_server.kinds.templating import encode_path_segment
from action_server.server.logs import redact_log_text, safe_message
from action_server.understanding.slash import PayloadError, parse_payload

SHAPES: dict[str, Callable[[int], str]] = {
    "intent, spaces, junk": lambda n: "/greet" + " " * n + "x",
    "SetSlots, spaces, junk": lambda n: "/SetSlots" + " " * n + "x",
    "SetSlots, open paren": lambda n: "/SetSlots(" + "a=1," * (n // 4),
    "SetSlots, many pairs": lambda n: (
        "/SetSlots(" + ("a='" + "x, " * 30 + "'," * 1) * (n // 96) + ")"
    ),
    "SetSlots, spaces inside": lambda n: "/SetSlots(" + " " * n + "a=1)",
    "intent, open brace": lambda n: "/greet {" + " " * n,
    "long name": lambda n: "/" + "a" * n + " x",
    "many slashes": lambda n: "/" * n,
}


def _best_time(text: str, repeats: int = 5) -> float:
    project = FlowProject()
    best = float("inf")
    gc.collect()  # a collection inside one timing would look like super-linear cost
    for _ in range(repeats):
        gc.disable()
        started = time.perf_counter()
        try:
            parse_payload(text, project)
        except PayloadError:
            pass
        finally:
            best = min(best, time.perf_counter() - started)
            gc.enable()
    return max(best, 1e-4)  # below 0.1 ms (timer noise, a GC pause) every input is "instant"


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_slash_parsing_is_linear_in_the_input_length(shape: Callable[[int], str]) -> None:
    # A ratio within one run does not depend on the machine's speed: 1 MB may cost at most
    # 1,000x what 10 KB costs (linear is 100x; the old backtracking regexes, quadratic, were
    # 10,000x and took 7 s at 40 KB). Sizes grow 4x at a time so that a quadratic parser
    # fails early (16x per step once its cost is measurable) instead of running for an hour.
    times = {2_500: _best_time(shape(2_500), repeats=5)}
    before = times[2_500]
    for size in (10_000, 40_000, 160_000, 640_000, 1_000_000):
        after = times[size] = _best_time(shape(size), repeats=3)
        assert after < 0.05 or after < before * 12, (size, before, after)
        before = after
    assert times[1_000_000] < times[10_000] * 1_000, times


def test_slash_parsing_keeps_its_meaning() -> None:
    project = FlowProject()
    assert parse_payload("/SetSlots (a=1, b='x, y')  ", project) is not None
    assert parse_payload("/SetSlots now", project) is None
    assert parse_payload("/greet   {}", project) is not None
    assert parse_payload("/greet x", project) is None
    with pytest.raises(PayloadError, match="missing closing"):
        parse_payload("/SetSlots(a=1", project)
    with pytest.raises(PayloadError) as error:
        parse_payload("/SetSlots(" + "x" * 50_000 + ")", project)
    assert len(str(error.value)) < 300


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"1e999", "a number is too large to represent"),
        (b"-" + b"1" * 5000, "a number is too large to represent"),
        (b"[" * 2000 + b"]" * 2000, "JSON is nested too deeply"),
        (b'"\xff"', "text is not valid UTF-8"),
        (b'"\\udc00"', "UTF-8"),
        (b"NaN", "unexpected character"),
    ],
)
def test_decode_json_names_the_problem(data: bytes, problem: str) -> None:
    with pytest.raises(JsonInputError, match=problem):
        decode_json(data)


def test_quote_input_is_one_short_line() -> None:
    assert quote_input("ok") == "'ok'"
    quoted = quote_input("a\nb" * 1000)
    assert "\n" not in quoted and quoted.endswith("...(3000 chars)") and len(quoted) < 200
    assert len(quote_input({"k": "v" * 10_000})) < 130
    assert quote_input(5) == "'5'"


def test_log_messages_are_one_bounded_line_with_secrets_hidden() -> None:
    assert safe_message("a\nFORGED\r\x1b[31m") == "a\\nFORGED\\r\\x1b[31m"
    assert len(safe_message("x" * 1_000_000)) < 4_100
    line = "GET http://h/p?q=1&api_key=abc&token=t0k#f https://user:pw@h/"
    assert redact_log_text(line) == "GET http://h/p?q=1&api_key=***&token=***#f https://user:***@h/"


@pytest.mark.parametrize(
    ("value", "encoded"),
    [("..", "%2E%2E"), (".", "%2E"), ("...", "%2E%2E%2E"), ("a.b", "a.b"), ("../x", "..%2Fx")],
)
def test_path_arguments_are_encoded_so_dots_cannot_change_the_path(
    value: str, encoded: str
) -> None:
    assert encode_path_segment(value) == encoded


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (BILLION_LAUGHS, None, f"aliases expand to more than {MAX_ALIAS_NODES:,} extra nodes"),
        ("a: 1\nb: &s [*s]\n", 2, "an alias refers to the anchor that contains it"),
        ("a: &m {<<: *m}\n", 1, "an alias refers to the anchor that contains it"),
        ("x: " + "[" * 150 + "]" * 150 + "\n", 1, "nested more than 100 levels deep"),
        ("".join("  " * i + "-\n" for i in range(200)), 101, "nested more than 100 levels deep"),
        ("a: 1\nb: x\x00y\n", 2, "character U+0000 (NUL) is not allowed"),
        ("a: 1\n\nc: \x1b[0m\n", 3, "character U+001B (ESC) is not allowed"),
        ("a: [" + "*x, " * 2000 + "]\n", 1, "undefined alias"),
    ],
    ids=[
        "billion-laughs",
        "self-alias",
        "self-merge",
        "deep-flow",
        "deep-block",
        "nul",
        "esc",
        "undefined",
    ],
)
def test_every_yaml_loader_refuses_bombs_with_file_and_line(
    text: str, line: int | None, problem: str
) -> None:
    started = time.perf_counter()
    with pytest.raises(YamlSyntaxError) as lines_error:
        load_yaml_document(text, "f.yml")
    with pytest.raises(FlowsYamlError) as flows_error:
        load_yaml(text, "f.yml")
    with pytest.raises(yaml.YAMLError):
        safe_load(text)
    assert time.perf_counter() - started < 5
    for message in (str(lines_error.value), str(flows_error.value)):
        assert message.startswith(f"f.yml:{line}:" if line else "f.yml:"), message
        assert problem in message or "refers to an anchor" in message


def test_many_aliases_are_bounded_in_count() -> None:
    text = "a: &a 1\nb: [" + "*a, " * 1_001 + "]\n"
    with pytest.raises(YamlLimitError, match="more than 1000 aliases"):
        safe_load(text)
    assert safe_load("d: &d {k: 1}\ne: {<<: *d, j: 2}\n") == {"d": {"k": 1}, "e": {"k": 1, "j": 2}}


@pytest.mark.parametrize("yaml12", [False, True], ids=["yaml-1.1", "yaml-1.2-e2e"])
def test_a_value_no_constructor_can_build_is_an_error_at_its_line(yaml12: bool) -> None:
    # int() of more than 4,300 digits raises ValueError inside PyYAML's constructor.
    with pytest.raises(FlowsYamlError, match=r"^f\.yml:2:4: invalid YAML: cannot read this value"):
        load_yaml("a: 1\nb: " + "1" * 5000 + "\n", "f.yml", yaml12=yaml12)
    with pytest.raises(YamlSyntaxError, match=r"^f\.yml:2:4: "):
        load_yaml_document("a: 1\nb: " + "1" * 5000 + "\n", "f.yml")
