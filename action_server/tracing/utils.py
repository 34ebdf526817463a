"""Tracing helpers of the transports: the provider from endpoints.yml, a tracer and the
caller's trace context (W3C `traceparent`), and rasa-sdk's attributes of a webhook span."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from action_server.tracing import config

__all__ = [
    "TracerProvider",
    "get_tracer_and_context",
    "get_tracer_provider",
    "set_span_attributes",
]


def get_tracer_provider(endpoints_file: str) -> TracerProvider | None:
    """The provider the `tracing:` section configures (None without one); instruments the
    executor and validation actions when there is one."""
    tracer_provider = config.get_tracer_provider(endpoints_file)
    config.configure_tracing(tracer_provider)
    return tracer_provider


def get_tracer_and_context(
    span_name: str,
    tracer_provider: TracerProvider | None,
    tracing_carrier: Mapping[str, str] | None,
) -> tuple[Any, Any]:
    """A tracer, and the parent context the caller sent in its headers or metadata."""
    if tracer_provider is None:
        return trace.get_tracer(span_name), None
    context = TraceContextTextMapPropagator().extract(tracing_carrier) if tracing_carrier else None
    return tracer_provider.get_tracer(span_name), context


def set_span_attributes(span: Any, action_call: dict[str, Any]) -> None:
    """rasa-sdk's attributes of a webhook span: action, Rasa version, sender, message id."""
    if not span.is_recording():
        return
    tracker = action_call.get("tracker", {})
    attributes = {
        "next_action": action_call.get("next_action"),
        "version": action_call.get("version"),
        "sender_id": tracker.get("sender_id"),
        "message_id": tracker.get("latest_message", {}).get("message_id", "None"),
    }
    for key, value in attributes.items():
        span.set_attribute(key, value)
