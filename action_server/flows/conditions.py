"""The condition language of flows (``if:``, ``rejections``, flow guards), without ``eval``.

A small tokenizer + recursive-descent parser compiles a condition once, at load time, into a
tree of nodes; evaluating it later only walks the tree. The language follows Rasa's
(pypred-based) conditions:

- references: ``slots.<name>`` and ``context.<name>`` (dotted paths reach into dicts);
- literals: strings in single or double quotes, numbers (``42``, ``-1.5``), ``true``,
  ``false``, ``null``, ``undefined``, ``empty`` (keywords are case-insensitive), and sets
  ``{'a' 'b'}`` (items separated by spaces or commas); any other bare word is a string
  literal, as in pypred (``slots.cuisine = italian``);
- operators: ``not``; ``=``, ``==``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``is``,
  ``is not``, ``contains``, ``matches``; ``and``; ``or``; parentheses.

Precedence, tightest first: comparison, ``not``, ``and``, ``or`` - so ``not slots.a = 1``
means ``not (slots.a = 1)``, as in pypred.

Decisions where Rasa/pypred is vague:
- A missing slot, ``null`` and ``undefined`` are all ``None`` (Rasa stores unset slots as
  None, so ``slots.x is null`` works for them); ``empty`` equals None, ``""``, ``[]``, ``{}``.
- ``is``/``is not`` are the same as ``=``/``!=`` (pypred's meaning, not Python identity).
- Equality is case-sensitive for strings, like pypred. Numbers and numeric strings compare
  as numbers (``slots.party_size = 4`` holds for ``"4"`` and ``4.0``); a boolean equals the
  strings ``"true"``/``"false"`` case-insensitively.
- Ordering (``<`` ...) compares numbers (or numeric strings) numerically, two strings
  lexicographically, and is false for anything else (e.g. an unset slot).
- A bare operand used as a condition is truthy unless it is None, False, 0, empty, or the
  string ``"false"`` (any case).
- ``contains``: membership for lists/sets/dict keys, substring (case-sensitive) for strings.
- ``matches`` takes a quoted regular expression on its right, compiled at load time, and
  matches from the start of the value (``re.match``), like pypred; use ``(?i)`` for
  case-insensitive matching.
- ``{{context.name}}`` inside a condition (Rasa's patterns write ``slots.{{context.collect}}
  is not null``) is filled from the frame's context when the condition is evaluated; the text
  is checked at load time with a placeholder in its place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from action_server.flows.source import SourceRef

__all__ = ["Condition", "ConditionError", "as_number", "compile_condition", "is_truthy"]


class ConditionError(ValueError):
    """A condition that does not parse; ``offset`` is the 0-based index in the text."""

    def __init__(self, message: str, text: str, offset: int) -> None:
        self.reason = message
        self.text = text
        self.offset = offset
        super().__init__(f"{message} at column {offset + 1} of condition {text!r}")


# --- values -------------------------------------------------------------------------------


class _Empty:
    """The ``empty`` constant: equal to None, "", [], {} and empty sets."""

    def __repr__(self) -> str:
        return "empty"


EMPTY = _Empty()


def is_truthy(value: Any) -> bool:
    """Truthiness of a bare value in a condition (see module docstring)."""
    if value is None or value is False or isinstance(value, _Empty):
        return False
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false")
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return len(value) > 0
    return True


def as_number(value: Any) -> float | None:
    """A number, or a string holding one, as float; None for anything else (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _is_empty_value(value: Any) -> bool:
    return value is None or (
        isinstance(value, (str, list, tuple, set, frozenset, dict)) and not value
    )


def values_equal(left: Any, right: Any) -> bool:
    """Equality with Rasa's coercions (see module docstring)."""
    if isinstance(left, _Empty) or isinstance(right, _Empty):
        other = right if isinstance(left, _Empty) else left
        return isinstance(other, _Empty) or _is_empty_value(other)
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(left, bool) and isinstance(right, bool):
            return left is right
        flag, other = (left, right) if isinstance(left, bool) else (right, left)
        if isinstance(other, str):
            return other.strip().lower() == ("true" if flag else "false")
        return False
    if left == right:
        return True
    a, b = as_number(left), as_number(right)
    if a is not None and b is not None:
        return a == b
    return False


def _order(op: str, left: Any, right: Any) -> bool:
    a, b = as_number(left), as_number(right)
    if a is not None and b is not None:
        pair: tuple[Any, Any] = (a, b)
    elif isinstance(left, str) and isinstance(right, str):
        pair = (left, right)
    else:
        return False
    x, y = pair
    if op == ">":
        return bool(x > y)
    if op == ">=":
        return bool(x >= y)
    if op == "<":
        return bool(x < y)
    return bool(x <= y)


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, (list, tuple, set, frozenset)):
        return any(values_equal(member, item) for member in container)
    if isinstance(container, dict):
        return item in container
    if isinstance(container, str) and item is not None and not isinstance(item, _Empty):
        return str(item) in container
    return False


