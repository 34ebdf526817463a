"""endpoints.yml and server settings, validated with pydantic at the edge.

Everything else in the package receives these validated objects, never raw YAML.
"""

from __future__ import annotations

import difflib
import logging
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from action_server.config.model_groups import ModelGroupConfig
from action_server.config.secrets import remember_secret
from action_server.config.yaml_lines import YamlDocument, YamlSyntaxError, load_yaml_document
from action_server.interfaces.caller_input import quote_input

__all__ = [
    "ActionEndpointConfig",
    "ConfigError",
    "EndpointsConfig",
    "TrackerStoreConfig",
    "VoiceConfig",
    "load_endpoints",
    "read_config_document",
]


logger = logging.getLogger(__name__)

DEFAULT_ENDPOINTS_FILE = "endpoints.yml"


class ConfigError(Exception):
    """A configuration file is missing, unparsable or invalid; the message says where."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class BasicAuth(_Model):
    username: str
    password: str


class ActionEndpointConfig(_Model):
    """Where the flow engine's actions run: in this process or on an action server."""

    url: str | None = None
    actions_module: str | None = None
    token: str | None = None
    token_name: str = "token"
    headers: dict[str, str] = Field(default_factory=dict)
    basic_auth: BasicAuth | None = None
    cafile: str | None = None
    timeout: float = 10.0

    @field_validator("timeout")
    @classmethod
    def _positive_timeout(cls, value: float) -> float:
        if not value > 0 or value != value or value == float("inf"):
            raise ValueError("timeout must be a finite number of seconds greater than 0")
        return value


class TrackerStoreConfig(_Model):
    """Where conversations live: memory (tests), SQLite (embedded default) or Redis (replicas)."""

    type: Literal["memory", "sqlite", "redis", "in_memory", "InMemoryTrackerStore"] = "sqlite"
    path: str = "conversations.db"
    url: str | None = None
    host: str = "localhost"
    port: int = 6379
    db: int = 0
    password: str | None = None
    use_ssl: bool = False
    key_prefix: str = "action_server"
    record_exp: float | None = None
    lock_expiry: float = 30.0

    @property
    def kind(self) -> str:
        return "memory" if self.type in ("in_memory", "InMemoryTrackerStore") else self.type


class VoiceConfig(_Model):
    """The voice channel: which flow greets a new call, which runs when the caller is silent."""

    start_flow: str | None = None
    timeout_flow: str | None = None
    user_input_timeout_seconds: float | None = None
    # Answer with every action of a turn at once (a JSON array) instead of one per event.
    action_arrays: bool = False

    @field_validator("user_input_timeout_seconds")
    @classmethod
    def _positive_seconds(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value < float("inf"):
            raise ValueError("user_input_timeout_seconds must be a finite number > 0")
        return value


class EndpointsConfig(_Model):
    action_endpoint: ActionEndpointConfig | None = None
    tracker_store: TrackerStoreConfig | None = None
    voice: VoiceConfig | None = None
    model_groups: list[ModelGroupConfig] = Field(default_factory=list)
    source: str | None = Field(default=None, exclude=True)

    @field_validator("model_groups")
    @classmethod
    def _unique_groups(cls, groups: list[ModelGroupConfig]) -> list[ModelGroupConfig]:
        seen: set[str] = set()
        for group in groups:
            if group.id in seen:
                raise ValueError(f"model group id '{group.id}' is defined twice")
            seen.add(group.id)
        return groups

    def model_group(self, group_id: str) -> ModelGroupConfig | None:
        return next((group for group in self.model_groups if group.id == group_id), None)


def _expand_env(value: Any) -> Any:
    """Expand ${VAR} in strings, as Rasa does for endpoints.yml."""
    if isinstance(value, str):
        return os.path.expandvars(value)
    if isinstance(value, dict):
        return {k: _expand_env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v) for v in value]
    return value


def _describe_error(document: YamlDocument, err: Any) -> str:
    """``file:line: a.b: message (got 'value')`` for one pydantic error."""
    loc = [p for p in err["loc"] if not str(p).startswith("function-")]
    where = document.where(loc)
    field = ".".join(str(p) for p in loc) or "top level"
    got = err.get("input")
    secret = any(word in field for word in ("password", "token", "api_key"))
    plain = not (secret or got is None or isinstance(got, dict | list))
    value = quote_input(got) if isinstance(got, str) else repr(got)
    shown = f" (got {value})" if plain else ""
    return f"{where}: {field}: {err['msg']}{shown}"


def _warn_unknown_keys(document: YamlDocument, config: EndpointsConfig) -> None:
    """Sections we read fully tolerate extra keys (as Rasa does) but say so: a typo'd key
    such as ``actions_modul`` would otherwise be dropped without a word."""
    for section in ("action_endpoint", "voice"):
        model = getattr(config, section)
        if model is None or not model.model_extra:
            continue
        known = sorted(type(model).model_fields)
        for key in model.model_extra:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            logger.warning(
                "%s: %s.%s: unknown key, ignored%s",
                document.where((section, key)),
                section,
                key,
                hint,
            )


def read_config_document(file: Path) -> YamlDocument:
    """A configuration file read with positions; unreadable or broken YAML is a `ConfigError`
    naming the file (and the line, for YAML errors)."""
    try:
        return load_yaml_document(file.read_text(encoding="utf-8"), str(file))
    except YamlSyntaxError as exc:
        raise ConfigError(str(exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from exc


def load_endpoints(path: str | os.PathLike[str] | None) -> EndpointsConfig:
    """Read endpoints.yml; a missing default file means defaults, a broken one a ConfigError.

    Only the default ``endpoints.yml`` may be missing (as with rasa-sdk): a path the user
    named that does not exist is a typo, not "no configuration".
    """
    if path is None:
        return EndpointsConfig()
    file = Path(path)
    if not file.exists():
        if str(path) != DEFAULT_ENDPOINTS_FILE:
            raise ConfigError(f"{file}: no such endpoints file")
        return EndpointsConfig(source=str(file))
    document = read_config_document(file)
    raw = document.data
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        config = EndpointsConfig.model_validate(_expand_env(raw))
    except ValidationError as exc:
        problems = "\n".join(_describe_error(document, err) for err in exc.errors())
        raise ConfigError(problems) from exc
    _warn_unknown_keys(document, config)
    _remember_secrets(config)
    config.source = str(file)
    return config


def _remember_secrets(config: EndpointsConfig) -> None:
    """Tokens and passwords never appear in a log line (see ``config/secrets.py``)."""
    endpoint, store = config.action_endpoint, config.tracker_store
    values = [
        endpoint and endpoint.token,
        endpoint and endpoint.basic_auth and endpoint.basic_auth.password,
        store and store.password,
        *(model.api_key for group in config.model_groups for model in group.models),
    ]
    for value in values:
        if isinstance(value, str):
            remember_secret(value)
