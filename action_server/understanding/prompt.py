"""The command generator's prompt: what the LLM is shown each turn.

Two parts are rendered exactly as Rasa renders them, because prompt templates, recorded LLM
answers and fine-tuned models depend on them:

- *Current State* (``current_state_text``): ``You are currently not inside any flow.`` or one
  JSON line ``{"active_flow", "current_step": {...}, "slots": [...]}``;
- *Conversation History* (``conversation_history``): the last 20 user and bot messages since
  the latest restart or session start, ``USER: text`` / ``AI: text`` per line, newlines inside a
  message replaced by spaces, then the user's latest message.

``template_inputs`` gives the variables Rasa gives its prompt templates, so a project's own
Jinja2 ``prompt_template`` works unchanged (``load_prompt_template`` checks it at load time).
The rest of the default prompt is ours, in the structure of Rasa's compact generator.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import jinja2.nodes

from action_server.flows.model import Flow, FlowProject, SlotDefinition, Step
from action_server.stores.store import ConversationState
from action_server.understanding.command_parser import (
    llm_may_fill,
    startable_flow_ids,
    top_frames,
)

__all__ = [
    "NOT_IN_FLOW",
    "TEMPLATE_VARIABLES",
    "PromptBuilder",
    "PromptTemplateError",
    "allowed_values_for_slot",
    "conversation_history",
    "current_state_text",
    "load_prompt_template",
]

NOT_IN_FLOW = "You are currently not inside any flow."
MAX_TURNS = 20
TEMPLATE_VARIABLES = frozenset(
    {
        "available_flows",
        "current_conversation",
        "flow_slots",
        "current_flow",
        "current_slot",
        "current_slot_description",
        "current_slot_type",
        "current_slot_allowed_values",
        "user_message",
        "is_repeat_command_enabled",
        # ours, for templates that want the rendered block as is
        "current_state",
    }
)
# What Rasa shows for a user message that triggered an input error.
_ERROR_PLACEHOLDER = {
    "rasa_internal_error_user_input_too_long": "[User sent really long message]",
    "rasa_internal_error_user_input_empty": "",
}
_DEFAULT_ERROR_PLACEHOLDER = "[User input triggered an error]"


class PromptTemplateError(ValueError):
    """A prompt template that cannot be used; the message names the file and line."""


def _text(value: Any) -> str:
    """What Jinja prints for a value: ``None`` for None, ``str`` otherwise."""
    return "None" if value is None else str(value)


def _json_string(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def allowed_values_for_slot(slot: SlotDefinition | None) -> str | None:
    """Rasa's rendering: ``[True, False]`` for bools, the value list for categoricals."""
    if slot is None:
        return None
    if slot.type == "bool":
        return str([True, False])
    if slot.type == "categorical":
        return str([v for v in (slot.values or []) if v != "__other__"])
    return None


# --- Conversation History --------------------------------------------------------------------


def _sanitize(text: Any) -> str:
    return text.replace("\n", " ") if isinstance(text, str) and text else ""


def _user_line_text(event: Mapping[str, Any]) -> str:
    parse_data = event.get("parse_data") or {}
    for command in parse_data.get("commands") or []:
        if isinstance(command, dict) and command.get("command") == "error":
            return _ERROR_PLACEHOLDER.get(
                str(command.get("error_type")), _DEFAULT_ERROR_PLACEHOLDER
            )
    return _sanitize(event.get("text"))


def conversation_history(
    events: Iterable[Mapping[str, Any]], latest_message: str, max_turns: int = MAX_TURNS
) -> str:
    """Rasa's transcript of the applied events (after the latest restart or session start),
    the last ``max_turns`` lines, then ``USER: <latest message>``."""
    lines: list[str] = []
    for event in events:
        kind = event.get("event")
        if kind in ("restart", "session_started"):
            lines = []
        elif kind == "rewind":  # the user's last message is taken back
            for index in range(len(lines) - 1, -1, -1):
                if lines[index].startswith("USER: "):
                    del lines[index:]
                    break
        elif kind == "user":
            lines.append(f"USER: {_user_line_text(event)}")
        elif kind == "bot":
            lines.append(f"AI: {_sanitize(event.get('text'))}")
    if max_turns:
        lines = lines[-max_turns:]
    return "\n".join(lines) + f"\nUSER: {_sanitize(latest_message)}"


