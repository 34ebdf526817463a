"""Read Rasa end-to-end test files (``test_cases``, ``fixtures``, ``stub_custom_actions``,
``metadata``) into plain objects, with every problem pinned to file, line and column.

Step styles understood: the classic ``user``/``bot``/``utter``/``slot_was_set``/
``slot_was_not_set`` steps and the newer ``assertions`` list under a ``user`` step (with
``assertion_order_enabled``). Files are read as YAML 1.2, as Rasa reads them (``user: yes``
stays the text "yes"). A file that does not load becomes a suite with ``issues`` and no cases,
so the runner reports it as failed while the other files still run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from action_server.flows.issues import Issue
from action_server.flows.loader import find_yaml_files
from action_server.flows.model import SourceRef
from action_server.flows.yaml_loader import YamlNode, YamlSyntaxError, load_yaml_file

__all__ = [
    "ASSERTION_KINDS",
    "Assertion",
    "SlotExpectation",
    "StubResult",
    "TestCase",
    "TestStep",
    "TestSuite",
    "load_test_suites",
    "parse_test_file",
]

ASSERTION_KINDS = (
    "flow_started",
    "flow_completed",
    "flow_cancelled",
    "action_executed",
    "bot_uttered",
    "bot_did_not_utter",
    "slot_was_set",
    "slot_was_not_set",
    "pattern_clarification_contains",
    "generative_response_is_relevant",
    "generative_response_is_grounded",
)
SKIPPED_ASSERTIONS = {
    "generative_response_is_relevant": "needs an LLM judge, which this runner does not call",
    "generative_response_is_grounded": "needs an LLM judge, which this runner does not call",
}
"""Assertions that load but are reported as skipped, with the reason."""
_STEP_KINDS = ("user", "bot", "utter", "slot_was_set", "slot_was_not_set")
_NO_VALUE = object()


@dataclass(frozen=True)
class SlotExpectation:
    """A slot name, with the value it must (not) have been set to when ``has_value``."""

    name: str
    value: Any = None
    has_value: bool = False

    def describe(self) -> str:
        return f"{self.name}={self.value!r}" if self.has_value else self.name


@dataclass
class Assertion:
    """One item of a user step's ``assertions`` list; ``data`` is already checked."""

    kind: str
    data: Any
    source: SourceRef


@dataclass
class TestStep:
    """One step of a test case; ``index`` is 1-based as shown in reports."""

    __test__ = False  # not a pytest class, despite the name

    index: int
    kind: str  # one of _STEP_KINDS
    source: SourceRef
    text: str = ""  # user / bot text, or the response name for utter
    slots: list[SlotExpectation] = field(default_factory=list)
    assertions: list[Assertion] = field(default_factory=list)
    metadata: str | None = None  # name of a top-level metadata entry (user steps)
    ordered: bool = False  # assertion_order_enabled: assertions match events in order


@dataclass
class TestCase:
    """One ``test_case``: steps in order, fixtures by name."""

    __test__ = False  # not a pytest class, despite the name
    name: str
    source: SourceRef
    steps: list[TestStep] = field(default_factory=list)
    fixtures: list[tuple[str, SourceRef]] = field(default_factory=list)
    metadata: str | None = None


@dataclass
class StubResult:
    """What a stubbed custom action answers instead of running."""

    events: list[dict[str, Any]]
    responses: list[dict[str, Any]]


@dataclass
class TestSuite:
    """One test file."""

    __test__ = False  # not a pytest class, despite the name

    file: str
    cases: list[TestCase] = field(default_factory=list)
    fixtures: dict[str, list[tuple[str, Any, SourceRef]]] = field(default_factory=dict)
    stubs: dict[str, StubResult] = field(default_factory=dict)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)  # the file did not load: no cases run
    notes: list[str] = field(default_factory=list)


class _Problems:
    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, source: SourceRef, message: str) -> None:
        self.issues.append(Issue.at(source, message))


