"""Build engines from YAML snippets: real loader, in-process actions, memory store."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from action_server.client.action_client import ActionClient, InProcessTransport
from action_server.dialogue.engine import FlowEngine, TurnResult
from action_server.dialogue.step_actions import DEFAULT_REGISTRY, StepActionRegistry
from action_server.executor import ActionExecutor
from action_server.flows.loader import load_project
from action_server.flows.validation import load_flows
from action_server.stores.store import InMemoryConversationStore

ACTIONS_PACKAGE = "tests.engine.actions_pkg"

BASE_DOMAIN = """
slots:
  answer: {type: text}
  flag: {type: bool}
  age: {type: float}
  color: {type: text}
  size: {type: categorical, values: [small, large]}
  note: {type: text}
  kept: {type: text}
responses:
  utter_ask_answer:
    - text: "Yes or no?"
  utter_ask_age:
    - text: "How old are you?"
  utter_ask_size:
    - text: "Which size?"
  utter_ask_note:
    - text: "Any note?"
  utter_ask_kept:
    - text: "What should I keep?"
  utter_yes:
    - text: "You said yes"
  utter_no:
    - text: "You said no"
  utter_hello:
    - text: "Hello {who}"
  utter_done:
    - text: "Done with {answer}"
  utter_too_young:
    - text: "Too young: {age}"
actions:
  - action_set_flag
  - action_echo_call
  - validate_age
  - action_ask_color
  - action_boom
  - action_reject
  - action_with_followup
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def make_engine(
    tmp_path: Path,
    flows: str,
    domain: str = BASE_DOMAIN,
    *,
    step_actions: StepActionRegistry | None = None,
    validate: bool = True,
    **options: Any,
) -> FlowEngine:
    """Load ``flows``/``domain`` YAML and wire the test actions package.

    ``validate=False`` loads without static checks, to reach runtime guards (the circuit
    breaker) that validation would otherwise refuse to let run.
    """
    write(tmp_path, "flows.yml", flows)
    write(tmp_path, "domain.yml", domain)
    executor = ActionExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    registry = step_actions or DEFAULT_REGISTRY
    if validate:
        project = load_flows(
            [tmp_path],
            registered_actions=set(executor.actions),
            step_action_types=registry.known_types(),
        )
    else:
        result = load_project([tmp_path])
        assert not result.issues, result.issues
        project = result.project
    return FlowEngine(
        project,
        ActionClient(InProcessTransport(executor)),
        InMemoryConversationStore(),
        step_actions=registry,
        registered_actions=set(executor.actions),
        **options,
    )


ANYTHING_ELSE = "Is there anything else I can help you with?"
"""The default pattern_completed answer after the last flow ends."""


def texts(result: TurnResult) -> list[str | None]:
    return [message.get("text") for message in result.messages]


def event_names(result: TurnResult) -> list[str]:
    return [event["event"] for event in result.events]


def flow_events(result: TurnResult) -> list[tuple[str, str]]:
    return [
        (event["event"], event["flow_id"])
        for event in result.events
        if str(event["event"]).startswith("flow_")
    ]
