"""In-process measurements that need our package's internals: ActionClient transports, flow engine.

Each function returns rows for the report, or a one-line reason why it could not run yet, so
`run.py` keeps working while those modules are still being written.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from typing import Any

import orjson

from bench.gen import ACTION_NAME, DATA_DIR, OURS_PACKAGE_NAME, body_path

Rows = list[dict[str, Any]]


def measure_inprocess_vs_http(url: str, sizes: list[int], seconds: int) -> Rows | str:
    """The same action call through `InProcessTransport(executor)` and `HttpTransport(url)`.

    Sequential calls (one at a time) for about `seconds` per transport and size; reports the
    median and p99 latency per call. `url` is our running server, loaded with the same package.
    """
    try:
        from action_server.clients import ActionClient, HttpTransport, InProcessTransport

        from action_server.executor import ActionExecutor
    except ImportError as error:
        return f"action_server.clients is not available yet ({error})"
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


def measure_flow_step_cost() -> Rows | str:
    """Cost of one flow-engine step (hook for the flow helper; not implemented by the bench).

    Intended measurement: build `FlowEngine.from_paths(...)` on a small flows file whose flow
    has N `collect`/`action` steps backed by the in-process transport and a memory store, feed
    `engine.handle(conversation_id, message)` turns, and divide wall time by steps executed;
    return rows like {"flow": ..., "steps": ..., "us_per_step": ...}.
    """
    return "flow step cost: hook not filled in yet (bench/hooks.py: measure_flow_step_cost)"
