"""The domain: slots, responses, actions, intents - parsed from Rasa domain YAML.

Several domain files merge into one ``Domain`` (as Rasa does for a ``domain/`` directory);
a slot or response defined twice is an error naming both places.
"""

from __future__ import annotations

from action_server.flows.conditions import ConditionError, compile_condition
from action_server.flows.issues import Issue
from action_server.flows.model import (
    SLOT_TYPES,
    Domain,
    Rejection,
    SlotDefinition,
    SourceRef,
)
from action_server.flows.yaml_loader import YamlNode

__all__ = ["DOMAIN_KEYS", "parse_domain", "merge_domain"]

DOMAIN_KEYS = frozenset(
    {"slots", "responses", "actions", "intents", "forms", "entities", "session_config"}
)
# Accepted at the top of a domain file but not used by the flow engine.
_IGNORED_KEYS = frozenset({"version", "config", "e2e_actions", "assistant_id"})
_SLOT_KEYS = frozenset(
    {
        "type",
        "initial_value",
        "values",
        "influence_conversation",
        "mappings",
        "min_value",
        "max_value",
        "shared_for_coexistence",
        "validation",
        "description",
    }
)


def parse_domain(root: YamlNode, issues: list[Issue]) -> Domain:
    """Build a ``Domain`` from one file's top-level map; problems go to ``issues``."""
    domain = Domain(files=[root.source.file])
    for key, node in root.items():
        if key == "slots":
            _parse_slots(node, domain, issues)
        elif key == "responses":
            _parse_responses(node, domain, issues)
        elif key == "actions":
            domain.actions.extend(_names(node, "actions", domain, issues))
        elif key == "intents":
            domain.intents.extend(_names(node, "intents", domain, issues))
        elif key == "entities":
            domain.entities.extend(_names(node, "entities", domain, issues))
        elif key == "forms":
            if _expect_map(node, "'forms'", issues):
                domain.forms.update(node.plain())
        elif key == "session_config":
            if _expect_map(node, "'session_config'", issues):
                domain.session_config.update(node.plain())
    return domain


def merge_domain(into: Domain, other: Domain, issues: list[Issue]) -> None:
    """Add ``other`` to ``into``; duplicate slots and responses are reported."""
    for name, slot in other.slots.items():
        if name in into.slots:
            _duplicate(issues, "slot", name, into.sources.get(f"slot:{name}"), slot.source)
            continue
        into.slots[name] = slot
        if slot.source:
            into.sources[f"slot:{name}"] = slot.source
    for name, variations in other.responses.items():
        key = f"response:{name}"
        if name in into.responses:
            _duplicate(issues, "response", name, into.sources.get(key), other.sources.get(key))
            continue
        into.responses[name] = variations
        if key in other.sources:
            into.sources[key] = other.sources[key]
    for attr in ("actions", "intents", "entities"):
        target: list[str] = getattr(into, attr)
        for name in getattr(other, attr):
            if name not in target:
                target.append(name)
    for key, value in other.sources.items():
        into.sources.setdefault(key, value)
    into.forms.update(other.forms)
    into.session_config.update(other.session_config)
    into.files.extend(f for f in other.files if f not in into.files)


def _duplicate(
    issues: list[Issue], what: str, name: str, first: SourceRef | None, again: SourceRef | None
) -> None:
    where = f" (first defined at {first})" if first else ""
    issues.append(Issue.at(again, f"{what} '{name}' is defined twice{where}"))


def _expect_map(node: YamlNode, what: str, issues: list[Issue]) -> bool:
    if node.is_map:
        return True
    if node.value is None:
        return False  # an empty section is fine
    issues.append(Issue.at(node.source, f"{what} must be a mapping, found {node.kind()}"))
    return False


def _parse_slots(node: YamlNode, domain: Domain, issues: list[Issue]) -> None:
    if not _expect_map(node, "'slots'", issues):
        return
    for name, spec in node.items():
        source = node.key_source(name)
        if not spec.is_map:
            issues.append(
                Issue.at(spec.source, f"slot '{name}' must be a mapping, found {spec.kind()}")
            )
            continue
        slot = _parse_slot(name, spec, source, issues)
        if slot is not None:
            domain.slots[name] = slot
            domain.sources[f"slot:{name}"] = source