# --- tree ---------------------------------------------------------------------------------

Env = tuple[Mapping[str, Any], Mapping[str, Any]]  # (slots, context)


class _Node:
    def value(self, env: Env) -> Any:
        raise NotImplementedError

    def truth(self, env: Env) -> bool:
        return is_truthy(self.value(env))


@dataclass
class _Literal(_Node):
    literal: Any

    def value(self, env: Env) -> Any:
        return self.literal


@dataclass
class _SetLiteral(_Node):
    items: list[_Node]

    def value(self, env: Env) -> Any:
        return [item.value(env) for item in self.items]


@dataclass
class _Ref(_Node):
    namespace: str  # "slots" or "context"
    path: tuple[str, ...]

    def value(self, env: Env) -> Any:
        current: Any = env[0] if self.namespace == "slots" else env[1]
        for key in self.path:
            if isinstance(current, Mapping):
                current = current.get(key)
            else:
                current = getattr(current, key, None)
            if current is None:
                return None
        return current


@dataclass
class _Compare(_Node):
    op: str
    left: _Node
    right: _Node

    def value(self, env: Env) -> Any:
        return self.truth(env)

    def truth(self, env: Env) -> bool:
        a, b = self.left.value(env), self.right.value(env)
        if self.op in ("=", "==", "is"):
            return values_equal(a, b)
        if self.op in ("!=", "is not"):
            return not values_equal(a, b)
        if self.op == "contains":
            return _contains(a, b)
        return _order(self.op, a, b)


@dataclass
class _Matches(_Node):
    left: _Node
    pattern: re.Pattern[str]

    def value(self, env: Env) -> Any:
        return self.truth(env)

    def truth(self, env: Env) -> bool:
        subject = self.left.value(env)
        if subject is None or isinstance(subject, _Empty):
            return False
        return self.pattern.match(str(subject)) is not None


@dataclass
class _Not(_Node):
    operand: _Node

    def value(self, env: Env) -> Any:
        return self.truth(env)

    def truth(self, env: Env) -> bool:
        return not self.operand.truth(env)


@dataclass
class _Logic(_Node):
    op: str  # "and" | "or"
    operands: list[_Node]

    def value(self, env: Env) -> Any:
        return self.truth(env)

    def truth(self, env: Env) -> bool:
        if self.op == "and":
            return all(node.truth(env) for node in self.operands)
        return any(node.truth(env) for node in self.operands)


# --- tokenizer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # STRING NUMBER WORD OP EOF
    text: str
    offset: int
    value: Any = None


