"""The in-memory model of a flows project: flows, steps, domain - plain dataclasses.

The loader builds these from YAML; the engine only reads them. Every step's ``next`` is
already resolved (implicit "following step" and nested ``then:`` lists are flattened),
so the engine just follows step ids until it reaches ``END``.

CHANGELOG (keep the shape stable; additive changes only):
- v1: initial shape.
- v1.1: ``NluTrigger.source`` (position of the intent name, for validation).
- v1.2: ``FlowProject.default_flows``/``default_responses``/``default_slots`` (merged defaults).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from action_server.flows.conditions import Condition, as_number
from action_server.flows.source import SourceRef

__all__ = [
    "END",
    "START",
    "RESERVED_STEP_IDS",
    "STEP_KINDS",
    "SLOT_TYPES",
    "Condition",
    "SourceRef",
    "NextBranch",
    "StepAction",
    "Rejection",
    "Step",
    "NluTrigger",
    "Flow",
    "SlotDefinition",
    "Domain",
    "FlowProject",
]

END = "END"
"""Target of a branch that finishes the flow."""
START = "START"
RESERVED_STEP_IDS = frozenset({END, START})
"""Step ids users may not take; ids starting with ``__`` are reserved too."""

StepKind = Literal["action", "collect", "set_slots", "link", "call", "noop"]
STEP_KINDS: tuple[str, ...] = ("action", "collect", "set_slots", "link", "call", "noop")
SLOT_TYPES: tuple[str, ...] = ("text", "bool", "float", "categorical", "list", "any")


@dataclass(frozen=True)
class NextBranch:
    """One outgoing edge of a step; ``condition`` None means unconditional (or ``else``)."""

    condition: Condition | None
    target: str  # a step id of the same flow, or END
    source: SourceRef | None = None


@dataclass
class StepAction:
    """One ``pre_actions``/``post_actions`` item: ``{type: say, text: ...}``."""

    type: str
    params: dict[str, Any]
    source: SourceRef


@dataclass
class Rejection:
    """A collect-step rejection: when ``condition`` holds, the value is refused."""

    condition: Condition
    utter: str | None
    source: SourceRef | None = None


@dataclass
class Step:
    """One step of a flow. Only the fields of its ``kind`` are meaningful."""

    id: str
    kind: str  # one of STEP_KINDS
    source: SourceRef
    next: list[NextBranch] = field(default_factory=list)
    # action
    action: str | None = None
    # collect
    collect: str | None = None
    utter: str | None = None  # resolved: the given utter, else "utter_ask_<slot>"
    utter_explicit: bool = False  # True when the YAML named `utter:` itself
    ask_before_filling: bool = False
    reset_after_flow_ends: bool = True
    rejections: list[Rejection] = field(default_factory=list)
    force_slot_filling: bool = False
    # set_slots: (slot, value) in YAML order
    set_slots: list[tuple[str, Any]] = field(default_factory=list)
    # link / call: target flow id
    link: str | None = None
    call: str | None = None
    # common
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    pre_actions: list[StepAction] = field(default_factory=list)
    post_actions: list[StepAction] = field(default_factory=list)
    id_generated: bool = False  # True when the loader made the id up
    next_explicit: bool = False  # True when the YAML had a `next:` on this step

    @property
    def ask_action(self) -> str | None:
        """The custom action Rasa would run to ask for the slot (``action_ask_<slot>``)."""
        return f"action_ask_{self.collect}" if self.collect else None

    def next_step_id(self, slots: Mapping[str, Any], context: Mapping[str, Any]) -> str:
        """The first branch whose condition holds (END if none does)."""
        for branch in self.next:
            if branch.condition is None or branch.condition.evaluate(slots, context):
                return branch.target
        return END


@dataclass(frozen=True)
class NluTrigger:
    """Start the flow when this intent is predicted with at least this confidence."""

    intent: str
    confidence_threshold: float = 0.0
    source: SourceRef | None = field(default=None, compare=False)  # the intent name's position


@dataclass
class Flow:
    """A named, ordered collection of steps; ``steps`` keeps YAML order (flattened)."""

    id: str
    source: SourceRef
    name: str
    description: str = ""
    guard: Condition | None = None  # the flow's `if:`
    nlu_trigger: list[NluTrigger] = field(default_factory=list)
    persisted_slots: list[str] = field(default_factory=list)
    run_pattern_completed: bool = True
    steps: dict[str, Step] = field(default_factory=dict)
    first_step_id: str = END  # END for an empty flow
    pre_actions: list[StepAction] = field(default_factory=list)
    post_actions: list[StepAction] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    # How many entries the YAML `steps:` list had: a flow whose every step failed to parse is
    # not reported again as empty.
    declared_steps: int = 0

    def step(self, step_id: str) -> Step:
        """The step with this id; KeyError names flow and step."""
        try:
            return self.steps[step_id]
        except KeyError:
            raise KeyError(f"flow '{self.id}' has no step '{step_id}'") from None

    @property
    def first_step(self) -> Step | None:
        return self.steps.get(self.first_step_id)

    def collected_slots(self) -> list[str]:
        """Slots this flow's collect steps fill, in step order (no duplicates)."""
        seen: dict[str, None] = {}
        for step in self.steps.values():
            if step.collect:
                seen.setdefault(step.collect, None)
        return list(seen)


_TRUE_STRINGS = frozenset({"true", "yes", "y", "on", "1"})
_FALSE_STRINGS = frozenset({"false", "no", "n", "off", "0"})


