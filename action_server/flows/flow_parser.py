"""Turn the ``flows:`` section of a YAML file into ``Flow`` objects.

Nested ``then:``/``else:`` step lists are flattened into the flow's step dict with stable
generated ids (``<parent id>_then<branch>_<index>_<kind>_<name>``), and every step's ``next``
is resolved, so the engine only follows ids. Problems are collected, not raised, so one run
reports all of them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from action_server.flows.conditions import Condition, ConditionError, compile_condition
from action_server.flows.issues import Issue
from action_server.flows.model import (
    END,
    Flow,
    NextBranch,
    NluTrigger,
    Rejection,
    SourceRef,
    Step,
    StepAction,
)
from action_server.flows.yaml_loader import YamlNode

__all__ = ["parse_flows", "compile_at"]

_FLOW_KEYS = frozenset(
    {
        "name",
        "description",
        "if",
        "nlu_trigger",
        "persisted_slots",
        "run_pattern_completed",
        "steps",
        "pre_actions",
        "post_actions",
        "metadata",
        "always_include_in_prompt",
        "file_path",
    }
)
_COMMON_STEP_KEYS = frozenset(
    {"id", "next", "description", "metadata", "pre_actions", "post_actions"}
)
_KIND_KEYS: dict[str, frozenset[str]] = {
    "action": frozenset({"action"}),
    "collect": frozenset(
        {
            "collect",
            "utter",
            "ask_before_filling",
            "reset_after_flow_ends",
            "rejections",
            "force_slot_filling",
        }
    ),
    "set_slots": frozenset({"set_slots"}),
    "link": frozenset({"link"}),
    "call": frozenset({"call"}),
    "noop": frozenset({"noop"}),
}


def compile_at(
    node: YamlNode, issues: list[Issue], flow_id: str, step_id: str | None
) -> Condition | None:
    """Compile a condition scalar; a syntax error becomes an issue at the offending token."""
    if not node.is_scalar or node.value is None:
        issues.append(
            Issue.at(
                node.source, f"a condition must be text, found {node.kind()}", flow_id, step_id
            )
        )
        return None
    try:
        return compile_condition(node.value, node.source, node.offset_source)
    except ConditionError as exc:
        issues.append(
            Issue.at(
                node.offset_source(exc.offset),
                f"invalid condition {exc.text!r}: {exc.reason} (column {exc.offset + 1} of the condition)",
                flow_id,
                step_id,
            )
        )
        return None


def parse_flows(node: YamlNode, issues: list[Issue]) -> list[Flow]:
    """Parse the value of a ``flows:`` key (a map of flow id -> flow)."""
    if node.value is None:
        return []
    if not node.is_map:
        issues.append(
            Issue.at(node.source, f"'flows' must be a mapping of flow ids, found {node.kind()}")
        )
        return []
    flows: list[Flow] = []
    for flow_id, spec in node.items():
        flow = _FlowParser(flow_id, node.key_source(flow_id), issues).parse(spec)
        if flow is not None:
            flows.append(flow)
    return flows


@dataclass
class _Pending:
    """A step whose id is known but whose ``next`` is resolved after its siblings."""

    step: Step
    node: YamlNode


class _FlowParser:
    def __init__(self, flow_id: str, source: SourceRef, issues: list[Issue]) -> None:
        self.flow_id = flow_id
        self.source = source
        self.issues = issues
        self.steps: dict[str, Step] = {}

    def issue(self, source: SourceRef, message: str, step_id: str | None = None) -> None:
        self.issues.append(Issue.at(source, message, self.flow_id, step_id))

    # -- flow ------------------------------------------------------------------------------

    def parse(self, spec: YamlNode) -> Flow | None:
        if not spec.is_map:
            self.issue(spec.source, f"a flow must be a mapping, found {spec.kind()}")
            return None
        for key in spec.value:
            if key not in _FLOW_KEYS:
                self.issue(
                    spec.key_source(key),
                    f"unknown key '{key}' (expected one of {', '.join(sorted(_FLOW_KEYS))})",
                )
        flow = Flow(id=self.flow_id, source=self.source, name=self.flow_id)
        name = spec.get("name")
        if name is not None:
            flow.name = self.text(name, "name") or self.flow_id
        description = spec.get("description")
        if description is not None:
            flow.description = self.text(description, "description") or ""
        guard = spec.get("if")
        if guard is not None:
            flow.guard = compile_at(guard, self.issues, self.flow_id, None)
        flow.nlu_trigger = self.nlu_trigger(spec.get("nlu_trigger"))
        flow.persisted_slots = self.string_list(spec.get("persisted_slots"), "persisted_slots")
        run_completed = spec.get("run_pattern_completed")
        if run_completed is not None:
            flow.run_pattern_completed = self.flag(run_completed, "run_pattern_completed", True)
        metadata = spec.get("metadata")
        if metadata is not None:
            flow.metadata = self.mapping(metadata, "metadata")
        flow.pre_actions = self.step_actions(spec.get("pre_actions"), "pre_actions", None)
        flow.post_actions = self.step_actions(spec.get("post_actions"), "post_actions", None)
        steps = spec.get("steps")
        if steps is not None and steps.value is not None:
            if not steps.is_list:
                self.issue(steps.source, f"'steps' must be a list, found {steps.kind()}")
                flow.declared_steps = 1  # reported here; validation need not call it empty
            else:
                flow.declared_steps = len(steps.value)
                first = self.step_list(steps.value, prefix="", nested=False)
                flow.first_step_id = first or END
        flow.steps = self.steps
        return flow

    # -- steps -----------------------------------------------------------------------------

    def step_list(self, nodes: list[YamlNode], prefix: str, nested: bool) -> str | None:
        """Parse a list of steps; returns the first step's id (None if none parsed)."""
        pending: list[_Pending] = []
        for index, node in enumerate(nodes):
            step = self.new_step(node, index, prefix)
            if step is None:
                continue
            if step.id in self.steps:
                self.issue(
                    step.source,
                    f"duplicate step id '{step.id}' (first used at line "
                    f"{self.steps[step.id].source.line})",
                    step.id,
                )
                continue
            self.steps[step.id] = step
            pending.append(_Pending(step, node))
        for position, item in enumerate(pending):
            following = pending[position + 1].step.id if position + 1 < len(pending) else None
            self.fill_step(item.step, item.node, following, nested)
        return pending[0].step.id if pending else None

    def new_step(self, node: YamlNode, index: int, prefix: str) -> Step | None:
        """Create the step with its kind and id; the rest is filled in later."""
        if not node.is_map:
            self.issue(node.source, f"a step must be a mapping, found {node.kind()}")
            return None
        kinds = [kind for kind in _KIND_KEYS if kind in node.value]
        explicit_id = node.get("id")
        step_id = None
        if explicit_id is not None:
            step_id = self.text(explicit_id, "id")
        if len(kinds) != 1:
            found = " and ".join(f"'{k}'" for k in kinds) if kinds else _no_kind(node)
            self.issue(
                node.source,
                f"a step needs exactly one of 'action', 'collect', 'set_slots', 'link', "
                f"'call', 'noop' (found {found})",
                step_id,
            )
            return None
        kind = kinds[0]
        generated = step_id is None
        if step_id is None:
            step_id = f"{prefix}{index}_{kind}"
            target = node.get(kind)
            if target is not None and isinstance(target.value, str) and target.value:
                step_id += f"_{target.value}"
        return Step(id=step_id, kind=kind, source=node.source, id_generated=generated)

    def fill_step(self, step: Step, node: YamlNode, following: str | None, nested: bool) -> None:
        allowed = _COMMON_STEP_KEYS | _KIND_KEYS[step.kind]
        for key in node.value:
            if key not in allowed:
                self.issue(
                    node.key_source(key),
                    f"unknown key '{key}' for {_article(step.kind)} {step.kind} step "
                    f"(expected one of {', '.join(sorted(allowed))})",
                    step.id,
                )
        getattr(self, f"fill_{step.kind}")(step, node)
        description = node.get("description")
        if description is not None:
            step.description = self.text(description, "description", step.id)
        metadata = node.get("metadata")
        if metadata is not None:
            step.metadata = self.mapping(metadata, "metadata", step.id)
        step.pre_actions = self.step_actions(node.get("pre_actions"), "pre_actions", step.id)
        step.post_actions = self.step_actions(node.get("post_actions"), "post_actions", step.id)
        next_node = node.get("next")
        if next_node is not None:
            step.next_explicit = True
            step.next = self.next_branches(step, next_node)
        elif step.kind == "link":
            step.next = [NextBranch(None, END)]  # a link ends this flow
        elif following is not None:
            step.next = [NextBranch(None, following)]
        else:
            if nested:
                self.issue(
                    step.source,
                    "the last step of a nested branch needs a 'next' (a step id or END)",
                    step.id,
                )
            step.next = [NextBranch(None, END)]

    def fill_action(self, step: Step, node: YamlNode) -> None:
        step.action = self.required_name(node, "action", step.id)

    def fill_link(self, step: Step, node: YamlNode) -> None:
        step.link = self.required_name(node, "link", step.id)

    def fill_call(self, step: Step, node: YamlNode) -> None:
        step.call = self.required_name(node, "call", step.id)

    def fill_noop(self, step: Step, node: YamlNode) -> None:
        noop = node.get("noop")
        if noop is not None and noop.value is not True:
            self.issue(noop.source, "'noop' must be true", step.id)

    def fill_set_slots(self, step: Step, node: YamlNode) -> None:
        items = node.get("set_slots")
        if items is None or not items.is_list:
            where = items.source if items is not None else step.source
            self.issue(where, "'set_slots' must be a list of '- slot: value' items", step.id)
            return
        for item in items.value:
            if not item.is_map or len(item.value) != 1:
                self.issue(
                    item.source,
                    f"each 'set_slots' item must be one '- slot: value' mapping, found {item.kind()}",
                    step.id,
                )
                continue
            name, value = next(iter(item.value.items()))
            step.set_slots.append((name, value.plain()))

    def fill_collect(self, step: Step, node: YamlNode) -> None:
        step.collect = self.required_name(node, "collect", step.id)
        utter = node.get("utter")
        if utter is not None:
            step.utter = self.text(utter, "utter", step.id)
            step.utter_explicit = step.utter is not None
        if step.utter is None and step.collect:
            step.utter = f"utter_ask_{step.collect}"
        for key, default in (
            ("ask_before_filling", False),
            ("reset_after_flow_ends", True),
            ("force_slot_filling", False),
        ):
            flag = node.get(key)
            if flag is not None:
                setattr(step, key, self.flag(flag, key, default, step.id))
        rejections = node.get("rejections")
        if rejections is None or rejections.value is None:
            return
        if not rejections.is_list:
            self.issue(
                rejections.source,
                f"'rejections' must be a list, found {rejections.kind()}",
                step.id,
            )
            return
        for item in rejections.value:
            condition_node = item.get("if")
            if condition_node is None:
                self.issue(item.source, "each rejection needs an 'if' condition", step.id)
                continue
            for key in item.value:
                if key not in ("if", "utter"):
                    self.issue(
                        item.key_source(key),
                        f"unknown key '{key}' in a rejection (expected if, utter)",
                        step.id,
                    )
            condition = compile_at(condition_node, self.issues, self.flow_id, step.id)
            utter_node = item.get("utter")
            reject_utter = (
                self.text(utter_node, "utter", step.id) if utter_node is not None else None
            )
            if condition is not None:
                step.rejections.append(Rejection(condition, reject_utter, item.source))

    # -- next ------------------------------------------------------------------------------

    def next_branches(self, step: Step, node: YamlNode) -> list[NextBranch]:
        if isinstance(node.value, str):
            if not node.value:
                self.issue(node.source, "'next' must not be empty", step.id)
                return [NextBranch(None, END)]
            return [NextBranch(None, node.value, node.source)]
        if not node.is_list or not node.value:
            self.issue(
                node.source,
                f"'next' must be a step id, END, or a list of if/then and else, found {node.kind()}",
                step.id,
            )
            return [NextBranch(None, END)]
        branches: list[NextBranch] = []
        for index, item in enumerate(node.value):
            if branches and branches[-1].condition is None:
                self.issue(item.source, "nothing may follow the 'else' branch of 'next'", step.id)
                break
            if not item.is_map:
                self.issue(
                    item.source, f"a 'next' branch must be a mapping, found {item.kind()}", step.id
                )
                continue
            if "else" in item.value:
                extra = [k for k in item.value if k != "else"]
                if extra:
                    self.issue(
                        item.key_source(extra[0]),
                        f"unexpected '{extra[0]}' next to 'else'",
                        step.id,
                    )
                else_node: YamlNode = item.value["else"]
                target = self.branch_target(step, else_node, f"{step.id}_else_")
                branches.append(NextBranch(None, target, item.source))
                continue
            condition_node, then_node = item.get("if"), item.get("then")
            if condition_node is None or then_node is None:
                missing = "if" if condition_node is None else "then"
                self.issue(
                    item.source,
                    f"a 'next' branch needs 'if' and 'then' (missing '{missing}')",
                    step.id,
                )
                continue
            for key in item.value:
                if key not in ("if", "then"):
                    self.issue(
                        item.key_source(key), f"unexpected '{key}' in a 'next' branch", step.id
                    )
            condition = compile_at(condition_node, self.issues, self.flow_id, step.id)
            target = self.branch_target(step, then_node, f"{step.id}_then{index}_")
            if condition is not None:
                branches.append(NextBranch(condition, target, item.source))
        return branches or [NextBranch(None, END)]

    def branch_target(self, step: Step, node: YamlNode, prefix: str) -> str:
        """A step id, or the first id of a nested step list (which gets flattened)."""
        if isinstance(node.value, str) and node.value:
            return node.value
        if node.is_list and node.value:
            first = self.step_list(node.value, prefix=prefix, nested=True)
            return first or END
        self.issue(
            node.source,
            f"a branch target must be a step id, END or a list of steps, found {node.kind()}",
            step.id,
        )
        return END

    # -- small values ----------------------------------------------------------------------

    def text(self, node: YamlNode, what: str, step_id: str | None = None) -> str | None:
        if isinstance(node.value, str):
            return node.value
        self.issue(node.source, f"'{what}' must be text, found {node.kind()}", step_id)
        return None

    def required_name(self, node: YamlNode, key: str, step_id: str) -> str | None:
        value = node.get(key)
        if value is None or not isinstance(value.value, str) or not value.value.strip():
            where = value.source if value is not None else node.source
            found = value.kind() if value is not None else "nothing"
            self.issue(where, f"'{key}' must be a name, found {found}", step_id)
            return None
        return value.value.strip()

    def flag(self, node: YamlNode, what: str, default: bool, step_id: str | None = None) -> bool:
        if isinstance(node.value, bool):
            return node.value
        self.issue(node.source, f"'{what}' must be true or false, found {node.kind()}", step_id)
        return default

    def mapping(self, node: YamlNode, what: str, step_id: str | None = None) -> dict[str, Any]:
        if node.is_map:
            plain: dict[str, Any] = node.plain()
            return plain
        if node.value is not None:
            self.issue(node.source, f"'{what}' must be a mapping, found {node.kind()}", step_id)
        return {}

    def string_list(self, node: YamlNode | None, what: str) -> list[str]:
        if node is None or node.value is None:
            return []
        if not node.is_list or not all(isinstance(item.value, str) for item in node.value):
            self.issue(node.source, f"'{what}' must be a list of names")
            return []
        return [item.value for item in node.value]

    def nlu_trigger(self, node: YamlNode | None) -> list[NluTrigger]:
        if node is None or node.value is None:
            return []
        items = node.value if node.is_list else [node]
        triggers: list[NluTrigger] = []
        for item in items:
            trigger = self.one_trigger(item)
            if trigger is not None:
                triggers.append(trigger)
        return triggers

    def one_trigger(self, item: YamlNode) -> NluTrigger | None:
        empty = item if item.value == "" else item.get("intent")
        if empty is not None and empty.value == "":
            self.issue(empty.source, "'nlu_trigger': the intent name is empty")
            return None
        if isinstance(item.value, str):
            return NluTrigger(item.value, source=item.source)
        intent = item.get("intent")
        if intent is not None and isinstance(intent.value, str):
            return NluTrigger(intent.value, source=intent.source)
        if intent is not None and intent.is_map:
            name, threshold = intent.get("name"), intent.get("confidence_threshold")
            if name is not None and isinstance(name.value, str):
                value = 0.0
                if threshold is not None:
                    if isinstance(threshold.value, (int, float)) and not isinstance(
                        threshold.value, bool
                    ):
                        value = float(threshold.value)
                    else:
                        self.issue(threshold.source, "'confidence_threshold' must be a number")
                return NluTrigger(name.value, value, source=name.source)
        self.issue(
            item.source,
            "each 'nlu_trigger' item must be '- intent: <name>' or "
            "'- intent: {name: <name>, confidence_threshold: <number>}'",
        )
        return None

    def step_actions(
        self, node: YamlNode | None, what: str, step_id: str | None
    ) -> list[StepAction]:
        if node is None or node.value is None:
            return []
        if not node.is_list:
            self.issue(
                node.source,
                f"'{what}' must be a list of '- type: ...' items, found {node.kind()}",
                step_id,
            )
            return []
        actions: list[StepAction] = []
        for item in node.value:
            kind = item.get("type")
            if not item.is_map or kind is None or not isinstance(kind.value, str) or not kind.value:
                self.issue(
                    item.source, f"each '{what}' item needs a 'type' (like '- type: say')", step_id
                )
                continue
            params = {key: value.plain() for key, value in item.items() if key != "type"}
            actions.append(StepAction(kind.value, params, item.source))
        return actions


def _no_kind(node: YamlNode) -> str:
    """Say which keys a step without a kind has, suggesting the kind it probably meant."""
    keys = list(node.value)
    if not keys:
        return "an empty step"
    text = "none; it has " + ", ".join(f"'{key}'" for key in keys)
    for key in keys:
        close = difflib.get_close_matches(str(key), list(_KIND_KEYS), n=1, cutoff=0.7)
        if close:
            return f"{text} - did you mean '{close[0]}'?"
    return text


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
