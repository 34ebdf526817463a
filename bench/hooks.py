"""In-process measurements that need our package's internals: ActionClient transports, flow engine.

Each function returns rows for the report, or a one-line reason why it could not run yet, so
`run.py` keeps working while those modules are still being written.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench.gen import ACTION_NAME, DATA_DIR, OURS_PACKAGE_NAME, body_path

Rows = list[dict[str, Any]]
ROOT = Path(__file__).resolve().parent.parent


def measure_inprocess_vs_http(url: str, sizes: list[int], seconds: int) -> Rows | str:
    """The same action call through `InProcessTransport(executor)` and `HttpTransport(url)`.

    Sequential calls (one at a time) for about `seconds` per transport and size; reports the
    median and p99 latency per call. `url` is our running server, loaded with the same package.
    """
    try:
        from action_server.client.action_client import (
            ActionClient,
            HttpTransport,
            InProcessTransport,
        )
        from action_server.executor import ActionExecutor
    except ImportError as error:
        return f"action_server.client.action_client is not available yet ({error})"
    if str(DATA_DIR) not in sys.path:
        sys.path.insert(0, str(DATA_DIR))
    executor = ActionExecutor()
    executor.register_package(OURS_PACKAGE_NAME)

    async def timed(client: Any, call: dict[str, Any]) -> list[float]:
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(latencies) < 5:
            started = time.perf_counter()
            await client.run(call)
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies

    async def measure() -> Rows:
        rows: Rows = []
        clients = {
            "in-process": ActionClient(InProcessTransport(executor)),
            "http": ActionClient(HttpTransport(url + "/webhook")),
        }
        try:
            for n_events in sizes:
                call = orjson.loads(body_path(n_events, ACTION_NAME).read_bytes())
                for name, client in clients.items():
                    await client.run(call)  # warm-up: connection, domain cache
                    latencies = sorted(await timed(client, call))
                    rows.append(
                        {
                            "events": n_events,
                            "transport": name,
                            "calls": len(latencies),
                            "p50_ms": statistics.median(latencies),
                            "p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
                        }
                    )
        finally:
            for client in clients.values():
                await client.close()
        return rows

    return asyncio.run(measure())


# The happy path of flows/tests/test_booking.yml: one booking per conversation.
BOOKING_TURNS = (
    "/book_table",
    "/SetSlots(cuisine=italian)",
    "4",
    "19:30",
    "Ann",
    "+44 20 7946 0000",
)


def measure_flow_step_cost(seconds: float = 3.0) -> Rows | str:
    """Wall time per flow step: the example booking flow run in-process, memory store.

    Conversations `c0, c1, ...` each go through the booking turns for about `seconds`; the
    engine counts the steps it executes per turn (`_Turn.steps`), read in `_finish`.
    """
    try:
        from action_server.dialogue.engine import FlowEngine
        from action_server.stores.store import InMemoryConversationStore
    except ImportError as error:
        return f"the flow engine is not available ({error})"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))

    class CountingEngine(FlowEngine):
        steps = 0

        async def _finish(self, turn: Any) -> Any:
            CountingEngine.steps += turn.steps
            return await super()._finish(turn)

    async def measure(endpoints: Path) -> Rows:
        engine = CountingEngine.from_paths(
            flows=[ROOT / "flows"], endpoints=endpoints, store=InMemoryConversationStore()
        )
        try:
            await _book(engine, "warm-up")
            CountingEngine.steps = 0
            conversations = turns = 0
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                turns += await _book(engine, f"c{conversations}")
                conversations += 1
            elapsed = time.perf_counter() - started
        finally:
            await engine.close()
        steps = CountingEngine.steps
        return [
            {
                "flow": "book_table (example)",
                "conversations": conversations,
                "turns": turns,
                "steps": steps,
                "us_per_step": elapsed / steps * 1e6 if steps else float("nan"),
                "us_per_turn": elapsed / turns * 1e6 if turns else float("nan"),
            }
        ]

    with tempfile.TemporaryDirectory() as tmp:
        endpoints = Path(tmp) / "endpoints.yml"
        endpoints.write_text("action_endpoint:\n  actions_module: actions\n")
        logging.disable(logging.WARNING)  # the example actions log every booking
        try:
            return asyncio.run(measure(endpoints))
        finally:
            logging.disable(logging.NOTSET)


async def _book(engine: Any, conversation_id: str) -> int:
    for message in BOOKING_TURNS:
        await engine.handle(conversation_id, message)
    return len(BOOKING_TURNS)