def load_test_suites(paths: Iterable[str | Path]) -> tuple[list[TestSuite], list[Issue], list[str]]:
    """Every file with ``test_cases`` under ``paths``: (suites, problems with the paths
    themselves, notes on skipped files). A file's own problems are in its suite's ``issues``.
    """
    issues: list[Issue] = []
    notes: list[str] = []
    suites: list[TestSuite] = []
    for path in find_yaml_files(paths, issues):
        try:
            root = load_yaml_file(path, yaml12=True)
        except YamlSyntaxError as exc:
            suites.append(TestSuite(file=str(path), issues=[Issue.at(exc.source, exc.reason)]))
            continue
        if root is None or not root.is_map or root.get("test_cases") is None:
            notes.append(f"{path}: skipped: no 'test_cases'")
            continue
        suite, problems = parse_test_file(root, str(path))
        if problems:
            suite.issues = problems
            suite.cases = []
        suites.append(suite)
    return suites, issues, notes


def parse_test_file(root: YamlNode, file: str) -> tuple[TestSuite, list[Issue]]:
    problems = _Problems()
    suite = TestSuite(file=file)
    known = {"test_cases", "fixtures", "stub_custom_actions", "metadata", "version"}  # Rasa's keys
    for key, _ in root.items():
        if key not in known:
            problems.add(
                root.key_source(key),
                f"unknown top-level key '{key}' (expected: {', '.join(sorted(known))})",
            )
    if (node := root.get("fixtures")) is not None:
        suite.fixtures = _parse_fixtures(node, problems)
    if (node := root.get("stub_custom_actions")) is not None:
        suite.stubs = _parse_stubs(node, problems)
    if (node := root.get("metadata")) is not None:
        suite.metadata = _parse_metadata(node, problems)
    cases = root.get("test_cases")
    if cases is not None:
        if not cases.is_list:
            problems.add(cases.source, f"'test_cases' must be a list, got {cases.kind()}")
        else:
            seen: dict[str, SourceRef] = {}
            for item in cases.value:
                case = _parse_case(item, problems)
                if case is None:
                    continue
                if case.name in seen:  # Rasa allows it; say so, and run both
                    suite.notes.append(
                        f"{case.source}: test case '{case.name}' is defined again "
                        f"(first at line {seen[case.name].line})"
                    )
                seen.setdefault(case.name, case.source)
                suite.cases.append(case)
    return suite, problems.issues


# --- top-level sections -------------------------------------------------------------------


def _named_entries(node: YamlNode, section: str, problems: _Problems) -> list[tuple[str, YamlNode]]:
    """``- name: value`` list items (Rasa's shape for fixtures and metadata) as pairs."""
    if not node.is_list:
        problems.add(node.source, f"'{section}' must be a list of '- name: ...' items")
        return []
    entries: list[tuple[str, YamlNode]] = []
    for item in node.value:
        if not item.is_map or len(item.value) != 1:
            problems.add(item.source, f"'{section}' item must be a mapping with exactly one name")
            continue
        entries.append(item.items()[0])
    return entries


def _parse_fixtures(
    node: YamlNode, problems: _Problems
) -> dict[str, list[tuple[str, Any, SourceRef]]]:
    fixtures: dict[str, list[tuple[str, Any, SourceRef]]] = {}
    for name, body in _named_entries(node, "fixtures", problems):
        slots: list[tuple[str, Any, SourceRef]] = []
        items = body.value if body.is_list else None
        if items is None:
            problems.add(body.source, f"fixture '{name}' must be a list of '- slot: value' items")
            continue
        for item in items:
            if not item.is_map or len(item.value) != 1:
                problems.add(item.source, f"fixture '{name}': expected '- slot: value'")
                continue
            slot, value = item.items()[0]
            slots.append((slot, value.plain(), item.source))
        fixtures[name] = slots
    return fixtures


def _parse_metadata(node: YamlNode, problems: _Problems) -> dict[str, dict[str, Any]]:
    metadata: dict[str, dict[str, Any]] = {}
    for name, body in _named_entries(node, "metadata", problems):
        if not body.is_map:
            problems.add(body.source, f"metadata '{name}' must be a mapping")
            continue
        metadata[name] = body.plain()
    return metadata


def _parse_stubs(node: YamlNode, problems: _Problems) -> dict[str, StubResult]:
    if not node.is_map:
        problems.add(node.source, "'stub_custom_actions' must map action names to results")
        return {}
    stubs: dict[str, StubResult] = {}
    for name, body in node.items():
        where = f"stub_custom_actions '{name}'"
        if not body.is_map:
            problems.add(body.source, f"{where}: expected a mapping with 'events' and 'responses'")
            continue
        for key in body.value:
            if key not in ("events", "responses"):
                problems.add(body.key_source(key), f"{where}: unknown key '{key}'")
        events = _object_list(body.get("events"), f"{where}: events", problems)
        for event_node, event in zip(_items(body.get("events")), events, strict=False):
            if not isinstance(event.get("event"), str):
                problems.add(event_node.source, f"{where}: every event needs an 'event' name")
        responses = _object_list(body.get("responses"), f"{where}: responses", problems)
        stubs[name] = StubResult(events=events, responses=responses)
    return stubs