_KEYWORDS = frozenset(
    {"and", "or", "not", "is", "contains", "matches", "true", "false", "null", "undefined", "empty"}
)
_OPERATORS = ("==", "!=", ">=", "<=", "=", ">", "<", "(", ")", "{", "}", ",")
_NUMBER = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "'\"":
            start, i = i, i + 1
            chars: list[str] = []
            while i < n and text[i] != ch:
                if text[i] == "\\" and i + 1 < n:
                    nxt = text[i + 1]
                    # keep backslashes for regexes; only unescape the quote and backslash
                    chars.append(nxt if nxt in (ch, "\\") else "\\" + nxt)
                    i += 2
                    continue
                chars.append(text[i])
                i += 1
            if i >= n:
                raise ConditionError("unterminated string", text, start)
            i += 1
            tokens.append(_Token("STRING", text[start:i], start, "".join(chars)))
            continue
        number = _NUMBER.match(text, i)
        if number and (ch != "-" or not tokens or tokens[-1].kind == "OP"):
            raw = number.group()
            parsed: float | int = int(raw) if re.fullmatch(r"-?\d+", raw) else float(raw)
            tokens.append(_Token("NUMBER", raw, i, parsed))
            i = number.end()
            continue
        word = _WORD.match(text, i)
        if word:
            tokens.append(_Token("WORD", word.group(), i))
            i = word.end()
            continue
        for op in _OPERATORS:
            if text.startswith(op, i):
                tokens.append(_Token("OP", op, i))
                i += len(op)
                break
        else:
            raise ConditionError(f"unexpected character {ch!r}", text, i)
    tokens.append(_Token("EOF", "", n))
    return tokens


# --- parser -------------------------------------------------------------------------------

_COMPARISON_OPS = frozenset({"=", "==", "!=", ">", ">=", "<", "<="})


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.slot_refs: list[tuple[str, int]] = []

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def is_word(self, token: _Token, word: str) -> bool:
        return token.kind == "WORD" and token.text.lower() == word

    def error(self, message: str, token: _Token) -> ConditionError:
        return ConditionError(message, self.text, token.offset)

    def parse(self) -> _Node:
        if self.peek().kind == "EOF":
            raise self.error("empty condition", self.peek())
        node = self.parse_or()
        token = self.peek()
        if token.kind != "EOF":
            raise self.error(f"unexpected {self.describe(token)}", token)
        return node

    def describe(self, token: _Token) -> str:
        return "end of condition" if token.kind == "EOF" else repr(token.text)

    def parse_or(self) -> _Node:
        operands = [self.parse_and()]
        while self.is_word(self.peek(), "or"):
            self.advance()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else _Logic("or", operands)

    def parse_and(self) -> _Node:
        operands = [self.parse_not()]
        while self.is_word(self.peek(), "and"):
            self.advance()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else _Logic("and", operands)

    def parse_not(self) -> _Node:
        if self.is_word(self.peek(), "not"):
            self.advance()
            return _Not(self.parse_not())
        return self.parse_comparison()

    def parse_comparison(self) -> _Node:
        left = self.parse_operand()
        token = self.peek()
        if token.kind == "OP" and token.text in _COMPARISON_OPS:
            self.advance()
            return _Compare(token.text, left, self.parse_operand())
        if self.is_word(token, "is"):
            self.advance()
            op = "is"
            if self.is_word(self.peek(), "not"):
                self.advance()
                op = "is not"
            return _Compare(op, left, self.parse_operand())
        if self.is_word(token, "contains"):
            self.advance()
            return _Compare("contains", left, self.parse_operand())
        if self.is_word(token, "matches"):
            self.advance()
            pattern_token = self.peek()
            if pattern_token.kind != "STRING":
                raise self.error(
                    "'matches' needs a quoted regular expression on its right", pattern_token
                )
            self.advance()
            try:
                pattern = re.compile(pattern_token.value)
            except re.error as exc:
                raise self.error(f"invalid regular expression: {exc}", pattern_token) from None
            return _Matches(left, pattern)
        return left

    def parse_operand(self) -> _Node:
        token = self.advance()
        if token.kind == "STRING" or token.kind == "NUMBER":
            return _Literal(token.value)
        if token.kind == "OP" and token.text == "(":
            node = self.parse_or()
            closing = self.advance()
            if closing.kind != "OP" or closing.text != ")":
                raise self.error(
                    f"expected ')' to close '(' at column {token.offset + 1}, "
                    f"found {self.describe(closing)}",
                    closing,
                )
            return node
        if token.kind == "OP" and token.text == "{":
            return self.parse_set(token)
        if token.kind == "WORD":
            return self.parse_word(token)
        raise self.error(f"expected a value, found {self.describe(token)}", token)

    def parse_set(self, opening: _Token) -> _Node:
        items: list[_Node] = []
        while True:
            token = self.peek()
            if token.kind == "OP" and token.text == "}":
                self.advance()
                return _SetLiteral(items)
            if token.kind == "OP" and token.text == ",":
                self.advance()
                continue
            if token.kind == "EOF":
                raise self.error(
                    f"expected '}}' to close '{{' at column {opening.offset + 1}", token
                )
            items.append(self.parse_operand())

    def parse_word(self, token: _Token) -> _Node:
        lowered = token.text.lower()
        if lowered in ("true", "false"):
            return _Literal(lowered == "true")
        if lowered in ("null", "undefined"):
            return _Literal(None)
        if lowered == "empty":
            return _Literal(EMPTY)
        if lowered in _KEYWORDS:
            raise self.error(f"expected a value, found keyword {token.text!r}", token)
        head, _, rest = token.text.partition(".")
        if head in ("slots", "context"):
            if not rest:
                raise self.error(f"'{head}' needs a name, like '{head}.name'", token)
            path = tuple(rest.split("."))
            if head == "slots":
                self.slot_refs.append((path[0], token.offset))
            return _Ref(head, path)
        return _Literal(token.text)  # a bare word is a string, as in pypred


