"""Static checks over a loaded ``FlowProject``: every problem at once, each with a position.

``validate`` checks the model; ``validate_paths`` loads files and validates them, for
``action-server flows validate PATH...``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from action_server.flows.issues import FlowsLoadError, Issue
from action_server.flows.loader import load_project
from action_server.flows.model import (
    END,
    RESERVED_STEP_IDS,
    Condition,
    Flow,
    FlowProject,
    SourceRef,
    Step,
    StepAction,
)
from action_server.flows.patterns import LINKABLE_PATTERNS, is_pattern

__all__ = [
    "BUILTIN_ACTIONS",
    "DEFAULT_INTENTS",
    "DEFAULT_STEP_ACTION_TYPES",
    "ValidationIssue",
    "load_flows",
    "validate",
    "validate_paths",
    "summary_line",
]

ValidationIssue = Issue

BUILTIN_ACTIONS: frozenset[str] = frozenset(
    {
        "action_listen",
        "action_restart",
        "action_session_start",
        "action_default_fallback",
        "action_deactivate_loop",
        "action_back",
        "action_two_stage_fallback",
        "action_unlikely_intent",
        "action_extract_slots",
        "action_default_ask_affirmation",
        "action_default_ask_rephrase",
        "action_revert_fallback_events",
        "action_cancel_flow",
        "action_clean_stack",
        "action_correct_flow_slot",
        "action_run_slot_rejections",
        "action_trigger_search",
        "action_trigger_chitchat",
        "action_reset_routing",
        "action_hangup",
        "action_repeat_bot_messages",
        "action_validate_slot_mappings",
        "action_clarify_flows",
        "action_continue_interrupted_flow",
        "action_cancel_interrupted_flows",
    }
)
"""Action names Rasa (and our engine) provide without a declaration."""

DEFAULT_INTENTS: frozenset[str] = frozenset(
    {"restart", "back", "out_of_scope", "session_start", "nlu_fallback"}
)
"""Intents Rasa adds to every domain, so a trigger may name them without a declaration."""

DEFAULT_STEP_ACTION_TYPES: frozenset[str] = frozenset(
    {"say", "tts_say", "end_conversation", "function", "transfer"}
)


def validate(
    project: FlowProject,
    registered_actions: Iterable[str] = frozenset(),
    builtin_actions: Iterable[str] = BUILTIN_ACTIONS,
    step_action_types: Iterable[str] | None = None,
) -> list[Issue]:
    """Every problem in ``project``, in flow and step order."""
    checker = _Checker(
        project,
        frozenset(registered_actions),
        frozenset(builtin_actions),
        DEFAULT_STEP_ACTION_TYPES if step_action_types is None else frozenset(step_action_types),
    )
    return checker.run()


def validate_paths(
    paths: list[str],
    domain_paths: list[str] | None = None,
    registered_actions: Iterable[str] = frozenset(),
    step_action_types: Iterable[str] | None = None,
) -> tuple[FlowProject | None, list[Issue], list[str]]:
    """Load and validate files; the project is None when there is any issue."""
    result = load_project(paths, domain_paths)
    issues = list(result.issues)
    if not result.project.files and not issues:
        where = ", ".join(str(Path(p)) for p in [*paths, *(domain_paths or [])])
        issues.append(Issue(where, 0, 0, "no flows or domain files found"))
    issues.extend(validate(result.project, registered_actions, step_action_types=step_action_types))
    return (None if issues else result.project), issues, result.notes


def summary_line(project: FlowProject, skipped_files: int = 0) -> str:
    """One line for a clean ``flows validate`` run."""
    flows = project.user_flows()
    steps = sum(len(flow.steps) for flow in flows)
    domain = project.domain
    slots = len(domain.slots) - len(project.default_slots)
    responses = len(domain.responses) - len(project.default_responses)
    line = f"OK: {len(flows)} flows, {steps} steps, {slots} slots, {responses} responses"
    overridden = sorted(f.id for f in flows if is_pattern(f.id))
    if overridden:
        line += f", {len(overridden)} patterns overridden"
    if skipped_files:
        line += f" ({skipped_files} file{'s' if skipped_files != 1 else ''} skipped)"
    return line


class _Checker:
    def __init__(
        self,
        project: FlowProject,
        registered: frozenset[str],
        builtin: frozenset[str],
        step_types: frozenset[str],
    ) -> None:
        self.project = project
        self.domain = project.domain
        self.step_types = step_types
        self.known_actions = (
            set(self.domain.actions) | set(self.domain.responses) | registered | builtin
        )
        self.issues: list[Issue] = []
        self.called = {
            step.call
            for flow in project.flows.values()
            for step in flow.steps.values()
            if step.call
        }

    def add(self, source: object, message: str, flow: Flow, step: Step | None = None) -> None:
        ref = source if isinstance(source, SourceRef) else getattr(source, "source", None)
        self.issues.append(Issue.at(ref, message, flow.id, step.id if step else None))

    def run(self) -> list[Issue]:
        self.check_slot_validation()
        for flow in self.project.flows.values():
            self.check_flow(flow)
        self.check_flow_cycles()
        return self.issues

    def check_slot_validation(self) -> None:
        """The domain's slot ``validation`` names responses that must exist."""
        for slot in self.domain.slots.values():
            names = [(r.utter, r.source) for r in slot.rejections if r.utter]
            if slot.refill_utter:
                names.append((slot.refill_utter, slot.source))
            for name, source in names:
                if name not in self.domain.responses:
                    self.issues.append(
                        Issue.at(
                            source or slot.source,
                            f"slot '{slot.name}': validation names unknown response '{name}'",
                        )
                    )

    # -- per flow --------------------------------------------------------------------------

    def check_flow(self, flow: Flow) -> None:
        self.check_nlu_trigger(flow)
        if not flow.steps:
            if not flow.declared_steps:  # otherwise the loader already said what was wrong
                self.add(flow, "the flow has no steps", flow)
            return
        if flow.guard is not None:
            self.check_condition_slots(flow.guard, flow, None)
        for slot in flow.persisted_slots:
            if slot not in self.domain.slots:
                self.add(flow, f"persisted slot '{slot}' is not a domain slot", flow)
        self.check_step_actions(flow.pre_actions, flow, None)
        self.check_step_actions(flow.post_actions, flow, None)
        for step in flow.steps.values():
            self.check_step(flow, step)
        reachable = self.reachable(flow)
        for step in flow.steps.values():
            if step.id not in reachable:
                self.add(step, "unreachable step: no step leads here", flow, step)
        self.check_step_cycles(flow, reachable)

    def check_nlu_trigger(self, flow: Flow) -> None:
        # A domain without an intents list (flows-only projects) leaves triggers unchecked.
        if not self.domain.intents:
            return
        known = set(self.domain.intents) | DEFAULT_INTENTS
        for trigger in flow.nlu_trigger:
            if trigger.intent not in known:
                self.add(
                    trigger.source or flow.source,
                    f"nlu_trigger: unknown intent '{trigger.intent}' "
                    "(not in the domain's 'intents')",
                    flow,
                )

    def check_step(self, flow: Flow, step: Step) -> None:
        if step.id in RESERVED_STEP_IDS or (step.id.startswith("__") and not step.id_generated):
            self.add(
                step,
                f"step id '{step.id}' is reserved (END, START and ids starting with '__')",
                flow,
                step,
            )
        for branch in step.next:
            if branch.target != END and branch.target not in flow.steps:
                self.add(
                    branch.source or step.source,
                    f"'next' points to unknown step '{branch.target}'",
                    flow,
                    step,
                )
            if branch.condition is not None:
                self.check_condition_slots(branch.condition, flow, step)
        if step.next_explicit and step.next and step.next[-1].condition is not None:
            self.add(step, "the 'next' branches need a final '- else: ...'", flow, step)
        self.check_step_actions(step.pre_actions, flow, step)
        self.check_step_actions(step.post_actions, flow, step)
        getattr(self, f"check_{step.kind}")(flow, step)

    def check_action(self, flow: Flow, step: Step) -> None:
        # "{{context.x}}" names are filled from the pattern's context when it runs.
        if step.action and "{{" in step.action:
            return
        if step.action and step.action not in self.known_actions:
            self.add(
                step,
                f"unknown action '{step.action}': not a domain response, not declared under "
                "'actions' in the domain, not a registered custom action and not built in",
                flow,
                step,
            )

    def check_collect(self, flow: Flow, step: Step) -> None:
        slot_name = step.collect
        if not slot_name:
            return
        slot = self.domain.slots.get(slot_name)
        if slot is None:
            self.add(step, f"collect: unknown slot '{slot_name}' (not in the domain)", flow, step)
        if step.utter_explicit:
            if step.utter not in self.domain.responses:
                self.add(step, f"collect: unknown response '{step.utter}'", flow, step)
        elif slot is not None and not (
            step.utter in self.domain.responses
            or step.ask_action in self.known_actions
            or slot.initial_value is not None
        ):
            self.add(
                step,
                f"collect '{slot_name}' has no way to ask: add a response '{step.utter}', "
                f"an action '{step.ask_action}', or an 'utter:'",
                flow,
                step,
            )
        for rejection in step.rejections:
            self.check_condition_slots(rejection.condition, flow, step)
            if rejection.utter and rejection.utter not in self.domain.responses:
                self.add(
                    rejection.source or step.source,
                    f"rejection: unknown response '{rejection.utter}'",
                    flow,
                    step,
                )

    def check_set_slots(self, flow: Flow, step: Step) -> None:
        for name, value in step.set_slots:
            slot = self.domain.slots.get(name)
            if slot is None:
                self.add(step, f"set_slots: unknown slot '{name}' (not in the domain)", flow, step)
                continue
            try:
                slot.coerce(value)
            except ValueError as exc:
                self.add(step, f"set_slots: {exc}", flow, step)

    def check_link(self, flow: Flow, step: Step) -> None:
        if step.next_explicit:
            self.add(step, "a link step ends the flow and must not have 'next'", flow, step)
        if step.link and step.link not in self.project.flows:
            self.add(step, f"link to unknown flow '{step.link}'", flow, step)
        elif (
            step.link
            and is_pattern(step.link)
            and not is_pattern(flow.id)
            and step.link not in LINKABLE_PATTERNS
        ):
            self.add(
                step,
                f"a flow may link only to {' or '.join(sorted(LINKABLE_PATTERNS))} among the "
                f"patterns, not to '{step.link}'",
                flow,
                step,
            )
        if flow.id in self.called:
            self.add(
                step,
                f"flow '{flow.id}' is the target of a 'call' and so must not contain a link "
                "(use 'call', or let the flow end)",
                flow,
                step,
            )

    def check_call(self, flow: Flow, step: Step) -> None:
        if step.call and step.call not in self.project.flows:
            self.add(step, f"call to unknown flow '{step.call}'", flow, step)
        elif step.call and is_pattern(step.call):
            self.add(step, f"a flow cannot call the pattern '{step.call}'", flow, step)
        elif step.call == flow.id:
            self.add(step, f"flow '{flow.id}' calls itself", flow, step)

    def check_noop(self, flow: Flow, step: Step) -> None:
        return None

    def check_condition_slots(self, condition: Condition, flow: Flow, step: Step | None) -> None:
        for name in sorted(condition.slot_names):
            if name not in self.domain.slots:
                text = condition.text
                self.add(
                    condition.slot_source(name),
                    f"condition {text!r} uses unknown slot '{name}' (not in the domain)",
                    flow,
                    step,
                )

    def check_step_actions(self, actions: list[StepAction], flow: Flow, step: Step | None) -> None:
        for action in actions:
            if action.type not in self.step_types:
                self.add(
                    action,
                    f"unknown step action type '{action.type}' "
                    f"(known: {', '.join(sorted(self.step_types))})",
                    flow,
                    step,
                )

    # -- graph -----------------------------------------------------------------------------

    @staticmethod
    def successors(flow: Flow, step: Step) -> Iterator[str]:
        for branch in step.next:
            if branch.target in flow.steps:
                yield branch.target

    def reachable(self, flow: Flow, *, through_collect: bool = True) -> set[str]:
        """Step ids reachable from the first step; ``through_collect=False`` stops at collects."""
        seen: set[str] = set()
        todo = [flow.first_step_id] if flow.first_step_id in flow.steps else []
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            step = flow.steps[current]
            if through_collect or step.kind != "collect":
                todo.extend(self.successors(flow, step))
        return seen

    def check_step_cycles(self, flow: Flow, reachable: set[str]) -> None:
        """A loop of steps with no collect would spin without ever waiting for the user."""
        graph = {
            sid: [t for t in self.successors(flow, flow.steps[sid]) if t in reachable]
            for sid in flow.steps
            if sid in reachable
        }
        for component in _strongly_connected(graph):
            looping = len(component) > 1 or component[0] in graph[component[0]]
            if looping and not any(flow.steps[s].kind == "collect" for s in component):
                ordered = [s for s in flow.steps if s in component]
                first = flow.steps[ordered[0]]
                self.add(
                    first,
                    "steps " + " -> ".join(ordered) + " form a loop without a collect step, "
                    "so the flow could run forever without waiting for the user",
                    flow,
                    first,
                )

    def check_flow_cycles(self) -> None:
        """Flows that link/call each other in a circle without any collect on the way."""
        edges: dict[str, list[str]] = {}
        via: dict[tuple[str, str], Step] = {}
        for flow in self.project.flows.values():
            targets: list[str] = []
            for step in self.collect_free_steps(flow):
                target = step.link or step.call
                if target and target in self.project.flows:
                    targets.append(target)
                    via.setdefault((flow.id, target), step)
            edges[flow.id] = targets
        for component in _strongly_connected(edges):
            looping = len(component) > 1 or component[0] in edges[component[0]]
            if not looping:
                continue
            ordered = [f for f in self.project.flows if f in component]
            start = self.project.flows[ordered[0]]
            nxt = next(t for t in edges[start.id] if t in component)
            step = via[(start.id, nxt)]
            if len(ordered) == 1 and step.call == start.id:
                continue  # already reported as "calls itself"
            self.add(
                step,
                "flows " + " -> ".join([*ordered, ordered[0]]) + " link or call each other "
                "in a loop without a collect step, so they could run forever",
                start,
                step,
            )

    def collect_free_steps(self, flow: Flow) -> list[Step]:
        """Steps reachable from the start without passing through a collect step."""
        seen = self.reachable(flow, through_collect=False)
        return [flow.steps[s] for s in flow.steps if s in seen and flow.steps[s].kind != "collect"]


def _strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (flows can be long); nodes missing from graph are ignored."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child_pos = work.pop()
            if child_pos == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = [c for c in graph.get(node, []) if c in graph]
            if child_pos < len(children):
                work.append((node, child_pos + 1))
                child = children[child_pos]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def load_flows(
    paths: Iterable[str | Path],
    domain_paths: Iterable[str | Path] | None = None,
    registered_actions: Iterable[str] = (),
    step_action_types: Iterable[str] | None = None,
) -> FlowProject:
    """Load and validate; raises ``FlowsLoadError`` listing every problem. For the engine."""
    result = load_project(paths, domain_paths)
    problems = list(result.issues)
    problems.extend(
        validate(
            result.project,
            registered_actions=frozenset(registered_actions),
            step_action_types=None if step_action_types is None else frozenset(step_action_types),
        )
    )
    if problems:
        raise FlowsLoadError(problems)
    return result.project
