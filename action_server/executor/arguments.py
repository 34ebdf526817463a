"""Typed action arguments: declarations, validation, coercion and action descriptions.

Every action kind (class, YAML API, Python function) may declare arguments. Callers that have
explicit values (the `call` command, RTVI) pass them in; Rasa and flows do not, so an action run
through the webhook resolves each declared argument from, in order:

1. the latest user message's ``metadata["args"]`` (a dict; how a channel or ``action-server call
   --url`` passes explicit arguments over the unchanged Rasa wire format), then
2. the tracker slot of the same name.

Type rules (``validate_arguments``): values already of the declared type pass; strings are
coerced when unambiguous (``"12"`` -> number, ``"true"``/``"false"`` -> bool, JSON text -> array
or object); numbers given for a string argument are stringified (Rasa float slots hold ``42.0``
for an order id, which becomes ``"42"``). Anything else is an ``ArgumentError`` naming the field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from action_server.constants import RASA_PROTOCOL_VERSION
from action_server.interfaces import Action, ActionExecutionRejection

if TYPE_CHECKING:
    from action_server.interfaces import Tracker
    from action_server.interfaces.dispatcher import CollectingDispatcher
    from action_server.types import DomainDict

__all__ = [
    "ARGS_METADATA_KEY",
    "ArgumentAction",
    "ArgumentError",
    "ArgumentSpec",
    "ArgumentType",
    "MissingArgumentsError",
    "arguments_of",
    "build_call",
    "coerce_cli_value",
    "describe_action",
    "describe_actions",
    "format_value",
    "parse_argument_specs",
    "validate_arguments",
    "webhook_arguments",
]

ArgumentType = Literal["string", "number", "bool", "array", "object"]
ARGUMENT_TYPES: tuple[str, ...] = get_args(ArgumentType)
ARGS_METADATA_KEY = "args"

_TYPE_ALIASES = {
    "str": "string",
    "text": "string",
    "int": "number",
    "integer": "number",
    "float": "number",
    "boolean": "bool",
    "list": "array",
    "dict": "object",
}


@dataclass(frozen=True)
class ArgumentSpec:
    """One declared argument of an action."""

    name: str
    type: ArgumentType = "string"
    required: bool = True
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "description": self.description,
        }


class ArgumentError(ValueError):
    """An argument value is missing, unknown or of the wrong type; the message names it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class MissingArgumentsError(ArgumentError):
    """Required arguments were not given; ``missing`` lists their declarations."""

    def __init__(self, missing: list[ArgumentSpec]) -> None:
        names = ", ".join(f"'{spec.name}' ({spec.type})" for spec in missing)
        plural = "s" if len(missing) > 1 else ""
        super().__init__(
            f"missing required argument{plural}: {names}",
            field=missing[0].name if missing else None,
        )
        self.missing = missing


def _normalise_type(raw: Any, where: str) -> ArgumentType:
    text = str(raw).strip().lower()
    text = _TYPE_ALIASES.get(text, text)
    if text not in ARGUMENT_TYPES:
        raise ArgumentError(
            f"{where}: unknown argument type {raw!r} (expected one of {', '.join(ARGUMENT_TYPES)})"
        )
    return text  # type: ignore[return-value]


def _spec_from_mapping(name: str, raw: Mapping[str, Any], where: str) -> ArgumentSpec:
    unknown = set(raw) - {"name", "type", "required", "description"}
    if unknown:
        raise ArgumentError(
            f"{where}: argument '{name}' has unknown key(s) {', '.join(sorted(map(str, unknown)))}"
        )
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise ArgumentError(f"{where}: argument '{name}': 'required' must be true or false")
    description = raw.get("description") or ""
    return ArgumentSpec(
        name=name,
        type=_normalise_type(raw.get("type", "string"), f"{where}: argument '{name}'"),
        required=required,
        description=str(description),
    )


