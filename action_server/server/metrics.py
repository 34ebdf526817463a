"""Prometheus metrics of the webhook: calls, latency, failures by kind, requests in flight.

With several Sanic workers each worker is its own process; prometheus_client's multiprocess
mode (PROMETHEUS_MULTIPROC_DIR, set by the CLI before any worker starts) makes a scrape of any
worker report the sum over all of them.
"""

from __future__ import annotations

import os
from threading import Lock

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from action_server.understanding.llm_metrics import llm_registry

__all__ = ["MULTIPROC_ENV", "ServerMetrics", "multiprocess_enabled"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Action calls range from sub-millisecond (a SlotSet) to tens of seconds (slow APIs).
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# Label for calls that never reached a known action, so a client cannot create unbounded series
# by posting random action names.
UNKNOWN_ACTION = "<unknown>"
INVALID_CALL = "<invalid>"


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class ServerMetrics:
    """The metric objects of one process, with per-label children cached for the hot path."""

    def __init__(self) -> None:
        self._multiprocess = multiprocess_enabled()
        # In multiprocess mode values live in files; a registry is built per scrape instead.
        registry: CollectorRegistry | None = None if self._multiprocess else CollectorRegistry()
        self._registry = registry
        self.calls = Counter(
            "action_server_webhook_requests",
            "Action calls answered on /webhook, by action and HTTP status.",
            ["action", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "action_server_webhook_request_duration_seconds",
            "Time to answer an action call on /webhook, by action and HTTP status.",
            ["action", "status"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "action_server_action_errors",
            "Action calls whose action raised an exception (HTTP 500).",
            ["action"],
            registry=registry,
        )
        self.rejections = Counter(
            "action_server_action_rejections",
            "Action calls rejected by the action (ActionExecutionRejection, HTTP 400).",
            ["action"],
            registry=registry,
        )
        self.timeouts = Counter(
            "action_server_action_timeouts",
            "Action calls that exceeded the per-action timeout.",
            ["action"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "action_server_webhook_requests_in_flight",
            "Action calls being handled right now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
        self._lock = Lock()
        # One process: a plain int read at scrape time, instead of two locked gauge updates per
        # call. Multiprocess mode sums file-backed values across workers, so it keeps the gauge.
        self._in_flight_now = 0
        if not self._multiprocess:
            self.in_flight.set_function(lambda: self._in_flight_now)

    def call_started(self) -> None:
        """A /webhook call began (called on the event loop only)."""
        if self._multiprocess:
            self.in_flight.inc()
        else:
            self._in_flight_now += 1

    def call_finished(self) -> None:
        if self._multiprocess:
            self.in_flight.dec()
        else:
            self._in_flight_now -= 1

    def observe_call(self, action: str, status: int, seconds: float) -> None:
        key = (action, status)
        children = self._children.get(key)
        if children is None:
            with self._lock:
                label = str(status)
                children = (
                    self.calls.labels(action, label),
                    self.latency.labels(action, label),
                )
                self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def count_failure(self, action: str, kind: str) -> None:
        if kind == "failed":
            self.errors.labels(action).inc()
        elif kind == "rejected":
            self.rejections.labels(action).inc()
        elif kind == "timeout":
            self.timeouts.labels(action).inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        if self._registry is not None:
            body = generate_latest(self._registry)
            llm = llm_registry()  # LLM calls of the flow engine, when it made any
            if llm is not None:
                body += generate_latest(llm)
            return body, CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
