"""Read flow and domain YAML from files and directories and build a ``FlowProject``.

Files are classified by their top-level keys: ``flows`` -> flows; ``slots``/``responses``/
``actions``/``intents``/``forms``/``entities``/``session_config`` -> domain (one file may be
both); training data (``nlu``, ``rules``, ``stories``, ``test_cases``...) and anything else
is skipped with a note saying why. Directories are walked recursively in sorted order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from action_server.flows.domain import DOMAIN_KEYS, merge_domain, parse_domain
from action_server.flows.flow_parser import parse_flows
from action_server.flows.issues import Issue
from action_server.flows.model import Domain, FlowProject, SourceRef
from action_server.flows.patterns import merge_defaults
from action_server.flows.yaml_loader import YamlNode, YamlSyntaxError, load_yaml_file

__all__ = ["LoadResult", "classify", "find_yaml_files", "load_project"]

_TRAINING_KEYS = frozenset({"nlu", "rules", "stories", "test_cases", "fixtures", "metadata"})
_YAML_SUFFIXES = (".yml", ".yaml")


@dataclass
class LoadResult:
    """What loading produced: the project (always), problems, and notes on skipped files."""

    project: FlowProject
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def find_yaml_files(paths: Iterable[str | Path], issues: list[Issue]) -> list[Path]:
    """Expand directories (recursively, sorted, hidden entries skipped) into YAML files."""
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix in _YAML_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            candidates = [path]
        else:
            issues.append(Issue.at(SourceRef(str(path), 0, 0), "no such file or directory"))
            continue
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


def classify(root: YamlNode | None) -> tuple[bool, bool, str | None]:
    """(has flows, has domain, reason it is skipped or None) for one file's top level."""
    if root is None:
        return False, False, "empty file"
    if not root.is_map:
        return False, False, f"top level is {root.kind()}, not a mapping"
    keys = set(root.value)
    has_flows = "flows" in keys
    has_domain = bool(keys & DOMAIN_KEYS)
    if has_flows or has_domain:
        return has_flows, has_domain, None
    training = sorted(keys & _TRAINING_KEYS)
    if training:
        return False, False, f"training or test data ({', '.join(training)})"
    if keys <= {"version"}:
        return False, False, "only a 'version' key"
    return False, False, f"no flows or domain keys (found: {', '.join(sorted(keys))})"


def load_project(
    paths: Iterable[str | Path],
    domain_paths: Iterable[str | Path] | None = None,
    *,
    with_defaults: bool = True,
) -> LoadResult:
    """Load every flow and domain file under ``paths`` (and ``domain_paths``), with the
    default patterns, responses and slots under them (``patterns.py``).

    Never raises for bad content: problems are returned as issues so a caller can show them
    all at once.
    """
    issues: list[Issue] = []
    notes: list[str] = []
    skipped: list[str] = []
    files = find_yaml_files([*paths, *(domain_paths or [])], issues)
    project = FlowProject(domain=Domain())
    for path in files:
        name = str(path)
        try:
            root = load_yaml_file(path)
        except YamlSyntaxError as exc:
            issues.append(Issue.at(exc.source, exc.reason))
            continue
        has_flows, has_domain, reason = classify(root)
        if reason is not None or root is None:
            skipped.append(name)
            notes.append(f"{name}: skipped: {reason}")
            continue
        project.files.append(name)
        if has_domain:
            merge_domain(project.domain, parse_domain(root, issues), issues)
        flows_node = root.get("flows")
        if has_flows and flows_node is not None:
            for flow in parse_flows(flows_node, issues):
                if flow.id in project.flows:
                    first = project.flows[flow.id].source
                    issues.append(
                        Issue.at(
                            flow.source,
                            f"flow '{flow.id}' is defined twice (first at {first})",
                            flow.id,
                        )
                    )
                    continue
                project.flows[flow.id] = flow
    if with_defaults:
        merge_defaults(project)
    return LoadResult(project, issues, notes, skipped)