def _parse_slot(
    name: str, spec: YamlNode, source: SourceRef, issues: list[Issue]
) -> SlotDefinition | None:
    for key in spec.value:
        if key not in _SLOT_KEYS:
            issues.append(
                Issue.at(
                    spec.key_source(key),
                    f"slot '{name}': unknown key '{key}' "
                    f"(expected one of {', '.join(sorted(_SLOT_KEYS))})",
                )
            )
    type_node = spec.get("type")
    if type_node is None:
        issues.append(Issue.at(source, f"slot '{name}' has no 'type'"))
        return None
    slot_type = type_node.value
    if slot_type not in SLOT_TYPES:
        issues.append(
            Issue.at(
                type_node.source,
                f"slot '{name}' has unknown type {slot_type!r} "
                f"(expected one of {', '.join(SLOT_TYPES)})",
            )
        )
        return None
    slot = SlotDefinition(name=name, type=slot_type, source=source)
    values = spec.get("values")
    if slot_type == "categorical":
        if values is None or not values.is_list or not values.value:
            where = values.source if values is not None else source
            issues.append(
                Issue.at(where, f"categorical slot '{name}' needs a non-empty list of 'values'")
            )
            return None
        slot.values = values.plain()
    elif values is not None:
        issues.append(Issue.at(values.source, f"slot '{name}': 'values' is for categorical slots"))
    influence = spec.get("influence_conversation")
    if influence is not None:
        if isinstance(influence.value, bool):
            slot.influence_conversation = influence.value
        else:
            issues.append(
                Issue.at(
                    influence.source,
                    f"slot '{name}': 'influence_conversation' must be true or false",
                )
            )
    for bound in ("min_value", "max_value"):
        bound_node = spec.get(bound)
        if bound_node is None:
            continue
        if isinstance(bound_node.value, (int, float)) and not isinstance(bound_node.value, bool):
            setattr(slot, bound, float(bound_node.value))
        else:
            issues.append(Issue.at(bound_node.source, f"slot '{name}': '{bound}' must be a number"))
    mappings = spec.get("mappings")
    if mappings is not None and mappings.is_list:
        slot.mappings = [m for m in mappings.plain() if isinstance(m, dict)]
    validation = spec.get("validation")
    if validation is not None:
        _parse_validation(slot, validation, issues)
    initial = spec.get("initial_value")
    if initial is not None:
        try:
            slot.initial_value = slot.coerce(initial.plain())
        except ValueError as exc:
            issues.append(Issue.at(initial.source, f"initial_value: {exc}"))
    return slot


def _parse_validation(slot: SlotDefinition, node: YamlNode, issues: list[Issue]) -> None:
    """``validation: {rejections: [{if, utter}], refill_utter}`` (Rasa's domain form)."""
    if not node.is_map:
        issues.append(Issue.at(node.source, f"slot '{slot.name}': 'validation' must be a mapping"))
        return
    refill = node.get("refill_utter")
    if refill is not None and isinstance(refill.value, str):
        slot.refill_utter = refill.value
    rejections = node.get("rejections")
    for item in rejections.value if rejections is not None and rejections.is_list else []:
        condition_node = item.get("if") if item.is_map else None
        if condition_node is None:
            issues.append(Issue.at(item.source, f"slot '{slot.name}': a rejection needs an 'if'"))
            continue
        try:
            condition = compile_condition(condition_node.value, condition_node.source)
        except ConditionError as exc:
            issues.append(Issue.at(condition_node.source, f"slot '{slot.name}': {exc}"))
            continue
        utter = item.get("utter")
        slot.rejections.append(
            Rejection(condition, str(utter.value) if utter else None, item.source)
        )


def _parse_responses(node: YamlNode, domain: Domain, issues: list[Issue]) -> None:
    if not _expect_map(node, "'responses'", issues):
        return
    for name, variations in node.items():
        source = node.key_source(name)
        if not variations.is_list or not variations.value:
            issues.append(
                Issue.at(
                    variations.source,
                    f"response '{name}' must be a non-empty list of variations "
                    f"(like '- text: ...'), found {variations.kind()}",
                )
            )
            continue
        parsed: list[dict[str, object]] = []
        for variation in variations.value:
            if not variation.is_map:
                issues.append(
                    Issue.at(
                        variation.source,
                        f"response '{name}': each variation must be a mapping "
                        f"(like '- text: ...'), found {variation.kind()}",
                    )
                )
                continue
            parsed.append(variation.plain())
        domain.responses[name] = parsed
        domain.sources[f"response:{name}"] = source


def _names(node: YamlNode, section: str, domain: Domain, issues: list[Issue]) -> list[str]:
    """Names from a list of strings or one-key maps (``- greet: {use_entities: ...}``)."""
    if node.value is None:
        return []
    if not node.is_list:
        issues.append(Issue.at(node.source, f"'{section}' must be a list, found {node.kind()}"))
        return []
    names: list[str] = []
    for item in node.value:
        if isinstance(item.value, str) and item.value:
            names.append(item.value)
            domain.sources.setdefault(f"{section}:{item.value}", item.source)
        elif item.is_map and len(item.value) == 1:
            name = next(iter(item.value))
            names.append(name)
            domain.sources.setdefault(f"{section}:{name}", item.source)
        else:
            issues.append(
                Issue.at(
                    item.source,
                    f"'{section}' items must be names or one-key mappings, found {item.kind()}",
                )
            )
    return names
