"""`SourceRef`: where a YAML node came from, so every message can point at file, line and column.

The lowest module of `flows/`: the condition language, the model and the YAML reader all use it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SourceRef"]


@dataclass(frozen=True)
class SourceRef:
    """Where a node came from, for error messages (1-based line and column)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"
