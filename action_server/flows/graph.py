"""Draw one flow as a Mermaid flowchart: a node per step, edges labelled with conditions.

Collect-step rejections show as dotted loops back to the step.

Paste the output into any Mermaid renderer (GitHub renders ```mermaid blocks) to review a
flow's branches without reading YAML.
"""

from __future__ import annotations

from action_server.flows.model import END, Flow, Step

__all__ = ["flow_to_mermaid", "node_ids", "step_label"]

_MAX_LABEL = 60


def _escape(text: str) -> str:
    """Mermaid labels are quoted; quotes (and "<", read as HTML) need entity codes."""
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace("\n", " ")


def _short(text: str) -> str:
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


def _value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def step_label(step: Step) -> str:
    """A short, human label: what the step does (its id when it was written in the YAML)."""
    if step.kind == "collect":
        label = f"collect {step.collect}"
    elif step.kind == "action":
        label = str(step.action)
    elif step.kind == "set_slots":
        label = "set_slots " + ", ".join(f"{name}={_value(v)}" for name, v in step.set_slots)
    elif step.kind == "link":
        label = f"link -> {step.link}"
    elif step.kind == "call":
        label = f"call -> {step.call}"
    else:
        label = "noop"
    if not step.id_generated:
        label = f"{step.id}: {label}"
    return _short(label)


def _node(node_id: str, step: Step) -> str:
    label = f'"{_escape(step_label(step))}"'
    shapes = {
        "collect": f"[/{label}/]",
        "call": f"[[{label}]]",
        "link": f">{label}]",
        "noop": f"{{{label}}}",
    }
    return node_id + shapes.get(step.kind, f"[{label}]")


def node_ids(flow: Flow) -> dict[str, str]:
    """The Mermaid node id of each step (s0, s1, ... in step order), and ``END``."""
    ids = {step_id: f"s{index}" for index, step_id in enumerate(flow.steps)}
    ids[END] = "END"
    return ids


def flow_to_mermaid(flow: Flow) -> str:
    """``flowchart TD`` text for ``flow``; node ids are those of ``node_ids``."""
    ids = node_ids(flow)
    lines = ["flowchart TD", f'    START(["{_escape(flow.id)}"])']
    for step_id, step in flow.steps.items():
        lines.append("    " + _node(ids[step_id], step))
    lines.append('    END(["END"])')
    lines.append(f"    START --> {ids.get(flow.first_step_id, 'END')}")
    for step_id, step in flow.steps.items():
        branches = step.next or []
        conditional = any(branch.condition is not None for branch in branches)
        if not branches:
            lines.append(f"    {ids[step_id]} --> END")
        for branch in branches:
            target = ids.get(branch.target)
            if target is None:
                continue  # validation reports unknown targets
            if branch.condition is not None:
                label = _escape(_short(branch.condition.text))
                lines.append(f'    {ids[step_id]} -->|"{label}"| {target}')
            elif conditional:
                lines.append(f"    {ids[step_id]} -->|else| {target}")
            else:
                lines.append(f"    {ids[step_id]} --> {target}")
        for rejection in step.rejections:
            # A rejected answer asks again: a dotted loop back to the collect step.
            label = _escape(_short(f"reject if {rejection.condition.text}"))
            lines.append(f'    {ids[step_id]} -.->|"{label}"| {ids[step_id]}')
    return "\n".join(lines) + "\n"