def _items(node: YamlNode | None) -> list[YamlNode]:
    return list(node.value) if node is not None and node.is_list else []


def _object_list(node: YamlNode | None, where: str, problems: _Problems) -> list[dict[str, Any]]:
    if node is None or node.value is None:
        return []
    if not node.is_list:
        problems.add(node.source, f"{where} must be a list, got {node.kind()}")
        return []
    result: list[dict[str, Any]] = []
    for item in node.value:
        if not item.is_map:
            problems.add(item.source, f"{where}: expected a mapping, got {item.kind()}")
            continue
        result.append(item.plain())
    return result


# --- test cases ---------------------------------------------------------------------------


def _text(node: YamlNode | None) -> str | None:
    if node is None or not node.is_scalar or node.value is None or isinstance(node.value, bool):
        return None
    return str(node.value)


def _parse_case(node: YamlNode, problems: _Problems) -> TestCase | None:
    if not node.is_map:
        problems.add(node.source, f"a test case must be a mapping, got {node.kind()}")
        return None
    name = _text(node.get("test_case"))
    if name is None:
        problems.add(node.source, "test case needs a 'test_case' name")
        return None
    case = TestCase(name=name, source=node.source)
    for key in node.value:
        if key not in ("test_case", "steps", "fixtures", "metadata"):
            problems.add(node.key_source(key), f"test case '{name}': unknown key '{key}'")
    fixtures = node.get("fixtures")
    if fixtures is not None:
        for item in _items(fixtures) if fixtures.is_list else [fixtures]:
            fixture = _text(item)
            if fixture is None:
                problems.add(item.source, f"test case '{name}': fixtures are listed by name")
            else:
                case.fixtures.append((fixture, item.source))
    case.metadata = _text(node.get("metadata"))
    steps = node.get("steps")
    if steps is None or not steps.is_list or not steps.value:
        problems.add(
            (steps or node).source, f"test case '{name}': 'steps' must be a non-empty list"
        )
        return case
    for index, item in enumerate(steps.value, start=1):
        step = _parse_step(item, index, name, problems)
        if step is not None:
            case.steps.append(step)
    return case


def _parse_step(node: YamlNode, index: int, case: str, problems: _Problems) -> TestStep | None:
    where = f"test case '{case}' step {index}"
    if not node.is_map:
        problems.add(node.source, f"{where}: expected a mapping, got {node.kind()}")
        return None
    kinds = [key for key in node.value if key in _STEP_KINDS]
    if len(kinds) != 1:
        found = ", ".join(node.value) or "nothing"
        problems.add(
            node.source,
            f"{where}: needs exactly one of {', '.join(_STEP_KINDS)} (found: {found})",
        )
        return None
    kind = kinds[0]
    allowed = (
        {kind, "assertions", "metadata", "assertion_order_enabled"} if kind == "user" else {kind}
    )
    for key in node.value:
        if key not in allowed:
            problems.add(node.key_source(key), f"{where}: unexpected key '{key}' in a {kind} step")
    body = node.value[kind]
    step = TestStep(index=index, kind=kind, source=node.source)
    if kind in ("user", "bot", "utter"):
        text = _text(body)
        if text is None:
            problems.add(body.source, f"{where}: '{kind}' must be text, got {body.kind()}")
            return None
        step.text = text
        if kind == "user":
            step.metadata = _text(node.get("metadata"))
            if (assertions := node.get("assertions")) is not None:
                step.assertions = _parse_assertions(assertions, where, problems)
            if (ordered := node.get("assertion_order_enabled")) is not None:
                if not isinstance(ordered.value, bool):
                    problems.add(
                        ordered.source, f"{where}: 'assertion_order_enabled' is true/false"
                    )
                step.ordered = ordered.value is True
        return step
    step.slots = _parse_slot_list(body, where, kind, problems, classic=True)
    return step


