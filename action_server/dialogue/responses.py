"""Render domain responses (``utter_*``) into bot messages, with ``{slot}`` interpolation and
``{{context.name}}`` for a pattern's context (the form Rasa's pattern responses use).

Variation choice follows Rasa: variations whose ``condition`` holds take precedence over plain
ones; among the candidates one is picked at random with the caller's ``random.Random`` (seed it
for deterministic runs; without one the first candidate wins); variations for the current
``channel`` win over generic ones, and variations for another channel are never used.
Conditions are Rasa's list form (``[{type: slot, name, value}]``, all must hold) or a
predicate in the flows' condition language (``condition: "slots.tier = 'gold'"``).
A variation with ``metadata: {template: jinja}`` renders its text with Jinja in a sandbox, as
Rasa does (``{{ context.corrected_slots.keys()|join(', ') }}``), with the slots, the extra
values and ``context`` as variables.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from action_server.flows.conditions import ConditionError, compile_condition
from action_server.flows.model import Domain, SourceRef

__all__ = ["MESSAGE_KEYS", "interpolate", "render_response", "select_variation"]

MESSAGE_KEYS = ("text", "buttons", "image", "custom", "attachment", "elements", "quick_replies")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CONTEXT = re.compile(r"\{\{\s*context\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def interpolate(
    value: Any, values: Mapping[str, Any], context: Mapping[str, Any] | None = None
) -> Any:
    """Replace ``{{context.x}}`` and ``{name}`` in every string; unknown names stay as written.

    Values render with Python's ``str()``, exactly like Rasa: None renders as ``None`` and a
    float slot holding 2 as ``2.0``.
    """
    if isinstance(value, str):
        if context is not None and "{{" in value:

            def from_context(match: re.Match[str]) -> str:
                name = match.group(1)
                return str(context[name]) if name in context else match.group(0)

            value = _CONTEXT.sub(from_context, value)

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            return str(values[name]) if name in values else match.group(0)

        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, list):
        return [interpolate(item, values, context) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, values, context) for key, item in value.items()}
    return value


_JINJA = SandboxedEnvironment(autoescape=False)


@lru_cache(maxsize=256)
def _jinja_template(text: str) -> jinja2.Template | None:
    try:
        return _JINJA.from_string(text)
    except jinja2.TemplateError:
        return None


def render_jinja(text: str, values: Mapping[str, Any], context: Mapping[str, Any]) -> str:
    """Render a ``template: jinja`` text; a broken template is sent as written."""
    template = _jinja_template(text)
    if template is None:
        return text
    try:
        return template.render({**values, "context": dict(context), "slots": dict(values)})
    except jinja2.TemplateError:
        return text


@lru_cache(maxsize=256)
def _predicate(text: str) -> Any:
    try:
        return compile_condition(text, SourceRef("<response condition>", 0, 0))
    except ConditionError:
        return None


def _condition_holds(condition: Any, slots: Mapping[str, Any]) -> bool:
    """Rasa response conditions: a list of ``{type: slot, name, value}``, all must hold; or a
    predicate string (an unparsable one never holds)."""
    if isinstance(condition, str):
        predicate = _predicate(condition)
        return predicate is not None and bool(predicate.evaluate(slots, {}))
    if not isinstance(condition, list):
        return False
    for item in condition:
        if not isinstance(item, dict) or item.get("type", "slot") != "slot":
            return False
        if slots.get(str(item.get("name"))) != item.get("value"):
            return False
    return True


def select_variation(
    variations: list[dict[str, Any]],
    slots: Mapping[str, Any],
    channel: str | None = None,
    rng: random.Random | None = None,
) -> dict[str, Any] | None:
    """The variation to send, or None when no variation applies."""
    groups = [[v for v in variations if v.get("channel") is None]]
    if channel is not None:  # variations for this channel win over generic ones
        groups.insert(0, [v for v in variations if v.get("channel") == channel])
    for usable in groups:
        candidates = [
            v for v in usable if "condition" in v and _condition_holds(v["condition"], slots)
        ] or [v for v in usable if "condition" not in v]
        if candidates:
            return rng.choice(candidates) if rng is not None else candidates[0]
    return None


def render_response(
    name: str,
    domain: Domain,
    slots: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    channel: str | None = None,
    *,
    context: Mapping[str, Any] | None = None,
    rng: random.Random | None = None,
) -> dict[str, Any] | None:
    """The bot message for response ``name``; None if the domain has no usable variation.

    ``extra`` values (e.g. keyword arguments of ``dispatcher.utter_message(response=...)``)
    take precedence over slot values in interpolation.
    """
    variations = domain.responses.get(name)
    if not variations:
        return None
    variation = select_variation(variations, slots, channel, rng)
    if variation is None:
        return None
    values: dict[str, Any] = dict(slots)
    if extra:
        values.update(extra)
    message: dict[str, Any] = {}
    jinja = (variation.get("metadata") or {}).get("template") == "jinja"
    for key in MESSAGE_KEYS:
        if variation.get(key) is None:
            continue
        if key == "text" and jinja and isinstance(variation[key], str):
            message[key] = render_jinja(variation[key], values, context or {})
        else:
            message[key] = interpolate(variation[key], values, context or {})
    return message
