"""LLM helpers for actions: yes/no and one-of-N classification with the project's model groups.

    from action_server.understanding import llm_classify_binary, llm_classify_category

    if await llm_classify_binary("Is the customer angry?", tracker.latest_message["text"]):
        ...

Both are coroutines (await them in ``async def run`` or an async function action; a sync
function can call ``asyncio.run(...)``, as it runs in a worker thread) and return
``fallback`` on any LLM error or an answer that is not one of the choices. The model group is
the one named, else the command generator's, else the first in endpoints.yml, else Rasa's
OpenAI defaults (``OPENAI_API_KEY``/``OPENAI_API_BASE``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from action_server.config.endpoints import ConfigError, EndpointsConfig, load_endpoints
from action_server.config.model_groups import ModelConfig, ModelSettingsError, resolve_model
from action_server.understanding.llm_client import LLMClient, LLMError

__all__ = ["configure_llm_helpers", "llm_classify_binary", "llm_classify_category"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
ENDPOINTS_ENV = "ACTION_SERVER_ENDPOINTS"
_YES = frozenset({"yes", "true", "y"})
_NO = frozenset({"no", "false", "n"})


class _Helpers:
    def __init__(self) -> None:
        self.endpoints: EndpointsConfig | None = None
        self.default_group: str | None = None
        self.clients: dict[str, LLMClient] = {}


_state = _Helpers()


def configure_llm_helpers(endpoints: EndpointsConfig, default_group: str | None = None) -> None:
    """Use these model groups (the CLI calls this at start-up with the project's files)."""
    _state.endpoints = endpoints
    _state.default_group = default_group
    _state.clients = {}


def _client(model_group: str | None) -> LLMClient:
    if _state.endpoints is None:
        # Not configured by the flows set-up (a plain action server): the server's endpoints
        # file, which `run` names in the environment of its workers.
        path = os.environ.get(ENDPOINTS_ENV) or "endpoints.yml"
        try:
            _state.endpoints = load_endpoints(path if Path(path).exists() else None)
        except ConfigError as exc:
            raise LLMError(str(exc)) from exc
    endpoints = _state.endpoints
    wanted = model_group or _state.default_group
    if wanted is None and endpoints.model_groups:
        wanted = endpoints.model_groups[0].id
    key = wanted or "<default>"
    client = _state.clients.get(key)
    if client is not None:
        return client
    try:
        if wanted is None:
            settings = [resolve_model("default", ModelConfig(model="gpt-4o-mini"))]
        else:
            group = endpoints.model_group(wanted)
            if group is None:
                raise LLMError(f"model group '{wanted}' is not defined in endpoints.yml")
            settings = [resolve_model(group.id, model) for model in group.models]
    except ModelSettingsError as exc:
        raise LLMError(str(exc)) from exc
    client = LLMClient(settings)
    _state.clients[key] = client
    return client


async def _ask(prompt: str, model_group: str | None) -> str | None:
    try:
        answer = await _client(model_group).complete(prompt)
    except LLMError as exc:
        logger.warning("LLM helper: no answer, using the fallback: %s", exc)
        return None
    return answer.text


def _first_word(text: str) -> str:
    words = re.findall(r"[A-Za-z]+", text.lower())
    return words[0] if words else ""


async def llm_classify_binary(
    prompt: str, input: str, fallback: bool | None = None, *, model_group: str | None = None
) -> bool | None:
    """True or False as the LLM answers ``prompt`` about ``input``; ``fallback`` on failure."""
    answer = await _ask(
        f'{prompt}\n\nInput:\n"""{input}"""\n\nAnswer with one word: yes or no.', model_group
    )
    if answer is None:
        return fallback
    word = _first_word(answer)
    if word in _YES:
        return True
    if word in _NO:
        return False
    return fallback


async def llm_classify_category(
    prompt: str,
    input: str,
    options: Sequence[T],
    fallback: T | None = None,
    *,
    model_group: str | None = None,
) -> T | None:
    """The one of ``options`` the LLM picks for ``input``; ``fallback`` on failure."""
    if not options:
        return fallback
    listed = "\n".join(f"- {option}" for option in options)
    answer = await _ask(
        f'{prompt}\n\nInput:\n"""{input}"""\n\nAnswer with exactly one of these options '
        f"and nothing else:\n{listed}",
        model_group,
    )
    if answer is None:
        return fallback
    cleaned = answer.strip().strip("`'\".-* ").lower()
    for option in options:
        if str(option).lower() == cleaned:
            return option
    mentioned = [o for o in options if re.search(rf"\b{re.escape(str(o).lower())}\b", cleaned)]
    return mentioned[0] if len(mentioned) == 1 else fallback
