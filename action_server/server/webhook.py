"""POST /webhook: one action call in, `{"events", "responses"}` out, every failure as JSON."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from time import perf_counter
from typing import Any, Protocol

import orjson
from sanic import HTTPResponse, Request

from action_server.server.errors import ActionError, map_action_exception, unexpected_error
from action_server.server.gc_tuning import body_garbage
from action_server.server.metrics import INVALID_CALL, UNKNOWN_ACTION, ServerMetrics
from action_server.server.wire import WireError, decode_action_call
from action_server.tracing.utils import get_tracer_and_context, set_span_attributes

__all__ = ["ActionRunner", "TracedWebhookHandler", "WebhookHandler"]

logger = logging.getLogger(__name__)

# Passed as content_type, not a headers dict: Sanic then builds no Header object per response.
_JSON = "application/json"


class ActionRunner(Protocol):
    """The part of `ActionExecutor` the webhook needs (see docs/internals.md)."""

    async def execute(self, call: dict[str, Any]) -> dict[str, Any]: ...


def _encode(body: Any) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)


class WebhookHandler:
    """Runs action calls through the executor and maps each outcome to a status and body."""

    def __init__(self, executor: ActionRunner, metrics: ServerMetrics) -> None:
        self._executor = executor
        self._metrics = metrics
        # What runs a decoded call; the traced handler puts a span around it.
        self._run: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]] = executor.execute

    async def __call__(self, request: Request) -> HTTPResponse:
        started = perf_counter()
        metrics = self._metrics
        metrics.call_started()
        try:
            status, payload, label = await self._answer(request.body)
        finally:
            metrics.call_finished()
        metrics.observe_call(label, status, perf_counter() - started)
        body_garbage.spend(len(request.body))
        return HTTPResponse(payload, status=status, content_type=_JSON)

    async def _answer(self, body: bytes) -> tuple[int, bytes, str]:
        """Status, encoded body and the metrics label of one call."""
        try:
            call = decode_action_call(body)
        except WireError as exc:
            return exc.status, _encode({"error": exc.message}), INVALID_CALL

        action_name: str = call["next_action"]
        sender_id = call["tracker"].get("sender_id")
        try:
            result = await self._run(call)
        except Exception as exc:
            error = map_action_exception(exc, action_name, sender_id) or unexpected_error(
                exc, action_name, sender_id
            )
            return self._failure(error, action_name)

        try:
            return 200, _encode(result), action_name
        except TypeError as exc:
            # An action returned something JSON cannot carry (a set, a custom object...).
            logger.error(
                "Action '%s' returned a result that is not JSON-serialisable (sender_id=%s): %s",
                action_name,
                sender_id,
                exc,
            )
            error = ActionError(
                500,
                {
                    "error": f"Action '{action_name}' returned events or responses that are not "
                    f"JSON-serialisable: {exc}",
                    "action_name": action_name,
                },
                "failed",
            )
            return self._failure(error, action_name)

    def _failure(self, error: ActionError, action_name: str) -> tuple[int, bytes, str]:
        label = UNKNOWN_ACTION if error.kind == "not_found" else action_name
        self._metrics.count_failure(label, error.kind)
        return error.status, _encode(error.body), label


# Headers that describe the (possibly compressed) body, not the trace context.
_NOT_TRACE_HEADERS = frozenset({"content-length", "content-encoding"})
# The headers of the request this task handles (each request runs in its own task).
_trace_carrier: ContextVar[dict[str, str] | None] = ContextVar("trace_carrier", default=None)


class TracedWebhookHandler(WebhookHandler):
    """The webhook with rasa-sdk's `create_app.webhook` span around each run, continuing the
    caller's trace (W3C `traceparent` header). Used only when tracing is configured."""

    def __init__(
        self, executor: ActionRunner, metrics: ServerMetrics, tracer_provider: Any
    ) -> None:
        super().__init__(executor, metrics)
        self._tracer_provider = tracer_provider
        self._run = self._traced_run

    async def __call__(self, request: Request) -> HTTPResponse:
        carrier = {
            key: value
            for key, value in request.headers.items()
            if key.lower() not in _NOT_TRACE_HEADERS
        }
        _trace_carrier.set(carrier)
        return await super().__call__(request)

    async def _traced_run(self, call: dict[str, Any]) -> dict[str, Any]:
        span_name = "create_app.webhook"
        tracer, context = get_tracer_and_context(
            span_name, self._tracer_provider, _trace_carrier.get()
        )
        with tracer.start_as_current_span(span_name, context=context) as span:
            result = await self._executor.execute(call)
            set_span_attributes(span, call)
            if span.is_recording():
                span.set_attribute("http.method", "POST")
                span.set_attribute("http.route", "/webhook")
            return result
