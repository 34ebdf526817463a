"""Rasa's default conversation patterns, shipped as YAML in the package and merged under a
project: a project flow, response or slot of the same name replaces the default.

Pattern flows (``pattern_*``) are what the engine pushes on the dialogue stack for repair:
corrections, cancellations, digressions, clarification and so on (see ``docs/patterns.md``).
"""

from __future__ import annotations

import copy
from functools import lru_cache
from importlib import resources

from action_server.flows.domain import parse_domain
from action_server.flows.flow_parser import parse_flows
from action_server.flows.issues import Issue
from action_server.flows.model import Domain, Flow, FlowProject
from action_server.flows.yaml_loader import load_yaml

__all__ = [
    "DEFAULT_PATTERNS_FILE",
    "LINKABLE_PATTERNS",
    "PATTERN_PREFIX",
    "default_patterns",
    "is_pattern",
    "merge_defaults",
]

PATTERN_PREFIX = "pattern_"
LINKABLE_PATTERNS = frozenset({"pattern_human_handoff", "pattern_chitchat"})
"""Patterns a user flow may ``link`` to (Rasa allows these two); no user flow may ``call`` one."""
DEFAULT_PATTERNS_FILE = "defaults/patterns.yml"


def is_pattern(flow_id: str) -> bool:
    return flow_id.startswith(PATTERN_PREFIX)


@lru_cache(maxsize=1)
def _defaults() -> tuple[dict[str, Flow], Domain]:
    resource = resources.files("action_server.flows").joinpath(DEFAULT_PATTERNS_FILE)
    text = resource.read_text(encoding="utf-8")
    root = load_yaml(text, f"<default patterns: action_server/flows/{DEFAULT_PATTERNS_FILE}>")
    issues: list[Issue] = []
    assert root is not None
    domain = parse_domain(root, issues)
    flows_node = root.get("flows")
    flows = {flow.id: flow for flow in parse_flows(flows_node, issues)} if flows_node else {}
    if issues:  # a packaging bug, never a user error
        raise RuntimeError("the default patterns do not load: " + "; ".join(map(str, issues)))
    return flows, domain


def default_patterns() -> dict[str, Flow]:
    """The default pattern flows by id (fresh copies)."""
    return copy.deepcopy(_defaults()[0])


def merge_defaults(project: FlowProject) -> None:
    """Add every default flow, response and slot the project does not define itself."""
    flows, domain = _defaults()
    for flow_id, flow in flows.items():
        if flow_id not in project.flows:
            project.flows[flow_id] = copy.deepcopy(flow)
            project.default_flows.add(flow_id)
    target = project.domain
    for name, variations in domain.responses.items():
        if name not in target.responses:
            target.responses[name] = copy.deepcopy(variations)
            project.default_responses.add(name)
    for name, slot in domain.slots.items():
        if name not in target.slots:
            target.slots[name] = copy.deepcopy(slot)
            project.default_slots.add(name)