@dataclass
class SlotDefinition:
    """A domain slot. ``coerce`` applies Rasa's value conversions for the slot type."""

    name: str
    type: str  # one of SLOT_TYPES
    values: list[Any] | None = None  # categorical only
    initial_value: Any = None
    influence_conversation: bool = False
    min_value: float | None = None  # float only (informative, like Rasa)
    max_value: float | None = None
    mappings: list[dict[str, Any]] = field(default_factory=list)
    source: SourceRef | None = None
    # the domain's `validation:`: rejections checked whenever the slot is filled
    rejections: list[Rejection] = field(default_factory=list)
    refill_utter: str | None = None

    def fillable_by(self, extractor: str | None) -> bool:
        """Whether a command from ``extractor`` may fill this slot (Rasa's slot mappings).

        ``LLM`` needs a ``from_llm`` mapping (or no mappings at all); ``NLU`` needs an NLU
        mapping; other sources (buttons, slash payloads, tests) may fill any slot.
        """
        kinds = {str(m.get("type")) for m in self.mappings}
        if extractor == "LLM":
            return not kinds or "from_llm" in kinds
        if extractor == "NLU":
            return bool(kinds & {"from_entity", "from_text", "from_intent", "from_trigger_intent"})
        return True

    def coerce(self, value: Any) -> Any:
        """Convert ``value`` to this slot's type; ValueError names the slot and value.

        None always passes (it means "unset").
        """
        if value is None:
            return None
        if self.type == "bool":
            return self._coerce_bool(value)
        if self.type == "float":
            return self._coerce_float(value)
        if self.type == "categorical":
            return self._coerce_categorical(value)
        if self.type == "list":
            if isinstance(value, list):
                return value
            if isinstance(value, (tuple, set, frozenset)):
                return list(value)
            return [value]
        if self.type == "text":
            if isinstance(value, (dict, list)):
                raise ValueError(
                    f"slot '{self.name}' (text) cannot take a {type(value).__name__}: {value!r}"
                )
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)
        return value  # any

    def _coerce_bool(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _TRUE_STRINGS:
                return True
            if lowered in _FALSE_STRINGS:
                return False
        raise ValueError(
            f"slot '{self.name}' (bool) cannot take {value!r}: use true/false (or yes/no)"
        )

    def _coerce_float(self, value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError(f"slot '{self.name}' (float) cannot take a boolean: {value!r}")
        number = as_number(value)
        if number is not None:
            return number
        raise ValueError(f"slot '{self.name}' (float) cannot take {value!r}: not a number")

    def _coerce_categorical(self, value: Any) -> Any:
        allowed = self.values or []
        wanted = str(value).strip().lower()
        for candidate in allowed:
            if str(candidate).lower() == wanted:
                return candidate
        raise ValueError(
            f"slot '{self.name}' (categorical) cannot take {value!r}: "
            f"allowed values are {', '.join(repr(v) for v in allowed)}"
        )


@dataclass
class Domain:
    """The parts of a Rasa domain the flow engine needs."""

    slots: dict[str, SlotDefinition] = field(default_factory=dict)
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    session_config: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    # where each slot/response/action was declared, for error messages
    sources: dict[str, SourceRef] = field(default_factory=dict)

    def slot(self, name: str) -> SlotDefinition:
        try:
            return self.slots[name]
        except KeyError:
            raise KeyError(f"domain has no slot '{name}'") from None

    def initial_slots(self) -> dict[str, Any]:
        """Every slot with its initial value (None when unset), as a fresh dict."""
        return {name: slot.initial_value for name, slot in self.slots.items()}

    def to_dict(self) -> dict[str, Any]:
        """The domain in the JSON shape Rasa sends in an action call (``domain`` field)."""
        slots: dict[str, Any] = {}
        for name, slot in self.slots.items():
            entry: dict[str, Any] = {
                "type": slot.type,
                "initial_value": slot.initial_value,
                "influence_conversation": slot.influence_conversation,
                "mappings": slot.mappings,
            }
            if slot.values is not None:
                entry["values"] = slot.values
            slots[name] = entry
        return {
            "version": "3.1",
            "intents": list(self.intents),
            "entities": list(self.entities),
            "slots": slots,
            "responses": {k: list(v) for k, v in self.responses.items()},
            "actions": list(self.actions),
            "forms": dict(self.forms),
            "session_config": dict(self.session_config),
        }


@dataclass
class FlowProject:
    """Everything loaded from a set of flow and domain files."""

    flows: dict[str, Flow] = field(default_factory=dict)
    domain: Domain = field(default_factory=Domain)
    files: list[str] = field(default_factory=list)  # files that contributed, load order
    # Names that came from the package's default patterns (not overridden by the project).
    default_flows: set[str] = field(default_factory=set)
    default_responses: set[str] = field(default_factory=set)
    default_slots: set[str] = field(default_factory=set)

    def user_flows(self) -> list[Flow]:
        """Flows the project wrote itself, patterns it overrides included."""
        return [flow for flow in self.flows.values() if flow.id not in self.default_flows]

    def flow(self, flow_id: str) -> Flow:
        try:
            return self.flows[flow_id]
        except KeyError:
            raise KeyError(f"no flow named '{flow_id}'") from None

    def flows_triggered_by(self, intent: str, confidence: float = 1.0) -> list[Flow]:
        """Flows whose ``nlu_trigger`` accepts this intent at this confidence."""
        return [
            flow
            for flow in self.flows.values()
            if any(
                t.intent == intent and confidence >= t.confidence_threshold
                for t in flow.nlu_trigger
            )
        ]
