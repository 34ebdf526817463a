"""App hook for the `--gc-tuned` experiment: what the server gains from tuning Python's cyclic GC.

A parsed 2,000-event tracker is ~100k dicts and lists; with the default thresholds (700, 10, 10)
building it triggers dozens of collections, and each older-generation one walks the whole
start-up heap (Sanic, pydantic, our modules). The JSON trees have no reference cycles, so those
collections find nothing. The hook (1) freezes everything alive after start-up, so collections
skip it, and (2) raises the first-generation threshold so one parse triggers a few collections
instead of a hundred. Use: `action_server run --app-hook bench.gc_tuning:gc_tuned`.
"""

from __future__ import annotations

import gc
from typing import Any

from sanic import Blueprint, Sanic

from action_server.server.settings import AppExtension

GEN0_THRESHOLD = 50_000


def gc_tuned(settings: Any, executor: Any) -> AppExtension:
    """Returns a blueprint whose start-up listener tunes the GC once the worker is fully built."""
    blueprint = Blueprint("bench_gc_tuning")

    @blueprint.listener("after_server_start")
    async def freeze_startup_heap(app: Sanic, _: Any) -> None:
        gc.collect()
        gc.freeze()
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)

    return AppExtension(blueprints=[blueprint])
