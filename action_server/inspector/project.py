"""The Flows view's logic: flows and patterns drawn, the project re-validated, e2e tests run.

Validation and tests read the files again from disk, so a builder who edits a flow sees the
problems (file:line) without restarting; the running engine keeps the project it started with.
Patterns are flows whose id starts with ``pattern_`` (user-defined or shipped defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from action_server.dialogue.bootstrap import check_project, domain_paths_for
from action_server.dialogue.step_actions import DEFAULT_REGISTRY
from action_server.flows.graph import flow_to_mermaid, node_ids, step_label
from action_server.flows.issues import Issue
from action_server.flows.model import Flow, FlowProject
from action_server.flows.source import SourceRef
from action_server.inspector.conversations import PATTERN_PREFIX
from action_server.testing.cases import load_test_suites
from action_server.testing.runner import CaseResult, E2ERunner, stubbed_action_names

__all__ = ["ProjectPaths", "flow_detail", "flow_list", "run_tests", "validate"]

CURRENT_CLASS = "current"
_HIGHLIGHT = "classDef current fill:#ffe082,stroke:#e65100,stroke-width:3px"


@dataclass
class ProjectPaths:
    """Where the served project lives on disk (from ``run --flows/--domain``)."""

    flows: list[str]
    domain: list[str] | None = None
    tests: list[str] = field(default_factory=list)


def _where(source: SourceRef | None) -> dict[str, Any]:
    if source is None:
        return {"file": None, "line": None}
    return {"file": source.file, "line": source.line}


def flow_list(project: FlowProject) -> list[dict[str, Any]]:
    """Every flow of the running project, user flows first, then patterns, each by id."""
    flows = sorted(project.flows.values(), key=lambda f: (f.id.startswith(PATTERN_PREFIX), f.id))
    return [
        {
            "id": flow.id,
            "name": flow.name,
            "description": flow.description,
            "is_pattern": flow.id.startswith(PATTERN_PREFIX),
            "guard": flow.guard.text if flow.guard is not None else None,
            "steps": len(flow.steps),
            **_where(flow.source),
        }
        for flow in flows
    ]


def flow_detail(flow: Flow, current_step: str | None = None) -> dict[str, Any]:
    """One flow: its steps and its Mermaid diagram, ``current_step`` highlighted when given."""
    ids = node_ids(flow)
    mermaid = flow_to_mermaid(flow)
    highlighted = ids.get(current_step) if current_step else None
    if highlighted is not None:
        mermaid += f"    {_HIGHLIGHT}\n    class {highlighted} {CURRENT_CLASS}\n"
    return {
        "id": flow.id,
        "name": flow.name,
        "description": flow.description,
        "is_pattern": flow.id.startswith(PATTERN_PREFIX),
        **_where(flow.source),
        "mermaid": mermaid,
        "current_step": current_step if highlighted is not None else None,
        "nodes": ids,
        "steps": [
            {"id": step.id, "kind": step.kind, "label": step_label(step), **_where(step.source)}
            for step in flow.steps.values()
        ],
    }


def _issue(issue: Issue) -> dict[str, Any]:
    return {
        "file": issue.file,
        "line": issue.line,
        "column": issue.column,
        "message": issue.message,
        "flow_id": issue.flow_id,
        "step_id": issue.step_id,
        "text": str(issue),
    }


def _check(paths: ProjectPaths, registered: frozenset[str] | None) -> Any:
    return check_project(
        paths.flows,
        domain_paths_for(paths.flows, paths.domain),
        registered,
        DEFAULT_REGISTRY.known_types(),
    )


def validate(paths: ProjectPaths, registered: frozenset[str] | None) -> dict[str, Any]:
    """Load and validate the project from disk, as ``flows validate`` does."""
    check = _check(paths, registered)
    return {
        "valid": check.project is not None and not check.issues,
        "issues": [_issue(issue) for issue in check.issues],
        "notes": list(check.notes),
        "files": list(check.files),
        "flows": len(check.project.user_flows()) if check.project is not None else 0,
    }


def _case(result: CaseResult) -> dict[str, Any]:
    return {
        "file": result.file,
        "name": result.name,
        "passed": result.passed,
        "failures": [
            {
                **_where(failure.source),
                "step": failure.step,
                "message": failure.message,
                "text": str(failure),
            }
            for failure in result.failures
        ],
    }


async def run_tests(
    paths: ProjectPaths, transport: Any, registered: frozenset[str]
) -> dict[str, Any]:
    """Run every e2e test case under ``paths.tests`` against the project on disk."""
    report: dict[str, Any] = {"paths": list(paths.tests), "issues": [], "cases": []}
    suites, issues, notes = load_test_suites(paths.tests)
    report["notes"] = notes
    if issues:
        report["issues"] = [_issue(issue) for issue in issues]
    check = _check(paths, registered | stubbed_action_names(suites))
    if check.project is None:
        report["issues"].extend(_issue(issue) for issue in check.issues)
        return _summarised(report)
    runner = E2ERunner(check.project, transport, registered)
    for suite in suites:
        report["cases"].extend(_case(result) for result in await runner.run_suite(suite))
    return _summarised(report)


def _summarised(report: dict[str, Any]) -> dict[str, Any]:
    passed = sum(1 for case in report["cases"] if case["passed"])
    failed = len(report["cases"]) - passed
    report["passed"], report["failed"] = passed, failed
    report["summary"] = f"{passed} passed, {failed} failed"
    return report
