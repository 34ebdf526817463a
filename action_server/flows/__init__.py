"""Flows: the model, YAML loading, the condition language and validation (the engine is `action_server.dialogue`).

Kept light: importing the package does not import the engine or the loader's dependencies.
"""

from action_server.flows.conditions import Condition, ConditionError, compile_condition
from action_server.flows.model import (
    END,
    Domain,
    Flow,
    FlowProject,
    NextBranch,
    NluTrigger,
    Rejection,
    SlotDefinition,
    SourceRef,
    Step,
    StepAction,
)

__all__ = [
    "END",
    "Condition",
    "ConditionError",
    "Domain",
    "Flow",
    "FlowProject",
    "NextBranch",
    "NluTrigger",
    "Rejection",
    "SlotDefinition",
    "SourceRef",
    "Step",
    "StepAction",
    "compile_condition",
]