def parse_argument_specs(raw: Any, where: str = "arguments") -> list[ArgumentSpec]:
    """Accept the declaration shapes users write and return ``ArgumentSpec``s.

    Shapes: a list of ``ArgumentSpec``/dicts with ``name``/bare names, or a mapping of
    name -> type string or name -> {type, required, description}.
    """
    if raw is None:
        return []
    specs: list[ArgumentSpec] = []
    if isinstance(raw, Mapping):
        for name, value in raw.items():
            if isinstance(value, Mapping):
                specs.append(_spec_from_mapping(str(name), value, where))
            elif value is None:
                specs.append(ArgumentSpec(name=str(name)))
            else:
                specs.append(
                    ArgumentSpec(
                        name=str(name),
                        type=_normalise_type(value, f"{where}: argument '{name}'"),
                    )
                )
    elif isinstance(raw, Iterable) and not isinstance(raw, (str, bytes)):
        for index, item in enumerate(raw):
            if isinstance(item, ArgumentSpec):
                specs.append(item)
            elif isinstance(item, str):
                specs.append(ArgumentSpec(name=item))
            elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
                specs.append(_spec_from_mapping(item["name"], item, where))
            else:
                raise ArgumentError(
                    f"{where}: item {index} must be a name or a mapping with a 'name', got {item!r}"
                )
    else:
        raise ArgumentError(f"{where}: expected a list or a mapping, got {type(raw).__name__}")
    seen: set[str] = set()
    for spec in specs:
        if not spec.name.isidentifier():
            raise ArgumentError(f"{where}: argument name {spec.name!r} is not a valid identifier")
        if spec.name in seen:
            raise ArgumentError(f"{where}: argument '{spec.name}' is declared twice")
        seen.add(spec.name)
    return specs


