"""What callers send us: JSON decoded with every failure as one sentence, values quoted short.

Every route and channel decodes request JSON with `decode_json`, so a huge number (`1e999`),
nesting deeper than the interpreter's stack, invalid UTF-8 or a lone surrogate is a
`JsonInputError` naming the problem (a 400), never an exception that escapes as a 500.
`quote_input` is how an error message or a log line repeats a caller's value: quoted,
escaped (no newline can forge a log line) and cut to at most ~100 characters.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = [
    "INPUT_QUOTE_LIMIT",
    "JsonInputError",
    "decode_json",
    "json_problem",
    "quote_input",
    "show_input",
]

# The most characters of a caller's value that an error message or a log line repeats.
INPUT_QUOTE_LIMIT = 100


class JsonInputError(ValueError):
    """The JSON a caller sent cannot be decoded; the message names the problem, not the body."""


def json_problem(exc: BaseException) -> str:
    """A decoder's failure as a sentence (orjson's and msgspec's errors, RecursionError)."""
    if isinstance(exc, RecursionError):
        return "JSON is nested too deeply"
    text = str(exc)
    problem, sep, position = text.partition(": line ")
    where = f" at line {position}" if sep else ""
    if "depth limit" in problem or "recursion" in problem.lower():
        return f"JSON is nested too deeply{where}"
    if "infinity" in problem or "out of range" in problem:
        return f"a number is too large to represent{where}"
    if "UTF-8" in problem or "surrogate" in problem:
        return f"text is not valid UTF-8 ({problem.split(':', 1)[0]}){where}"
    return text or type(exc).__name__


def decode_json(data: bytes | bytearray | memoryview | str) -> Any:
    """`orjson.loads` whose every failure is a `JsonInputError` (orjson rejects `NaN`, numbers
    beyond a double and invalid UTF-8 itself; nesting is bounded by the recursion limit)."""
    try:
        return orjson.loads(data)
    except (orjson.JSONDecodeError, RecursionError) as exc:
        raise JsonInputError(json_problem(exc)) from None


def quote_input(value: Any, limit: int = INPUT_QUOTE_LIMIT) -> str:
    """`value` quoted for a message: repr-escaped (so one line, ASCII-safe), at most `limit`
    characters of it, and `...(N chars)` when it was cut."""
    text = value if isinstance(value, str) else _compact(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}...({len(text)} chars)"


def show_input(text: str, limit: int = INPUT_QUOTE_LIMIT) -> str:
    """``text`` as is when it is short and printable (a name), else ``quote_input(text)``."""
    return text if len(text) <= limit and text.isprintable() else quote_input(text, limit)


def _compact(value: Any) -> str:
    if isinstance(value, (dict, list)):
        try:
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
        except (TypeError, orjson.JSONEncodeError):
            return f"<{type(value).__name__}>"
    try:
        return str(value)
    except ValueError:  # an int beyond Python's digit limit
        return f"<{type(value).__name__}>"
