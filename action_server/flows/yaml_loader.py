"""YAML parsing that keeps the file position of every node, for precise error messages.

``load_yaml`` returns a tree of ``YamlNode`` (maps keep key order and key positions);
``YamlNode.plain()`` gives ordinary Python values where positions no longer matter.
``yaml12=True`` reads scalars as YAML 1.2 does (Rasa reads e2e test files that way): only
``true``/``false`` are booleans (``yes``, ``no``, ``on``, ``off`` stay strings), and ``19:30``
or ``010`` are strings or decimal numbers, not YAML 1.1's base-60 or octal integers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from action_server.config.safe_yaml import BoundedSafeLoader, composed
from action_server.config.yaml_errors import describe_yaml_error
from action_server.flows.model import SourceRef

__all__ = ["YamlNode", "YamlSyntaxError", "load_yaml", "load_yaml_file"]


class YamlSyntaxError(ValueError):
    """The file is not valid YAML (or has a duplicate key)."""

    def __init__(self, message: str, source: SourceRef) -> None:
        self.reason = message
        self.source = source
        super().__init__(f"{source}: {message}")


@dataclass
class YamlNode:
    """A YAML value with its position. ``value`` is a scalar, list[YamlNode] or dict."""

    value: Any
    source: SourceRef
    style: str | None = None  # scalar quoting style: None (plain), "'", '"', "|", ">"
    key_sources: dict[str, SourceRef] = field(default_factory=dict)
    single_line: bool = True

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_scalar(self) -> bool:
        return not (self.is_map or self.is_list)

    def get(self, key: str) -> YamlNode | None:
        if isinstance(self.value, dict):
            node: YamlNode | None = self.value.get(key)
            return node
        return None

    def key_source(self, key: str) -> SourceRef:
        return self.key_sources.get(key, self.source)

    def items(self) -> list[tuple[str, YamlNode]]:
        return list(self.value.items()) if isinstance(self.value, dict) else []

    def plain(self) -> Any:
        """The value as plain Python (dicts, lists, scalars), positions dropped."""
        if isinstance(self.value, dict):
            return {key: node.plain() for key, node in self.value.items()}
        if isinstance(self.value, list):
            return [node.plain() for node in self.value]
        return self.value

    def kind(self) -> str:
        """A reader's name for the node type, for error messages."""
        if self.is_map:
            return "a mapping"
        if self.is_list:
            return "a list"
        if self.value is None:
            return "empty (null)"
        if isinstance(self.value, bool):
            return "a boolean"
        if isinstance(self.value, (int, float)):
            return "a number"
        if isinstance(self.value, str):
            return "text"
        return type(self.value).__name__

    def offset_source(self, offset: int) -> SourceRef:
        """Position of character ``offset`` inside this scalar, when it maps cleanly."""
        if not self.single_line or self.style in ("|", ">"):
            return self.source
        shift = 1 if self.style in ("'", '"') else 0
        return SourceRef(self.source.file, self.source.line, self.source.column + shift + offset)


class _Yaml12Loader(BoundedSafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars."""


_YAML11_TAGS = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML11_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Yaml12Loader.add_constructor(
    "tag:yaml.org,2002:int",
    lambda loader, node: int(str(node.value), 10),  # 010 is ten in YAML 1.2
)
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _ref(file: str, node: yaml.Node) -> SourceRef:
    mark = node.start_mark
    return SourceRef(file, mark.line + 1, mark.column + 1)


def _convert(loader: yaml.SafeLoader, node: yaml.Node, file: str) -> YamlNode:
    source = _ref(file, node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves `<<:` merge keys
        values: dict[str, YamlNode] = {}
        key_sources: dict[str, SourceRef] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_text = key if isinstance(key, str) else str(key)
            if isinstance(key, bool):
                key_text = "true" if key else "false"
            key_ref = _ref(file, key_node)
            if key_text in values:
                first = key_sources[key_text]
                raise YamlSyntaxError(
                    f"duplicate key '{key_text}' (first defined at line {first.line})", key_ref
                )
            values[key_text] = _convert(loader, value_node, file)
            key_sources[key_text] = key_ref
        return YamlNode(values, source, key_sources=key_sources)
    if isinstance(node, yaml.SequenceNode):
        return YamlNode([_convert(loader, item, file) for item in node.value], source)
    value = loader.construct_object(node, deep=True)
    single_line = node.start_mark.line == node.end_mark.line
    style = node.style if isinstance(node, yaml.ScalarNode) else None
    return YamlNode(value, source, style=style or None, single_line=single_line)


def load_yaml(text: str, file: str, *, yaml12: bool = False) -> YamlNode | None:
    """Parse one YAML document; None for an empty document. Raises YamlSyntaxError.

    The loader is the bounded one (``config/safe_yaml.py``): aliases, depth and control
    characters are checked before anything walks the tree.
    """
    loader_class = _Yaml12Loader if yaml12 else BoundedSafeLoader
    try:
        with composed(text, loader_class) as (loader, root):
            return None if root is None else _convert(loader, root, file)
    except yaml.MarkedYAMLError as exc:
        problem = describe_yaml_error(exc, text)
        where = SourceRef(file, problem.line, problem.column)
        raise YamlSyntaxError(f"invalid YAML: {problem.message}", where) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"invalid YAML: {exc}", SourceRef(file, 1, 1)) from None


def load_yaml_file(path: str | Path, *, yaml12: bool = False) -> YamlNode | None:
    """Read and parse a file; unreadable or non-UTF-8 files raise YamlSyntaxError too."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlSyntaxError(f"cannot read file: {exc}", SourceRef(name, 1, 1)) from None
    return load_yaml(text, name, yaml12=yaml12)
