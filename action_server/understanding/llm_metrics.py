"""Prometheus metrics of LLM calls: latency and token counts by model group.

The server's ``/metrics`` renders ``llm_registry()`` after its own metrics in a single
process; in multiprocess mode (PROMETHEUS_MULTIPROC_DIR) the values go to the shared files
like every other metric. The objects are made on first use, after the CLI has set that up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from threading import Lock

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["LLMMetrics", "llm_metrics", "llm_registry"]

_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)


@dataclass
class LLMMetrics:
    calls: Counter
    latency: Histogram
    tokens: Counter

    def observe(
        self, group: str, outcome: str, seconds: float, prompt_tokens: int, completion_tokens: int
    ) -> None:
        self.calls.labels(group, outcome).inc()
        self.latency.labels(group, outcome).observe(seconds)
        if prompt_tokens:
            self.tokens.labels(group, "prompt").inc(prompt_tokens)
        if completion_tokens:
            self.tokens.labels(group, "completion").inc(completion_tokens)


_lock = Lock()
_metrics: LLMMetrics | None = None
_registry: CollectorRegistry | None = None


def llm_metrics() -> LLMMetrics:
    global _metrics, _registry
    with _lock:
        if _metrics is None:
            multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
            registry = None if multiprocess else CollectorRegistry()
            _registry = registry
            _metrics = LLMMetrics(
                calls=Counter(
                    "action_server_llm_requests",
                    "LLM calls by model group and outcome (ok, error, timeout).",
                    ["model_group", "outcome"],
                    registry=registry,
                ),
                latency=Histogram(
                    "action_server_llm_request_duration_seconds",
                    "Time an LLM call took (retries included), by model group and outcome.",
                    ["model_group", "outcome"],
                    buckets=_BUCKETS,
                    registry=registry,
                ),
                tokens=Counter(
                    "action_server_llm_tokens",
                    "Tokens the LLM reported, by model group and kind (prompt, completion).",
                    ["model_group", "kind"],
                    registry=registry,
                ),
            )
        return _metrics


def llm_registry() -> CollectorRegistry | None:
    """The registry holding the LLM metrics in a single process (None before any call)."""
    return _registry
