"""Render domain responses (``utter_*``) into bot messages, with ``{slot}`` interpolation.

Variation choice is deterministic (tests and e2e runs must not flake): the first variation
whose ``condition`` holds wins; conditional variations take precedence over plain ones, as in
Rasa; variations for the current ``channel`` win over generic ones, and variations for
another channel are never used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from action_server.flows.model import Domain

__all__ = ["MESSAGE_KEYS", "interpolate", "render_response", "select_variation"]

MESSAGE_KEYS = ("text", "buttons", "image", "custom", "attachment", "elements", "quick_replies")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _display(value: Any) -> str:
    # Float slots hold 4.0 for "4"; saying "a table for 4.0" reads badly (Rasa would).
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def interpolate(value: Any, values: Mapping[str, Any]) -> Any:
    """Replace ``{name}`` in every string of ``value``; unknown names stay as written.

    A known name whose value is None renders as ``None``, exactly like Rasa; whole-number
    floats render without ``.0``.
    """
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            return _display(values[name]) if name in values else match.group(0)

        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, list):
        return [interpolate(item, values) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, values) for key, item in value.items()}
    return value


def _condition_holds(condition: Any, slots: Mapping[str, Any]) -> bool:
    """Rasa response conditions: a list of ``{type: slot, name, value}``, all must hold."""
    if not isinstance(condition, list):
        return False
    for item in condition:
        if not isinstance(item, dict) or item.get("type", "slot") != "slot":
            return False
        if slots.get(str(item.get("name"))) != item.get("value"):
            return False
    return True


def select_variation(
    variations: list[dict[str, Any]], slots: Mapping[str, Any], channel: str | None = None
) -> dict[str, Any] | None:
    """The variation to send, or None when no variation applies."""
    groups = [[v for v in variations if v.get("channel") is None]]
    if channel is not None:  # variations for this channel win over generic ones
        groups.insert(0, [v for v in variations if v.get("channel") == channel])
    for usable in groups:
        for variation in usable:
            if "condition" in variation and _condition_holds(variation["condition"], slots):
                return variation
        for variation in usable:
            if "condition" not in variation:
                return variation
    return None


def render_response(
    name: str,
    domain: Domain,
    slots: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    channel: str | None = None,
) -> dict[str, Any] | None:
    """The bot message for response ``name``; None if the domain has no usable variation.

    ``extra`` values (e.g. keyword arguments of ``dispatcher.utter_message(response=...)``)
    take precedence over slot values in interpolation.
    """
    variations = domain.responses.get(name)
    if not variations:
        return None
    variation = select_variation(variations, slots, channel)
    if variation is None:
        return None
    values: dict[str, Any] = dict(slots)
    if extra:
        values.update(extra)
    message: dict[str, Any] = {}
    for key in MESSAGE_KEYS:
        if variation.get(key) is not None:
            message[key] = interpolate(variation[key], values)
    return message