def _parse_slot_list(
    node: YamlNode, where: str, kind: str, problems: _Problems, *, classic: bool
) -> list[SlotExpectation]:
    """``- name`` / ``- name: value`` (classic) or ``- name: x  value: y`` (assertions)."""
    if not node.is_list:
        problems.add(node.source, f"{where}: '{kind}' must be a list, got {node.kind()}")
        return []
    slots: list[SlotExpectation] = []
    for item in node.value:
        if classic and item.is_scalar and _text(item) is not None:
            slots.append(SlotExpectation(str(item.value)))
        elif classic and item.is_map and len(item.value) == 1 and "name" not in item.value:
            name, value = item.items()[0]
            slots.append(SlotExpectation(name, value.plain(), True))
        elif item.is_map and _text(item.get("name")) is not None:
            extra = set(item.value) - {"name", "value"}
            if extra:
                problems.add(item.source, f"{where}: unknown key(s) {', '.join(sorted(extra))}")
            value = item.get("value")
            slots.append(
                SlotExpectation(
                    str(item.value["name"].value),
                    value.plain() if value is not None else None,
                    value is not None,
                )
            )
        else:
            shape = "'- slot' or '- slot: value'" if classic else "'- name: slot' (and 'value')"
            problems.add(item.source, f"{where}: '{kind}' items must look like {shape}")
    return slots


def _parse_assertions(node: YamlNode, where: str, problems: _Problems) -> list[Assertion]:
    if not node.is_list:
        problems.add(node.source, f"{where}: 'assertions' must be a list, got {node.kind()}")
        return []
    assertions: list[Assertion] = []
    for item in node.value:
        if not item.is_map or len(item.value) != 1:
            problems.add(item.source, f"{where}: each assertion is a mapping with one key")
            continue
        kind, body = item.items()[0]
        if kind not in ASSERTION_KINDS:
            problems.add(
                item.source,
                f"{where}: assertion '{kind}' is not supported "
                f"(supported: {', '.join(ASSERTION_KINDS)})",
            )
            continue
        data = _assertion_data(kind, body, f"{where}: {kind}", problems)
        if data is not _NO_VALUE:
            assertions.append(Assertion(kind, data, item.source))
    return assertions


def _assertion_data(kind: str, body: YamlNode, where: str, problems: _Problems) -> Any:
    if kind in ("flow_started", "action_executed"):
        text = _text(body)
        if text is None:
            problems.add(body.source, f"{where}: expected a name, got {body.kind()}")
            return _NO_VALUE
        return text
    if kind in ("flow_completed", "flow_cancelled"):
        if not body.is_map or _text(body.get("flow_id")) is None:
            problems.add(body.source, f"{where}: expected 'flow_id' (and optional 'flow_step_id')")
            return _NO_VALUE
        extra = set(body.value) - {"flow_id", "flow_step_id"}
        if extra:
            problems.add(body.source, f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        return {
            "flow_id": _text(body.get("flow_id")),
            "flow_step_id": _text(body.get("flow_step_id")),
        }
    if kind in ("bot_uttered", "bot_did_not_utter"):
        return _bot_matcher(body, where, problems)
    if kind == "pattern_clarification_contains":
        names = body.plain()
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems.add(body.source, f"{where}: expected a list of flow names")
            return _NO_VALUE
        return names
    if kind in SKIPPED_ASSERTIONS:
        return body.plain()
    return _parse_slot_list(body, where, kind, problems, classic=False)


def _bot_matcher(body: YamlNode, where: str, problems: _Problems) -> Any:
    keys = ("utter_name", "text_matches", "buttons")
    if not body.is_map or not body.value:
        problems.add(body.source, f"{where}: expected a mapping with {', '.join(keys)}")
        return _NO_VALUE
    extra = set(body.value) - set(keys)
    if extra:
        problems.add(body.source, f"{where}: unknown key(s) {', '.join(sorted(extra))}")
    data: dict[str, Any] = {}
    if (utter := body.get("utter_name")) is not None:
        data["utter_name"] = _text(utter)
    if (pattern := body.get("text_matches")) is not None:
        text = _text(pattern)
        try:
            data["text_matches"] = re.compile(text or "")
        except re.error as exc:
            problems.add(pattern.source, f"{where}: text_matches is not a valid regex: {exc}")
            return _NO_VALUE
    if (buttons := body.get("buttons")) is not None:
        items = _object_list(buttons, f"{where}: buttons", problems)
        data["buttons"] = [
            {"title": item.get("title"), "payload": item.get("payload")} for item in items
        ]
    return data
