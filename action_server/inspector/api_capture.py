"""Record the HTTP exchange of an API action run from the inspector, with secrets redacted.

An ``ApiAction`` sends through its ``http`` client; the inspector wraps that client once with
``RecordingHttpClient``, which passes every request through unchanged and, only while
``capture()`` is active in the current task, keeps a redacted copy of the request and response.
Webhook and flow calls (no capture active) are untouched.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from typing import Any

import orjson

from action_server.kinds.api_actions import ApiAction
from action_server.kinds.api_http import ApiCallError, ApiRequest, ApiResponse
from action_server.kinds.templating import env_names, redact

__all__ = ["RecordingHttpClient", "capture", "watch"]

_MAX_BODY_CHARS = 20_000
_exchanges: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "inspector_api_exchanges", default=None
)


class RecordingHttpClient:
    """Delegates to the action's own client; records exchanges while ``capture()`` is on."""

    def __init__(self, inner: Any, secret_names: list[str]) -> None:
        self.inner = inner
        self.secret_names = secret_names

    def __getattr__(self, name: str) -> Any:  # limits, aclose, ...
        return getattr(self.inner, name)

    async def send(self, request: ApiRequest) -> ApiResponse:
        record = _exchanges.get()
        if record is None:
            response: ApiResponse = await self.inner.send(request)
            return response
        secrets = {os.environ[n] for n in self.secret_names if os.environ.get(n)}
        entry: dict[str, Any] = {"request": _request_dict(request, secrets), "response": None}
        record.append(entry)
        try:
            response = await self.inner.send(request)
        except ApiCallError as exc:
            entry["error"] = redact(exc.message, secrets)
            raise
        entry["response"] = {
            "status": response.status,
            "url": redact(response.url, secrets),
            "body": _body_text(response.content, secrets),
        }
        return response


def _redacted(value: Any, secrets: set[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: _redacted(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, secrets) for v in value]
    return value


def _request_dict(request: ApiRequest, secrets: set[str]) -> dict[str, Any]:
    return {
        "method": request.method,
        "url": redact(request.url, secrets),
        "headers": _redacted(dict(request.headers), secrets),
        "params": _redacted(dict(request.params), secrets),
        "json": _redacted(request.json, secrets),
        "timeout": request.timeout,
    }


def _body_text(content: bytes, secrets: set[str]) -> Any:
    """The response body: parsed JSON when it is JSON, else (capped) text; secrets hidden."""
    try:
        return _redacted(orjson.loads(content), secrets) if content.strip() else None
    except orjson.JSONDecodeError:
        text = content[:_MAX_BODY_CHARS].decode("utf-8", errors="replace")
        return redact(text, secrets)


def watch(action: Any) -> bool:
    """Wrap an API action's client for recording (once); False for other kinds."""
    if not isinstance(action, ApiAction):
        return False
    if not isinstance(action.http, RecordingHttpClient):
        config = action.config
        names = env_names([config.base_url, config.path, config.headers, config.query, config.body])
        action.http = RecordingHttpClient(action.http, names)  # type: ignore[assignment]
    return True


@contextlib.contextmanager
def capture() -> Iterator[list[dict[str, Any]]]:
    """Collect the exchanges of API actions run inside this block (this task only)."""
    exchanges: list[dict[str, Any]] = []
    token = _exchanges.set(exchanges)
    try:
        yield exchanges
    finally:
        _exchanges.reset(token)
