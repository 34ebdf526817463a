"""The one YAML loader for every file we read: PyYAML's safe loader, with bounds.

PyYAML's safe loader refuses arbitrary objects but not documents built to exhaust us: a
330-byte "billion laughs" file (anchors aliasing anchors) expands to billions of nodes for
anything that walks it, a self-referencing anchor (``&a [*a]``) never ends, 1,000 levels
of nesting raise RecursionError, and a control character raises a ReaderError before any
``try`` around parsing. Here each becomes a ``YamlLimitError`` (a ``yaml.MarkedYAMLError``,
so every existing handler reports it with file, line and column):

- control characters and NUL: refused with their line before parsing;
- nesting: at most ``MAX_DEPTH`` levels;
- aliases: at most ``MAX_ALIASES``, and together they may add at most ``MAX_ALIAS_NODES``
  nodes to the document once expanded; an anchor that contains itself is refused.

Use ``composed`` for the node tree (the loaders that keep line numbers) or ``safe_load``
for plain data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

__all__ = [
    "MAX_ALIASES",
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "BoundedSafeLoader",
    "YamlLimitError",
    "check_characters",
    "composed",
    "safe_load",
]

MAX_DEPTH = 100
MAX_ALIASES = 1_000
MAX_ALIAS_NODES = 100_000

# What YAML 1.1/1.2 allow in a stream (PyYAML's own Reader.NON_PRINTABLE).
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_NAMES = {0: "NUL", 0x1B: "ESC", 0x7F: "DEL"}


class YamlLimitError(yaml.MarkedYAMLError):
    """The document breaks one of the bounds above; ``problem_mark`` says where."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem=problem, problem_mark=mark)


def _mark(text: str, index: int) -> yaml.Mark:
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    return yaml.Mark("<yaml>", index, line, column, None, None)  # type: ignore[arg-type]


def check_characters(text: str) -> None:
    """Raise ``YamlLimitError`` at the first character YAML does not allow (NUL, ESC, ...)."""
    found = _NON_PRINTABLE.search(text)
    if found is None:
        return
    code = ord(found.group())
    name = _NAMES.get(code, "a control character" if code < 0x20 or 0x7F <= code < 0xA0 else "")
    what = f"U+{code:04X}" + (f" ({name})" if name else "")
    raise YamlLimitError(f"character {what} is not allowed in YAML", _mark(text, found.start()))


class BoundedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose composer counts depth and aliases (see the module doc)."""

    def __init__(self, stream: str) -> None:
        check_characters(stream)
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise YamlLimitError(f"more than {MAX_ALIASES} aliases ('*name')", mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return,return-value]
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return,return-value]
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # A constructor can fail outside PyYAML's own errors: int() of 5,000 digits is over
        # Python's limit. Reported at the value, like any other YAML error.
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            raise YamlLimitError(f"cannot read this value: {exc}", node.start_mark) from None

    def get_single_node(self) -> yaml.Node | None:
        try:
            node = super().get_single_node()
        except RecursionError:
            raise YamlLimitError("the document is nested too deeply", None) from None
        if node is not None and self._aliases:
            check_expansion(node)
        return node  # type: ignore[no-any-return]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_expansion(root: yaml.Node) -> None:
    """Refuse a cycle, or aliases that add more than ``MAX_ALIAS_NODES`` nodes once expanded.

    One pass over the composed graph (each node once, no recursion): the expanded size of a
    node is computed from its children's, so a bomb is measured without being expanded.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] - len(sizes) > MAX_ALIAS_NODES:
                raise YamlLimitError(
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} extra nodes",
                    node.start_mark,
                )
            continue
        if key in sizes:
            continue
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise YamlLimitError(
                    "an alias refers to the anchor that contains it", child.start_mark
                )
            if id(child) not in sizes:
                stack.append((child, False))


@contextmanager
def composed(
    text: str, loader_class: type[BoundedSafeLoader] = BoundedSafeLoader
) -> Iterator[tuple[BoundedSafeLoader, yaml.Node | None]]:
    """The loader and the root node of the single document in ``text`` (None if empty).

    The loader stays usable inside the block (``construct_document``, ``construct_object``).
    Raises ``yaml.YAMLError`` (``YamlLimitError`` for a bound) with a position.
    """
    loader = loader_class(text)
    try:
        yield loader, loader.get_single_node()
    finally:
        loader.dispose()


def safe_load(text: str, loader_class: type[BoundedSafeLoader] = BoundedSafeLoader) -> Any:
    """``yaml.safe_load`` with the bounds above: plain data, or ``yaml.YAMLError``."""
    with composed(text, loader_class) as (loader, node):
        if node is None:
            return None
        try:
            return loader.construct_document(node)
        except RecursionError:
            raise YamlLimitError("the document is nested too deeply", node.start_mark) from None
