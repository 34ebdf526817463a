"""``model_groups`` of endpoints.yml: which LLMs the assistant may call, as Rasa declares them.

Each group has an ``id`` and one or more models (``provider``, ``model``, ``api_base``,
``api_key``, ``api_version``, ``timeout``, ``temperature``, ...). Missing keys and bases come
from Rasa's environment defaults (``OPENAI_API_KEY``, ``OPENAI_API_BASE``; ``AZURE_API_KEY``,
``AZURE_API_BASE``, ``AZURE_API_VERSION``), so a Rasa project's file works unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "DEFAULT_OPENAI_BASE",
    "LLMSettings",
    "ModelConfig",
    "ModelGroupConfig",
    "ModelSettingsError",
    "resolve_model",
]

DEFAULT_OPENAI_BASE = "https://api.openai.com/v1"
Provider = Literal["openai", "azure", "self-hosted"]
# Keys that describe where and how to call, not what to send in the request body.
_CLIENT_KEYS = frozenset(
    {
        "provider",
        "model",
        "api_base",
        "api_key",
        "api_version",
        "api_type",
        "deployment",
        "engine",
        "timeout",
        "request_timeout",
        "max_retries",
        "use_chat_completions_endpoint",
        "model_name",
        "headers",
    }
)


class ModelSettingsError(ValueError):
    """A model group cannot be used (missing key or base); the message names the group."""


class ModelConfig(BaseModel):
    """One model of a group; unknown keys (``max_tokens``, ``top_p``...) go to the request."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    provider: str = "openai"
    model: str | None = Field(default=None, alias="model")
    api_base: str | None = None
    api_key: str | None = None
    api_version: str | None = None
    deployment: str | None = None
    timeout: float | None = None
    request_timeout: float | None = None
    max_retries: int = 2
    temperature: float | None = None
    use_chat_completions_endpoint: bool = True
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        value = value.strip().lower().replace("_", "-")
        if value in ("openai", "azure", "self-hosted", "ollama"):
            return value
        raise ValueError(
            f"unknown provider {value!r}: use openai (any OpenAI-compatible server), "
            "azure, self-hosted or ollama"
        )

    @field_validator("max_retries")
    @classmethod
    def _bounded_retries(cls, value: int) -> int:
        if not 0 <= value <= 10:
            raise ValueError("max_retries must be between 0 and 10")
        return value

    def extra_body(self) -> dict[str, Any]:
        """Request parameters besides the messages (temperature, max_tokens, ...)."""
        body = {k: v for k, v in (self.model_extra or {}).items() if k not in _CLIENT_KEYS}
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return body


class ModelGroupConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    models: list[ModelConfig] = Field(min_length=1)
    router: dict[str, Any] | None = None


@dataclass(frozen=True)
class LLMSettings:
    """A model ready to call: every default applied, every secret resolved."""

    group: str
    provider: str
    model: str
    url: str  # the full endpoint URL
    api_key: str | None
    timeout: float
    max_retries: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, Any] = field(default_factory=dict)
    chat: bool = True


def _env(name: str, environ: Mapping[str, str]) -> str | None:
    value = environ.get(name)
    return value if value else None


def _unresolved(value: str | None) -> bool:
    """``${VAR}`` left as is by the expansion means the variable is not set."""
    return value is not None and "${" in value


def resolve_model(
    group: str, model: ModelConfig, environ: Mapping[str, str] | None = None
) -> LLMSettings:
    """Apply Rasa's defaults to one model; ModelSettingsError names the group when it cannot
    be called (no key for OpenAI's own API, no base for a self-hosted or Azure model)."""
    env = os.environ if environ is None else environ
    where = f"model group '{group}'"
    api_key = None if _unresolved(model.api_key) else model.api_key
    api_base = None if _unresolved(model.api_base) else model.api_base
    timeout = float(model.timeout or model.request_timeout or 7.0)
    headers = dict(model.headers)
    if model.provider == "azure":
        api_key = api_key or _env("AZURE_API_KEY", env)
        api_base = api_base or _env("AZURE_API_BASE", env)
        version = model.api_version or _env("AZURE_API_VERSION", env) or "2024-02-01"
        deployment = model.deployment or model.model
        if not api_base:
            raise ModelSettingsError(f"{where}: azure needs api_base (or AZURE_API_BASE)")
        if not api_key:
            raise ModelSettingsError(f"{where}: azure needs api_key (or AZURE_API_KEY)")
        if not deployment:
            raise ModelSettingsError(f"{where}: azure needs deployment (or model)")
        url = (
            f"{api_base.rstrip('/')}/openai/deployments/{deployment}/chat/completions"
            f"?api-version={version}"
        )
        headers.setdefault("api-key", api_key)
        return LLMSettings(
            group,
            "azure",
            deployment,
            url,
            None,
            timeout,
            model.max_retries,
            headers,
            model.extra_body(),
            True,
        )
    if model.provider == "ollama":
        # Rasa names ollama's own address; its OpenAI-compatible API lives under /v1.
        api_base = (api_base or "http://127.0.0.1:11434").rstrip("/")
        if not api_base.endswith("/v1"):
            api_base += "/v1"
    elif model.provider == "self-hosted":
        if not api_base:
            raise ModelSettingsError(f"{where}: a self-hosted model needs api_base")
        api_key = api_key or None
    else:
        api_key = api_key or _env("OPENAI_API_KEY", env)
        api_base = api_base or _env("OPENAI_API_BASE", env)
        if not api_base:
            api_base = DEFAULT_OPENAI_BASE
            if not api_key:
                raise ModelSettingsError(
                    f"{where}: no API key: set api_key (e.g. api_key: ${{OPENAI_API_KEY}}) or "
                    "the OPENAI_API_KEY environment variable, or point api_base (or "
                    "OPENAI_API_BASE) at an OpenAI-compatible server"
                )
    if not model.model:
        raise ModelSettingsError(f"{where}: 'model' is required (e.g. model: gpt-4o-mini)")
    path = "/chat/completions" if model.use_chat_completions_endpoint else "/completions"
    url = api_base.rstrip("/") + path
    if api_key:
        headers.setdefault("Authorization", f"Bearer {api_key}")
    return LLMSettings(
        group,
        model.provider,
        model.model,
        url,
        api_key,
        timeout,
        model.max_retries,
        headers,
        model.extra_body(),
        model.use_chat_completions_endpoint,
    )