# --- templated conditions -------------------------------------------------------------------

_TEMPLATE = re.compile(r"\{\{\s*context\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_PLACEHOLDER_NAME = "context_template_value"


@dataclass
class _Templated(_Node):
    """A condition with ``{{context.x}}`` parts, compiled once per rendered text."""

    text: str

    def value(self, env: Env) -> Any:
        return self.truth(env)

    def truth(self, env: Env) -> bool:
        context = env[1]
        rendered = _TEMPLATE.sub(lambda m: str(context.get(m.group(1), "")), self.text)
        try:
            return _compiled(rendered).truth(env)
        except ConditionError:
            return False


@lru_cache(maxsize=512)
def _compiled(text: str) -> _Node:
    return _Parser(text).parse()


# --- public -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Condition:
    """A compiled condition. ``evaluate`` never raises for any slot values."""

    text: str
    slot_names: frozenset[str]
    slot_refs: tuple[tuple[str, int], ...]  # (slot name, 0-based offset in text)
    _root: _Node
    source: SourceRef | None = None
    slot_sources: tuple[tuple[str, SourceRef], ...] = ()  # (slot name, file position)

    def slot_source(self, name: str) -> SourceRef | None:
        """Where ``slots.<name>`` first appears in the file, else the condition's start."""
        for slot, where in self.slot_sources:
            if slot == name:
                return where
        return self.source

    def evaluate(self, slots: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> bool:
        return self._root.truth((slots, context or {}))

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"


def compile_condition(
    text: Any,
    source: SourceRef | None = None,
    locate: Callable[[int], SourceRef] | None = None,
) -> Condition:
    """Compile condition text (YAML may give a bool or number); raises ConditionError.

    ``locate`` maps a 0-based offset in the text to its file position, so validation can
    point at the ``slots.x`` token itself rather than at the start of the condition.
    """
    if isinstance(text, bool):
        text = "true" if text else "false"
    elif isinstance(text, (int, float)):
        text = str(text)
    if not isinstance(text, str):
        raise ConditionError(f"a condition must be text, not {type(text).__name__}", "", 0)
    templated = _TEMPLATE.search(text) is not None
    parser = _Parser(_TEMPLATE.sub(_PLACEHOLDER_NAME, text) if templated else text)
    root: _Node = parser.parse()
    refs = tuple(parser.slot_refs)
    if templated:  # offsets moved with the placeholder: point at the condition itself
        root = _Templated(text)
        refs = tuple((name, 0) for name, _ in refs if name != _PLACEHOLDER_NAME)
    return Condition(
        text=text,
        slot_names=frozenset(name for name, _ in refs),
        slot_refs=refs,
        _root=root,
        source=source,
        slot_sources=tuple((name, locate(offset)) for name, offset in refs) if locate else (),
    )
