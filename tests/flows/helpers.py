"""Small helpers for the flows tests: write YAML into a temp project and load it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from action_server.flows.issues import Issue
from action_server.flows.loader import LoadResult, load_project
from action_server.flows.validation import validate_paths

DATA = Path(__file__).parent / "data"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load(directory: Path, flows: str, domain: str | None = None) -> LoadResult:
    write(directory, "flows.yml", flows)
    if domain is not None:
        write(directory, "domain.yml", domain)
    return load_project([directory])


def issues_for(directory: Path, flows: str, domain: str, **kwargs: object) -> list[Issue]:
    write(directory, "flows.yml", flows)
    write(directory, "domain.yml", domain)
    _, issues, _ = validate_paths([str(directory)], **kwargs)  # type: ignore[arg-type]
    return issues


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
