"""The command source a project gets from its config.yml: payloads, NLU adapter, LLM, fallback.

Order per message: slash payloads (``slash.py``) always win; then the NLU command adapter
(intent -> ``nlu_trigger`` flow); then the LLM command generator, skipped when the adapter
already started a flow and ``minimize_num_calls`` is on (Rasa's default). When both answer,
the LLM's flow commands win and the adapter's flow start is kept only if the LLM named none. Without an LLM, a
plain message answers the question being asked, and a message nobody understood gets the
fallback: what the assistant can do, with ``/StartFlow(...)`` buttons.

``LLMBasedRouter``: we run only the flows side, so every session goes to the flows without an
LLM call; the routing slot ``route_session_to_calm`` is set to true when the domain has it.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from action_server.config.endpoints import ConfigError, EndpointsConfig
from action_server.config.model_groups import (
    LLMSettings,
    ModelConfig,
    ModelSettingsError,
    resolve_model,
)
from action_server.config.pipeline import ComponentConfig, PipelineConfig
from action_server.flows.model import FlowProject
from action_server.stores.store import ConversationState
from action_server.understanding.command_parser import startable_flow_ids
from action_server.understanding.commands import (
    CancelFlow,
    CannotHandle,
    Clarify,
    Command,
    InternalError,
    SetSlot,
    StartFlow,
    collecting_slot,
)
from action_server.understanding.llm_client import LLMClient
from action_server.understanding.llm_generator import DEFAULT_MAX_CHARACTERS, LLMCommandGenerator
from action_server.understanding.nlu_adapter import (
    DEFAULT_THRESHOLD,
    IntentClassifier,
    NLUCommandAdapter,
    load_nlu_examples,
)
from action_server.understanding.prompt import (
    PromptBuilder,
    PromptTemplateError,
    load_prompt_template,
)
from action_server.understanding.slash import payload_commands

__all__ = [
    "ROUTE_TO_CALM_SLOT",
    "Understanding",
    "UnderstandingPipeline",
    "build_understanding",
    "capabilities_message",
]

logger = logging.getLogger(__name__)

ROUTE_TO_CALM_SLOT = "route_session_to_calm"
DEFAULT_MODEL = "gpt-4o-2024-11-20"  # what Rasa's compact generator uses without llm config
_FLOW_COMMANDS = (StartFlow, CancelFlow, Clarify)


def capabilities_message(
    project: FlowProject, slots: dict[str, Any], reason: str | None = None
) -> dict[str, Any]:
    """What the assistant can do: the startable flows, as ``/StartFlow(...)`` buttons."""
    flows = [project.flows[flow_id] for flow_id in startable_flow_ids(project, slots)]
    sorry = "Sorry, I didn't understand that" + (f" ({reason})." if reason else ".")
    if not flows:
        return {"text": sorry}
    return {
        "text": f"{sorry} Here is what I can help with:",
        "buttons": [
            {"title": flow.name or flow.id, "payload": f"/StartFlow({flow.id})"} for flow in flows
        ],
    }


class UnderstandingPipeline:
    """A ``CommandSource`` made of the configured components (see the module docstring)."""

    def __init__(
        self,
        *,
        nlu: NLUCommandAdapter | None = None,
        llm: LLMCommandGenerator | None = None,
        minimize_num_calls: bool = True,
        router: bool = False,
    ) -> None:
        self.nlu = nlu
        self.llm = llm
        self.minimize_num_calls = minimize_num_calls
        self.router = router

    async def parse(
        self, text: str, state: ConversationState, project: FlowProject
    ) -> list[Command]:
        commands = payload_commands(text, project)
        if commands is None:
            commands = await self._understand(text, state, project)
        return self._route(commands, state, project)

    async def _understand(
        self, text: str, state: ConversationState, project: FlowProject
    ) -> list[Command]:
        slot = collecting_slot(state, project)
        prior: list[Command] = []
        if self.nlu is not None:
            # A message answering a question stays an answer (for the LLM to read, or as it
            # is), unless it is word for word a training example of an intent.
            active = {str(frame.get("flow_id")) for frame in state.stack}
            _, predicted = self.nlu.predict(text, project, state.slots, exact_only=slot is not None)
            prior = [c for c in predicted if not (isinstance(c, StartFlow) and c.flow_id in active)]
        if self.llm is not None and not (prior and self.minimize_num_calls):
            generated = await self.llm.parse(text, state, project)
            if not prior or any(isinstance(c, _FLOW_COMMANDS) for c in generated):
                return generated  # the LLM saw the whole conversation: its flow choice wins
            rest = [c for c in generated if not isinstance(c, (CannotHandle, InternalError))]
            return [*prior, *rest]
        if prior:
            return prior
        if slot is not None:
            return [SetSlot(slot, text.strip(), is_answer=True)]
        return [CannotHandle()]

    def _route(
        self, commands: list[Command], state: ConversationState, project: FlowProject
    ) -> list[Command]:
        if (
            self.router
            and ROUTE_TO_CALM_SLOT in project.domain.slots
            and state.slots.get(ROUTE_TO_CALM_SLOT) is not True
        ):
            return [*commands, SetSlot(ROUTE_TO_CALM_SLOT, True, extractor="router")]
        return commands

    def fallback_message(self, project: FlowProject, state: ConversationState) -> dict[str, Any]:
        """What to say when nothing was understood (the engine asks, when it can show it).

        A payload that does not parse keeps its reason: the user typed something precise.
        """
        latest = state.latest_message or {}
        reason = None
        if str(latest.get("text", "")).lstrip().startswith("/"):
            reason = next(
                (
                    c.get("reason")
                    for c in latest.get("commands") or []
                    if isinstance(c, dict) and c.get("command") == "cannot handle"
                ),
                None,
            )
        return capabilities_message(project, state.slots, reason)

    async def close(self) -> None:
        if self.llm is not None:
            await self.llm.client.close()


# --- building it from config.yml and endpoints.yml ------------------------------------------


@dataclass
class Understanding:
    """The command source and what building it had to say."""

    source: UnderstandingPipeline
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # expected, e.g. an optional LLM left off
    description: str = "slash payloads and answers"
    llm_group: str | None = None


def _models_for(
    component: ComponentConfig, endpoints: EndpointsConfig, endpoints_file: str
) -> tuple[str, list[ModelConfig]]:
    llm = component.options.get("llm") or {}
    group_id = llm.get("model_group")
    if group_id is not None:
        group = endpoints.model_group(str(group_id))
        if group is None:
            known = ", ".join(g.id for g in endpoints.model_groups) or "none"
            raise ConfigError(
                f"{component.where}: {component.name}: model group '{group_id}' is not defined "
                f"in {endpoints_file} model_groups (defined: {known})"
            )
        return group.id, list(group.models)
    inline = {k: v for k, v in llm.items() if k != "type"}
    if "type" in llm and "provider" not in inline:
        inline["provider"] = llm["type"]
    inline.setdefault("model", inline.pop("model_name", None) or DEFAULT_MODEL)
    try:
        return component.name, [ModelConfig.model_validate(inline)]
    except ValueError as exc:
        raise ConfigError(f"{component.where}: {component.name}: llm: {exc}") from exc


def check_reachable(settings: LLMSettings, timeout: float = 3.0) -> None:
    """A TCP connection to the model's host; ModelSettingsError naming the group if none."""
    parts = urlsplit(settings.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return
    except OSError as exc:
        raise ModelSettingsError(
            f"model group '{settings.group}': cannot reach {parts.scheme}://{parts.netloc}: "
            f"{exc.strerror or exc}"
        ) from exc


def resolve_group(group: str, models: Sequence[ModelConfig]) -> list[LLMSettings]:
    return [resolve_model(group, model) for model in models]


def _generator(
    component: ComponentConfig,
    endpoints: EndpointsConfig,
    endpoints_file: str,
    project: FlowProject,
    warnings: list[str],
    notes: list[str],
) -> LLMCommandGenerator | None:
    options = component.options
    required = options.get("required", True) is not False
    try:
        group, models = _models_for(component, endpoints, endpoints_file)
    except ConfigError as exc:
        if required:
            raise
        notes.append(f"{exc}; {component.name} is off, understanding users without an LLM")
        return None
    try:
        settings = resolve_group(group, models)
        if options.get("check_reachable", True) is not False:
            check_reachable(settings[0])
    except ModelSettingsError as exc:
        if required:
            raise ConfigError(f"{component.where}: {component.name}: {exc}") from exc
        notes.append(
            f"{component.where}: {component.name} is off ({exc}); understanding users "
            "without an LLM"
        )
        return None
    template = None
    if options.get("prompt_template"):
        try:
            template = load_prompt_template(str(options["prompt_template"]))
        except PromptTemplateError as exc:
            raise ConfigError(f"{component.where}: {component.name}: {exc}") from exc
    user_input = options.get("user_input") or {}
    max_characters = DEFAULT_MAX_CHARACTERS
    if isinstance(user_input, dict) and user_input.get("max_characters") is not None:
        max_characters = int(user_input["max_characters"])
    prompts = PromptBuilder(
        project,
        template,
        repeat_command_enabled=bool(options.get("repeat_command_enabled", False)),
    )
    return LLMCommandGenerator(
        LLMClient(settings), prompts, max_characters=max_characters, name=component.name
    )


def build_understanding(
    pipeline: PipelineConfig,
    endpoints: EndpointsConfig,
    project: FlowProject,
    nlu_paths: Sequence[str | Path],
    endpoints_file: str = "endpoints.yml",
) -> Understanding:
    """The project's command source; ConfigError (file:line, model group) when it cannot be built.

    With no config.yml the NLU adapter still runs when the project has NLU data.
    """
    warnings: list[str] = [pipeline.ignored_warning] if pipeline.ignored_warning else []
    notes: list[str] = []
    parts: list[str] = ["slash payloads"]
    nlu: NLUCommandAdapter | None = None
    adapter = pipeline.component("NLUCommandAdapter")
    if adapter is not None or pipeline.source is None:
        started = time.perf_counter()
        examples = load_nlu_examples(nlu_paths)
        if examples:
            threshold = float(
                (adapter.options if adapter else {}).get("threshold", DEFAULT_THRESHOLD)
            )
            nlu = NLUCommandAdapter(IntentClassifier(examples), threshold)
            parts.append(
                f"NLU adapter ({len(examples)} examples, trained in "
                f"{(time.perf_counter() - started) * 1000:.0f} ms)"
            )
        elif adapter is not None:
            warnings.append(
                f"{adapter.where}: NLUCommandAdapter: no NLU data (nlu: files) found in "
                f"{', '.join(str(p) for p in nlu_paths) or 'no path'}; it never matches"
            )
    llm: LLMCommandGenerator | None = None
    minimize = True
    component = pipeline.command_generator
    if component is not None:
        llm = _generator(component, endpoints, endpoints_file, project, warnings, notes)
        minimize = component.options.get("minimize_num_calls", True) is not False
        if llm is not None:
            parts.append(f"{component.name} (model group '{llm.client.group}')")
    if llm is None:
        parts.append("answers to the question asked")
    router = pipeline.component("LLMBasedRouter") is not None
    source = UnderstandingPipeline(nlu=nlu, llm=llm, minimize_num_calls=minimize, router=router)
    return Understanding(
        source, warnings, notes, ", ".join(parts), llm.client.group if llm is not None else None
    )