# --- Current State ---------------------------------------------------------------------------


def current_state_text(
    current_flow: str | None,
    current_slot: str | None,
    current_slot_description: str | None,
    flow_slots: list[dict[str, Any]],
) -> str:
    """The Current State block's content: one JSON line, or the not-in-a-flow sentence."""
    if current_flow is None:
        return NOT_IN_FLOW
    parts = []
    for slot in flow_slots:
        entry = (
            f'{{"name":"{_text(slot["name"])}","value":"{_text(slot["value"])}",'
            f'"type":"{_text(slot["type"])}"'
        )
        if slot.get("description"):
            entry += f',"description":{_json_string(slot["description"])}'
        if slot.get("allowed_values"):
            entry += f',"allowed_values":"{_text(slot["allowed_values"])}"'
        parts.append(entry + "}")
    return (
        f'{{"active_flow":"{current_flow}","current_step":{{"requested_slot":'
        f'"{_text(current_slot)}","requested_slot_description":'
        f'{_json_string(current_slot_description)}}},"slots":[{",".join(parts)}]}}'
    )


# --- the template inputs ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Collect:
    """A collect step as the prompt needs it (precomputed once per project)."""

    step_id: str
    slot: str
    description: str | None
    ask_before_filling: bool
    llm_fillable: bool
    type: str
    allowed_values: str | None


class PromptBuilder:
    """Renders the prompt for one project; per-project facts are computed once."""

    def __init__(
        self,
        project: FlowProject,
        template: jinja2.Template | None = None,
        *,
        repeat_command_enabled: bool = False,
        max_turns: int = MAX_TURNS,
    ) -> None:
        self.project = project
        self.template = template or default_template()
        self.repeat_command_enabled = repeat_command_enabled
        self.max_turns = max_turns
        self._collects: dict[str, list[_Collect]] = {
            flow.id: self._collects_of(flow) for flow in project.flows.values()
        }

    def _collects_of(self, flow: Flow) -> list[_Collect]:
        result = []
        seen: set[str] = set()
        for step in flow.steps.values():
            if not step.collect or step.collect in seen:
                continue
            seen.add(step.collect)
            slot = self.project.domain.slots.get(step.collect)
            if slot is None:
                continue
            result.append(
                _Collect(
                    step_id=step.id,
                    slot=step.collect,
                    description=step.description,
                    ask_before_filling=step.ask_before_filling,
                    llm_fillable=llm_may_fill(slot),
                    type=slot.type,
                    allowed_values=allowed_values_for_slot(slot),
                )
            )
        return result

    @staticmethod
    def _extractable(collect: _Collect, current_step: Step | None) -> bool:
        if not collect.llm_fillable:
            return False
        return not collect.ask_before_filling or (
            current_step is not None and current_step.collect == collect.slot
        )

    def inputs(self, text: str, state: ConversationState) -> dict[str, Any]:
        """The variables Rasa gives its command prompt templates, plus ``current_state``."""
        slots = state.slots
        calling, called = top_frames(state.stack)
        top_flow = self.project.flows.get(str(calling.get("flow_id"))) if calling else None
        current_step: Step | None = None
        if called is not None:
            called_flow = self.project.flows.get(str(called.get("flow_id")))
            if called_flow is not None:
                current_step = called_flow.steps.get(str(called.get("step_id")))
        flow_slots = []
        if top_flow is not None:
            for collect in self._collects[top_flow.id]:
                if self._extractable(collect, current_step):
                    value = slots.get(collect.slot)
                    flow_slots.append(
                        {
                            "name": collect.slot,
                            "value": "undefined" if value is None else str(value),
                            "type": collect.type,
                            "allowed_values": collect.allowed_values,
                            "description": collect.description,
                        }
                    )
        current_slot = current_step.collect if current_step is not None else None
        current_slot_description = (
            current_step.description if current_step is not None and current_slot else None
        )
        slot_def = self.project.domain.slots.get(current_slot) if current_slot else None
        available = []
        for flow_id in startable_flow_ids(self.project, slots):
            flow = self.project.flows[flow_id]
            available.append(
                {
                    "name": flow.id,
                    "description": flow.description,
                    "slots": [
                        {
                            "name": c.slot,
                            "description": c.description,
                            "allowed_values": c.allowed_values,
                        }
                        for c in self._collects[flow.id]
                        if self._extractable(c, None)
                    ],
                }
            )
        current_flow = top_flow.id if top_flow is not None else None
        latest = _sanitize(text)
        return {
            "available_flows": available,
            "current_conversation": conversation_history(state.events, text, self.max_turns),
            "flow_slots": flow_slots,
            "current_flow": current_flow,
            "current_slot": current_slot,
            "current_slot_description": current_slot_description,
            "current_slot_type": slot_def.type if slot_def else None,
            "current_slot_allowed_values": allowed_values_for_slot(slot_def),
            "user_message": latest,
            "is_repeat_command_enabled": self.repeat_command_enabled,
            "current_state": current_state_text(
                current_flow, current_slot, current_slot_description, flow_slots
            ),
        }

    def render(self, text: str, state: ConversationState) -> str:
        return self.template.render(**self.inputs(text, state))


