"""Problems found while loading or validating flows, each pinned to file, line and column."""

from __future__ import annotations

from dataclasses import dataclass

from action_server.flows.model import SourceRef

__all__ = ["Issue", "FlowsLoadError"]


@dataclass(frozen=True)
class Issue:
    """One problem; ``str(issue)`` is the line the CLI prints."""

    file: str
    line: int
    column: int
    message: str
    flow_id: str | None = None
    step_id: str | None = None

    @classmethod
    def at(
        cls,
        source: SourceRef | None,
        message: str,
        flow_id: str | None = None,
        step_id: str | None = None,
    ) -> Issue:
        if source is None:
            return cls("<unknown>", 0, 0, message, flow_id, step_id)
        return cls(source.file, source.line, source.column, message, flow_id, step_id)

    def __str__(self) -> str:
        # Line 0 means "the path as a whole" (a missing file): no position to point at.
        where = f"{self.file}:{self.line}:{self.column}: " if self.line > 0 else f"{self.file}: "
        if self.flow_id is not None:
            where += f"flow '{self.flow_id}' "
            if self.step_id is not None:
                where += f"step '{self.step_id}' "
            where = where.rstrip() + ": "
        return where + self.message


class FlowsLoadError(Exception):
    """Raised when flows or domain files have problems; carries every issue found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        lines = "\n".join(str(issue) for issue in self.issues)
        count = len(self.issues)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in flows:\n{lines}")
