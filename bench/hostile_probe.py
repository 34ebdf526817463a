"""Hostile-input probe: bad input at every route of a real server on loopback, /health timed
meanwhile. Prints bad inputs tried, 5xx answers, tracebacks in the log and /health latency.

    .venv/bin/python bench/hostile_probe.py [--seconds 60] [--seed 13]

Bounded in time and count; deterministic for a given seed. Not part of `make test` (the fuzz
suite in tests/hardening is); this gives the closing figures of issue 13.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.channels.conftest import SERVER_ARGS  # noqa: E402
from tests.channels.helpers import event  # noqa: E402
from tests.helpers import ServerProcess, action_call  # noqa: E402

ADVERSARIAL = [
    b"1e999",
    b"-" + b"9" * 5000,
    b"[" * 3000 + b"]" * 3000,
    b'{"a":' * 1200 + b"1" + b"}" * 1200,
    b'"\xff\xfe"',
    b'"\\ud800"',
    b'"a\\nFORGED ERROR line"',
    b'"' + b"v" * 1_000_000 + b'"',
    b"[1]",
    b'"/greet' + b" " * 40_000 + b'x"',
    b'"/SetSlots(' + b"a=1," * 3000 + b'"',
    b"{}",
    b"null",
]
ROUTES = ["/webhook", "/webhooks/rest/webhook", "/webhooks/voice", "/rtvi/action"]


def templates() -> dict[str, dict[str, Any]]:
    call = action_call("action_who_am_i", domain={}, version="3.10.0")
    call["tracker"]["events"] = [{"event": "slot", "name": "x", "value": 1}]
    call["tracker"]["latest_message"] = {"text": "hi", "metadata": {"args": {"order_id": 1}}}
    return {
        "/webhook": call,
        "/webhooks/rest/webhook": {"sender": "probe", "message": "/agent", "metadata": {}},
        "/webhooks/voice": event("user_speak", "probe-call", text="two", barged_in=False),
        "/rtvi/action": {
            "conversation_id": "probe",
            "actions": [
                {
                    "label": "rtvi-ai",
                    "type": "action",
                    "id": "1",
                    "data": {
                        "service": "conversation",
                        "action": "send_text",
                        "arguments": [{"name": "text", "value": "hi"}],
                    },
                }
            ],
        },
    }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _replace(document: Any, path: tuple[Any, ...], raw: bytes) -> bytes:
    """The JSON of `document` with the value at `path` replaced by raw JSON text."""
    marker = "\u0000MARK\u0000"
    if not path:
        return raw
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = marker
    return json.dumps(copy).encode().replace(json.dumps(marker).encode(), raw)


def bad_inputs(rng: random.Random) -> Iterator[tuple[str, bytes, dict[str, Any]]]:
    """(route, body, headers), forever: every field x every adversarial value, then mutations."""
    shapes = templates()
    for route, document in shapes.items():
        for path in _paths(document):
            for raw in ADVERSARIAL:
                yield route, _replace(document, path, raw), {}
    yield "/webhook", gzip.compress(b" " * 50_000_000), {"Content-Encoding": "gzip"}
    yield "/webhook", json.dumps(shapes["/webhook"]).encode(), {"Authorization": b"Bearer \xff"}
    yield "/webhook", json.dumps(shapes["/webhook"]).encode(), {"Origin": b"https://\xff"}
    while True:  # byte-level mutations of a valid body
        route = rng.choice(ROUTES)
        body = bytearray(json.dumps(shapes[route]).encode())
        for _ in range(rng.randint(1, 8)):
            spot = rng.randrange(len(body))
            choice = rng.random()
            if choice < 0.4:
                body[spot] = rng.randrange(256)
            elif choice < 0.7:
                del body[spot]
            else:
                body[spot:spot] = rng.choice(ADVERSARIAL[:7] + [b"[", b"{", b'"', b"\\"])
        yield route, bytes(body), {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-inputs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    with ServerProcess([*SERVER_ARGS, "--cors", "https://app.example.com"]) as server:
        latencies: list[float] = []
        worst_at = [0.0]
        sent: list[tuple[float, str, int]] = []  # (when, route, body bytes), to name the worst
        stop = threading.Event()

        def watch_health() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                while not stop.is_set():
                    started = time.perf_counter()
                    client.get("/health").raise_for_status()
                    latencies.append(time.perf_counter() - started)
                    if latencies[-1] == max(latencies):
                        worst_at[0] = started
                    time.sleep(0.01)

        watcher = threading.Thread(target=watch_health, daemon=True)
        watcher.start()
        tried = server_errors = 0
        statuses: dict[int, int] = {}
        started = time.perf_counter()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for route, body, headers in bad_inputs(random.Random(args.seed)):
                if tried >= args.max_inputs or time.perf_counter() - started > args.seconds:
                    break
                sent.append((time.perf_counter(), route, len(body)))
                response = client.post(
                    route, content=body, headers={"Content-Type": "application/json", **headers}
                )
                tried += 1
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code >= 500:
                    server_errors += 1
                    print("5xx:", route, body[:120], response.text[:200])
        stop.set()
        watcher.join(5)
        health_after = httpx.get(server.url + "/health").json()
        tracebacks = server.output.count("Traceback")
    latencies.sort()
    during = [entry for entry in sent if entry[0] <= worst_at[0]][-1:]
    print(f"input being answered at the worst /health probe: {during}")
    print(f"bad inputs tried: {tried} in {time.perf_counter() - started:.1f} s")
    print(f"statuses: {dict(sorted(statuses.items()))}")
    print(f"5xx: {server_errors}   tracebacks in the server log: {tracebacks}")
    print(
        f"/health while under bad input: {len(latencies)} probes, median "
        f"{latencies[len(latencies) // 2] * 1000:.1f} ms, p99 "
        f"{latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms, worst {latencies[-1] * 1000:.1f} ms"
    )
    print(f"/health afterwards: {health_after}")
    return 1 if server_errors or tracebacks else 0


if __name__ == "__main__":
    raise SystemExit(main())