# --- templates -------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
    env.filters["to_json_escaped_string"] = _json_string
    env.filters["tojson_compact"] = lambda value: json.dumps(value, ensure_ascii=False)
    return env


_ENV = _environment()

DEFAULT_TEMPLATE = """\
## Task Description
You turn the latest message of a user into a short list of actions for an assistant that \
runs business processes called flows. An action starts a flow, fills a slot, or routes \
small talk and questions.

---

## Available Flows and Slots
Each flow with its description and the slots it collects:
```json
{{ available_flows | tojson_compact }}
```

---

## Available Actions:
* `start flow flow_name`: start a flow, e.g. `start flow book_table`.
* `set slot slot_name slot_value`: fill or correct a slot, e.g. `set slot party_size 4`.
* `cancel flow`: stop the current flow, only when the user asks to.
* `disambiguate flows flow_name1 flow_name2 ...`: the message could mean several flows; \
list them so the user can pick one.
* `provide info`: the user asks a question that needs knowledge, not a flow.
* `offtopic reply`: small talk or a message unrelated to any flow.
* `hand over`: the user wants a human or is clearly frustrated.
{%- if is_repeat_command_enabled %}
* `repeat message`: the user wants to hear the last answer again.
{%- endif %}

---

## General Tips
* Only use what the user said; never fill a slot with a guess or a placeholder.
* Categorical slots take one of their allowed values; booleans take True or False.
* Copy text slot values as the user wrote them.
* Starting a second flow does not need a cancel of the first.
* One action per line, exactly in the format above, nothing else.
* Decide on the latest message; earlier turns are context.

---

## Current State
{% if current_flow != None %}Use the following structured data:
```json
{{ current_state }}
```{% else %}
{{ current_state }}{% endif %}

---

## Conversation History
{{ current_conversation }}

---

## Task
Write the action list, one action per line, for the user's latest message: \
\"\"\"{{ user_message }}\"\"\".

Your action list:"""


def default_template() -> jinja2.Template:
    return _ENV.from_string(DEFAULT_TEMPLATE)


def load_prompt_template(path: str | Path) -> jinja2.Template:
    """A custom prompt template; PromptTemplateError names file and line of any problem,
    including a variable the generator does not provide."""
    file = Path(path)
    try:
        source = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptTemplateError(f"{file}: cannot read the prompt template: {exc}") from exc
    try:
        tree = _ENV.parse(source, name=str(file))
    except jinja2.TemplateSyntaxError as exc:
        raise PromptTemplateError(f"{file}:{exc.lineno}: invalid template: {exc.message}") from exc
    unknown = jinja2.meta.find_undeclared_variables(tree) - TEMPLATE_VARIABLES - set(_ENV.globals)
    if unknown:
        lines: dict[str, int] = {}
        for node in tree.find_all(jinja2.nodes.Name):
            if node.name in unknown and node.ctx == "load":
                lines[node.name] = min(lines.get(node.name, node.lineno), node.lineno)
        first = min(unknown, key=lambda name: (lines.get(name, 0), name))
        known = ", ".join(sorted(TEMPLATE_VARIABLES))
        raise PromptTemplateError(
            f"{file}:{lines.get(first, 1)}: unknown template variable '{first}' "
            f"(available: {known})"
        )
    return _ENV.from_string(source)
