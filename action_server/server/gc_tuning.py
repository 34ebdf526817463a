"""Garbage-collector tuning for a serving worker: freeze the start-up heap, collect less often.

An action call allocates tens of thousands of small dicts and lists (the parsed tracker) that
never form reference cycles. With CPython's default thresholds (700, 10, 10) building them
triggers many collections, and every older-generation collection walks the whole start-up heap
(Sanic, pydantic, the user's actions): measured, two thirds of parsing a 2,000-event tracker was
collector work, and sync actions' thread-pool garbage caused 24-34 ms p99 spikes at 10 events.
`gc.freeze()` moves everything alive after start-up out of the collector's sight, and a higher
first-generation threshold makes one request trigger a few collections instead of a hundred.
Cycles are still collected. Opt out with ACTION_SERVER_GC_TUNING=0.
"""

from __future__ import annotations

import gc
import logging
import os

__all__ = [
    "GC_TUNING_ENV",
    "GEN0_THRESHOLD",
    "BodyGarbageBudget",
    "body_garbage",
    "gc_tuning_enabled",
    "tune_gc",
]

logger = logging.getLogger(__name__)

GC_TUNING_ENV = "ACTION_SERVER_GC_TUNING"
# Objects allocated (minus freed) before a first-generation collection; CPython's default is 700.
GEN0_THRESHOLD = 50_000
_OFF = frozenset({"0", "false", "no", "off"})


def gc_tuning_enabled() -> bool:
    """On unless ACTION_SERVER_GC_TUNING is 0/false/no/off."""
    return os.environ.get(GC_TUNING_ENV, "").strip().lower() not in _OFF


def tune_gc() -> None:
    """Collect once, freeze what survives, raise the gen-0 threshold; call after start-up."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
    body_garbage.active = True
    logger.debug(
        "GC tuned: %d start-up objects frozen, thresholds %s",
        gc.get_freeze_count(),
        gc.get_threshold(),
    )


class BodyGarbageBudget:
    """Runs a full collection after every `limit` bytes of request bodies.

    With the raised threshold few collections happen when requests allocate few objects (the
    events stay raw), but each request leaves small reference cycles (request, protocol,
    futures) that keep its body alive until collected: measured, peak RSS crept from 73 to
    178 MB at 2,000-event calls. Counting body bytes bounds that garbage to about `limit`.
    A full collection, because cycles that survived one young collection (their request was
    still in flight) are older by then; it is cheap since the start-up heap is frozen.
    """

    def __init__(self, limit: int = 32 * 1024 * 1024) -> None:
        self.limit = limit
        self._left = limit
        self.active = False

    def spend(self, nbytes: int) -> None:
        if not self.active:
            return
        self._left -= nbytes
        if self._left <= 0:
            self._left = self.limit
            gc.collect()


body_garbage = BodyGarbageBudget()
"""The worker's budget; `tune_gc` turns it on."""
