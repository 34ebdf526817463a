"""Load YAML and remember the line of every key and list item, for file:line error messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from action_server.config.safe_yaml import composed
from action_server.config.yaml_errors import describe_yaml_error

__all__ = ["YamlDocument", "YamlSyntaxError", "load_yaml_document"]

Path = tuple[str | int, ...]


class YamlSyntaxError(ValueError):
    """The file is not valid YAML; the message says file:line:column."""


@dataclass
class YamlDocument:
    """Parsed data plus a map from key paths (("api_actions", 0, "timeout")) to 1-based lines."""

    filename: str
    data: Any
    lines: dict[Path, int]

    def line_of(self, path: Sequence[str | int]) -> int:
        """Line of the deepest known prefix of ``path`` (a pydantic ``loc`` works as is)."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)

    def where(self, path: Sequence[str | int]) -> str:
        return f"{self.filename}:{self.line_of(path)}"


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = (*path, str(key_node.value))
                lines[child] = key_node.start_mark.line + 1
                _walk(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines)


def load_yaml_document(text: str, filename: str) -> YamlDocument:
    """Parse one YAML document with the bounded safe loader (``safe_yaml.py``); syntax errors
    and broken bounds name file, line and column."""
    try:
        # Compose once and build the data from the same node tree: one parse gives both the
        # values and the line of every key.
        with composed(text) as (loader, node):
            data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        problem = describe_yaml_error(exc, text)
        raise YamlSyntaxError(
            f"{filename}:{problem.line}:{problem.column}: invalid YAML: {problem.message}"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"{filename}: invalid YAML: {exc}") from None
    lines: dict[Path, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return YamlDocument(filename=filename, data=data, lines=lines)
