"""config.yml: the understanding pipeline of a Rasa CALM project.

We run the components that turn messages into commands (``CompactLLMCommandGenerator`` and
its older name ``SingleStepLLMCommandGenerator``, ``NLUCommandAdapter``, ``LLMBasedRouter``);
everything else a Rasa config may hold (tokenizers, featurizers, classifiers, policies,
``recipe``, ``assistant_id``) is accepted and listed once in a warning, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from action_server.config.endpoints import ConfigError, read_config_document

__all__ = [
    "COMMAND_GENERATORS",
    "ComponentConfig",
    "PipelineConfig",
    "find_config_file",
    "load_pipeline_config",
]

COMMAND_GENERATORS = frozenset(
    {
        "CompactLLMCommandGenerator",
        "SearchReadyLLMCommandGenerator",  # Rasa 3.13's name for the v3 (search and reply) one
        "SingleStepLLMCommandGenerator",
        "LLMCommandGenerator",
    }
)
SUPPORTED = COMMAND_GENERATORS | {"NLUCommandAdapter", "LLMBasedRouter"}
# Top-level keys whose content does not change how we understand users.
_IGNORED_KEYS = ("recipe", "language", "assistant_id", "policies", "core_target", "nlu_target")


@dataclass(frozen=True)
class ComponentConfig:
    """One ``pipeline`` entry: its ``name``, its other keys, and where it was written."""

    name: str
    options: dict[str, Any]
    where: str  # file:line

    @property
    def is_command_generator(self) -> bool:
        return self.name in COMMAND_GENERATORS


@dataclass
class PipelineConfig:
    """The components we run, in config order, and the names we accepted but do not run."""

    components: list[ComponentConfig] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    source: str | None = None

    def component(self, *names: str) -> ComponentConfig | None:
        return next((c for c in self.components if c.name in names), None)

    @property
    def ignored_warning(self) -> str | None:
        """One line naming everything accepted but not run, or None."""
        if not self.ignored:
            return None
        names = ", ".join(dict.fromkeys(self.ignored))
        return f"{self.source}: not used by this server (accepted, ignored): {names}"

    @property
    def command_generator(self) -> ComponentConfig | None:
        return next((c for c in self.components if c.is_command_generator), None)


def find_config_file(explicit: str | None, flow_paths: list[str]) -> str | None:
    """``--config`` as given, else ``config.yml`` in the working directory or beside the flows."""
    if explicit:
        return explicit
    candidates = [Path("config.yml")]
    for raw in flow_paths:
        path = Path(raw)
        base = path if path.is_dir() else path.parent
        # a Rasa project keeps flows in data/ or data/flows/, config.yml at its root
        candidates.extend(folder / "config.yml" for folder in [base, *base.parents][:3])
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    return None


def load_pipeline_config(path: str | None) -> PipelineConfig:
    """Read config.yml; a broken file is a ConfigError naming file and line."""
    if path is None:
        return PipelineConfig()
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{file}: no such config file")
    document = read_config_document(file)
    data = document.data or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}:1: expected a mapping at the top level")
    pipeline = data.get("pipeline")
    if pipeline is None:
        pipeline = []
    if not isinstance(pipeline, list):
        raise ConfigError(f"{document.where(('pipeline',))}: 'pipeline' must be a list")
    config = PipelineConfig(source=str(file))
    for index, entry in enumerate(pipeline):
        where = document.where(("pipeline", index))
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(f"{where}: each pipeline entry needs a 'name'")
        name = entry["name"]
        options = {k: v for k, v in entry.items() if k != "name"}
        if name in SUPPORTED:
            _check_llm_option(name, options, where)
            config.components.append(ComponentConfig(name, options, where))
        else:
            config.ignored.append(name)
    for key in _IGNORED_KEYS:
        if data.get(key):
            config.ignored.append(key)
    generators = [c for c in config.components if c.is_command_generator]
    if len(generators) > 1:
        raise ConfigError(f"{generators[1].where}: only one LLM command generator may be used")
    return config


def _check_llm_option(name: str, options: dict[str, Any], where: str) -> None:
    llm = options.get("llm")
    if llm is not None and not isinstance(llm, dict):
        raise ConfigError(f"{where}: {name}: 'llm' must be a mapping (model_group or provider)")
    template = options.get("prompt_template")
    if template is not None and not isinstance(template, str):
        raise ConfigError(f"{where}: {name}: 'prompt_template' must be a file path")
