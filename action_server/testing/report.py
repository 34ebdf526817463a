"""The e2e report, shaped like ``rasa test e2e``'s: one line per case as it ran, then each
failed case (``'name' in file:line failed``) with what differed and the transcript, a short
summary with one line per failed case, and the final ``N passed, M failed`` line; and the
``--e2e-results`` files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from action_server.testing.runner import CaseResult

__all__ = ["RESULT_FILES", "format_report", "write_results"]

RESULT_FILES = ("e2e_results_passed.yml", "e2e_results_failed.yml")


def format_report(results: list[CaseResult]) -> tuple[list[str], str]:
    """Report lines and the final summary line."""
    lines = [f"{'PASSED' if r.passed else 'FAILED'} {r.file}::{r.name}" for r in results]
    for result in results:
        lines.extend(f"  note: {skipped}" for skipped in result.skipped)
    failed = [r for r in results if not r.passed]
    if failed:
        lines.append(_rule("FAILURES"))
        for result in failed:
            lines.append(f"'{result.name}' in {result.file}:{result.line} failed")
            lines.extend(f"  {failure}" for failure in result.failures)
            if result.transcript:
                lines.append("  transcript:")
                lines.extend(f"    {entry}" for entry in result.transcript)
        lines.append(_rule("short test summary"))
        for result in failed:
            first = result.failures[0]
            lines.append(f"FAILED {result.file}::{result.name} - {first.message}")
    passed = len(results) - len(failed)
    return lines, f"{passed} passed, {len(failed)} failed"


def _rule(title: str) -> str:
    return f"{'=' * 20} {title} {'=' * 20}"


def write_results(directory: str | Path, results: list[CaseResult]) -> list[Path]:
    """Write passed and failed cases as YAML files in ``directory``; returns their paths."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, wanted in zip(RESULT_FILES, (True, False), strict=True):
        entries = [_entry(r) for r in results if r.passed is wanted]
        path = folder / name
        path.write_text(
            yaml.safe_dump({"test_results": entries}, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        written.append(path)
    return written


def _entry(result: CaseResult) -> dict[str, Any]:
    entry: dict[str, Any] = {"test_case": result.name, "file": f"{result.file}:{result.line}"}
    if result.failures:
        entry["failures"] = [str(failure) for failure in result.failures]
        entry["transcript"] = list(result.transcript)
    if result.skipped:
        entry["skipped"] = list(result.skipped)
    return entry