def format_value(value: Any) -> str:
    """Stringify a value the way an HTTP API expects it (no ``42.0``, JSON for containers)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _coerce(spec: ArgumentSpec, value: Any) -> Any:
    def fail() -> ArgumentError:
        return ArgumentError(
            f"argument '{spec.name}': expected {spec.type}, got {_describe(value)}",
            field=spec.name,
        )

    if spec.type == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return format_value(value)
        raise fail()
    if spec.type == "number":
        if isinstance(value, bool):
            raise fail()
        if isinstance(value, (int, float)):
            if isinstance(value, float) and not math.isfinite(value):
                raise fail()
            return value
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise fail() from None
            if not math.isfinite(number):
                raise fail()
            return int(number) if number.is_integer() and "." not in value else number
        raise fail()
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise fail()
    expected: type = list if spec.type == "array" else dict
    if isinstance(value, expected):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise fail() from None
        if isinstance(parsed, expected):
            return parsed
    raise fail()


def validate_arguments(
    specs: list[ArgumentSpec], values: Mapping[str, Any], *, allow_unknown: bool | None = None
) -> dict[str, Any]:
    """Check ``values`` against ``specs``; return the coerced arguments.

    Missing required arguments are reported together (``MissingArgumentsError``). Unknown names
    are an error when the action declares arguments (a typo otherwise goes unnoticed); an action
    that declares none accepts anything. ``None`` counts as "not given".
    """
    if allow_unknown is None:
        allow_unknown = not specs
    declared = {spec.name: spec for spec in specs}
    if not allow_unknown:
        unknown = [name for name in values if name not in declared]
        if unknown:
            names = ", ".join(sorted(declared)) or "none"
            raise ArgumentError(
                f"unknown argument '{unknown[0]}' (declared: {names})", field=unknown[0]
            )
    result: dict[str, Any] = {
        name: value for name, value in values.items() if name not in declared and value is not None
    }
    missing: list[ArgumentSpec] = []
    for spec in specs:
        value = values.get(spec.name)
        if value is None:
            if spec.required:
                missing.append(spec)
            continue
        result[spec.name] = _coerce(spec, value)
    if missing:
        raise MissingArgumentsError(missing)
    return result


def coerce_cli_value(text: str, spec: ArgumentSpec | None = None) -> Any:
    """Turn the text of ``--arg k=v`` into a value: by the declared type when known.

    Without a declaration: numbers, ``true``/``false``/``null`` and JSON arrays/objects are
    parsed; anything else stays a string.
    """
    if spec is not None:
        return _coerce(spec, text)
    stripped = text.strip()
    if stripped in ("true", "false"):
        return stripped == "true"
    if stripped == "null":
        return None
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    try:
        number = float(stripped)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return int(number) if number.is_integer() and "." not in stripped else number


def arguments_of(action: Any) -> list[ArgumentSpec]:
    """The declared arguments of any action (class actions may set ``arguments = [...]``)."""
    raw = getattr(action, "arguments", None)
    if callable(raw):
        raw = raw()
    if not raw:
        return []
    name = _action_name(action)
    return parse_argument_specs(raw, where=f"action '{name}'")


def webhook_arguments(
    action_name: str, specs: list[ArgumentSpec], tracker: Tracker, *, open_ended: bool = False
) -> dict[str, Any]:
    """Validated arguments of a webhook or flow run: message metadata ``args``, then slots.

    ``open_ended`` (function actions) also passes undeclared metadata arguments through. A
    missing or badly typed value raises ``ActionExecutionRejection`` (HTTP 400 naming it).
    """
    latest = getattr(tracker, "latest_message", None) or {}
    metadata = latest.get("metadata") if isinstance(latest, Mapping) else None
    explicit = metadata.get(ARGS_METADATA_KEY) if isinstance(metadata, Mapping) else None
    explicit = explicit if isinstance(explicit, Mapping) else {}
    values: dict[str, Any] = dict(explicit) if open_ended else {}
    for spec in specs:
        value = explicit.get(spec.name)
        values[spec.name] = tracker.get_slot(spec.name) if value is None else value
    try:
        return validate_arguments(specs, values, allow_unknown=True if open_ended else None)
    except ArgumentError as exc:
        raise ActionExecutionRejection(action_name, f"{action_name}: {exc.message}") from None


class ArgumentAction(Action):
    """An action with declared arguments, run alike from the webhook, flows and callers.

    Subclasses implement ``execute``; ``open_ended`` passes undeclared metadata arguments
    through (function actions that declare nothing take whatever they are given).
    """

    kind = "class"
    open_ended = False
    arguments: list[ArgumentSpec]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Arguments from the latest message's metadata ``args``, then slots; bad ones reject."""
        args = webhook_arguments(self.name(), self.arguments, tracker, open_ended=self.open_ended)
        return await self.execute(args, dispatcher, tracker, domain)

    async def run_with_args(
        self,
        args: Mapping[str, Any],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        """Run with explicit arguments (``call``, RTVI); ``ArgumentError`` if they do not fit."""
        validated = validate_arguments(self.arguments, args)
        return await self.execute(validated, dispatcher, tracker, domain)

    async def execute(
        self,
        args: dict[str, Any],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        raise NotImplementedError


def _action_name(action: Any) -> str:
    try:
        return str(action.name())
    except Exception:  # noqa: BLE001 - a broken name() must not break a listing
        return type(action).__name__


def _class_description(action: Any) -> str:
    doc = type(action).__dict__.get("__doc__")
    if not doc:
        return ""
    return doc.strip().splitlines()[0].strip()


def describe_action(action: Any) -> dict[str, Any]:
    """``{"name", "kind", "description", "arguments"}`` for ``GET /actions?describe=true``."""
    kind = getattr(action, "kind", "class")
    description = getattr(action, "description", None)
    if callable(description):
        description = description()
    if not isinstance(description, str) or not description:
        description = _class_description(action)
    return {
        "name": _action_name(action),
        "kind": kind if kind in ("class", "api", "function") else "class",
        "description": description,
        "arguments": [spec.to_dict() for spec in arguments_of(action)],
    }


def describe_actions(actions: Iterable[Any]) -> list[dict[str, Any]]:
    """``describe_action`` of each action: the ``actions`` command and ``/actions?describe``."""
    return [describe_action(action) for action in actions]


def build_call(
    name: str,
    tracker: dict[str, Any],
    args: Mapping[str, Any],
    domain: dict[str, Any] | None = None,
    *,
    version: str = RASA_PROTOCOL_VERSION,
    args_as_slots: bool = False,
) -> dict[str, Any]:
    """The webhook body for one call; ``args`` go into the latest message's metadata.

    The writing side of what ``webhook_arguments`` reads, shared by ``call`` and RTVI.
    """
    latest = dict(tracker.get("latest_message") or {})
    latest["metadata"] = {**(latest.get("metadata") or {}), ARGS_METADATA_KEY: args}
    tracker = {**tracker, "latest_message": latest}
    if args_as_slots:  # class actions read their arguments as slots
        tracker["slots"] = {**(tracker.get("slots") or {}), **args}
    return {
        "next_action": name,
        "sender_id": tracker["sender_id"],
        "tracker": tracker,
        "domain": domain or {},
        "version": version,
    }
