"""An async client for OpenAI-compatible chat completions (OpenAI, Azure, vLLM, ollama, ...).

A few ``httpx.AsyncClient`` pools per model group with room for many connections, so hundreds
of conversations wait on the LLM at once; a timeout per attempt and a bounded number of retries
(connection errors, timeouts, 429 and 5xx); a group with several models fails over to the next.
The prompt and the answer go to the debug log with API keys redacted.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from action_server.config.model_groups import LLMSettings
from action_server.understanding.llm_metrics import llm_metrics

__all__ = ["LLMAnswer", "LLMClient", "LLMError", "redact"]

logger = logging.getLogger(__name__)

_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_BACKOFF = 0.2  # seconds before the first retry, doubled each time
_SHARDS = 16
_SECRET = re.compile(r"(?i)(bearer\s+|api[-_]?key[\"'=:\s]+)([A-Za-z0-9._\-]{4,})")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One certificate store for every pool (loading it costs tens of milliseconds)."""
    return ssl.create_default_context()


class LLMError(Exception):
    """The LLM could not give an answer (after retries); the message names the model group."""


@dataclass(frozen=True)
class LLMAnswer:
    text: str
    model_group: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


def redact(text: str, secrets: Sequence[str | None] = ()) -> str:
    """``text`` with API keys replaced by ``***`` (known keys, and bearer/api-key patterns)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _SECRET.sub(lambda m: m.group(1) + "***", text)


class LLMClient:
    """Calls the models of one group; ``complete`` returns the first choice's text."""

    def __init__(self, models: Sequence[LLMSettings], *, max_connections: int = 1000) -> None:
        if not models:
            raise ValueError("a model group needs at least one model")
        self.models = list(models)
        self.group = models[0].group
        self._clients: list[httpx.AsyncClient] = []
        self._next = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        per_shard = max(1, max_connections // _SHARDS)
        self._limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)

    def _http(self) -> httpx.AsyncClient:
        # httpcore's pool scans every connection for every request (quadratic in the number
        # of requests in flight), so requests are spread over a few small pools. A client
        # belongs to one event loop; the CLI may run several loops one after another.
        loop = asyncio.get_running_loop()
        if not self._clients or self._loop is not loop:
            verify = _ssl_context()
            self._clients = [
                httpx.AsyncClient(limits=self._limits, trust_env=False, verify=verify)
                for _ in range(_SHARDS)
            ]
            self._loop = loop
        self._next = (self._next + 1) % _SHARDS
        return self._clients[self._next]

    async def close(self) -> None:
        for client in self._clients:
            try:
                await client.aclose()
            except RuntimeError:  # its loop is gone; nothing left to close
                pass
        self._clients = []

    async def complete(self, prompt: str) -> LLMAnswer:
        """The answer to ``prompt`` as a single user message; LLMError when none came."""
        started = time.perf_counter()
        problems: list[str] = []
        for model in self.models:
            try:
                answer = await self._complete_with(model, prompt, started)
            except LLMError as exc:
                problems.append(str(exc))
                continue
            llm_metrics().observe(
                self.group,
                "ok",
                answer.seconds,
                answer.prompt_tokens,
                answer.completion_tokens,
            )
            return answer
        seconds = time.perf_counter() - started
        outcome = "timeout" if problems and "timed out" in problems[-1] else "error"
        llm_metrics().observe(self.group, outcome, seconds, 0, 0)
        raise LLMError("; ".join(problems))

    async def _complete_with(self, model: LLMSettings, prompt: str, started: float) -> LLMAnswer:
        body: dict[str, Any] = {"model": model.model, **model.body}
        if model.chat:
            body["messages"] = [{"role": "user", "content": prompt}]
        else:
            body["prompt"] = prompt
        payload = orjson.dumps(body)
        headers = {"Content-Type": "application/json", **model.headers}
        secrets = [model.api_key, *model.headers.values()]
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "LLM request to model group '%s' (%s): %s",
                model.group,
                redact(model.url, secrets),
                redact(prompt, secrets),
            )
        where = f"model group '{model.group}' ({model.provider} {model.model})"
        last = "no attempt"
        for attempt in range(model.max_retries + 1):
            if attempt:
                await asyncio.sleep(_BACKOFF * 2 ** (attempt - 1))
            try:
                response = await self._http().post(
                    model.url, content=payload, headers=headers, timeout=model.timeout
                )
            except httpx.TimeoutException:
                last = f"{where}: timed out after {model.timeout:g} s"
                continue
            except httpx.HTTPError as exc:
                last = f"{where}: cannot reach {redact(model.url, secrets)}: {type(exc).__name__}"
                continue
            if response.status_code in _RETRY_STATUS:
                last = f"{where}: HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                detail = redact(response.text[:200], secrets)
                raise LLMError(f"{where}: HTTP {response.status_code}: {detail}")
            return self._answer(model, where, response, started, secrets)
        raise LLMError(last)

    def _answer(
        self,
        model: LLMSettings,
        where: str,
        response: httpx.Response,
        started: float,
        secrets: Sequence[str | None],
    ) -> LLMAnswer:
        try:
            data = orjson.loads(response.content)
            choice = data["choices"][0]
            text = choice["message"]["content"] if model.chat else choice["text"]
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
            raise LLMError(
                f"{where}: the answer is not a completion ({type(exc).__name__})"
            ) from None
        if not isinstance(text, str):
            raise LLMError(f"{where}: the answer has no text")
        usage = data.get("usage") if isinstance(data, dict) else None
        usage = usage if isinstance(usage, dict) else {}
        seconds = time.perf_counter() - started
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "LLM answer from model group '%s' in %.3f s: %s",
                model.group,
                seconds,
                redact(text, secrets),
            )
        return LLMAnswer(
            text=text,
            model_group=model.group,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            seconds=seconds,
        )
