"""gRPC webhook benchmark: our `run --grpc` vs rasa-sdk's `python -m rasa_sdk --grpc`.

The same calls as the HTTP benchmark (`gen.py`: trackers of 10, 200 and 2,000 events, the
same bench action), sent as `WebhookRequest`s through the stubs generated from our proto by
an asyncio gRPC client with a fixed number of calls in flight. Runs alternate between the
servers in pairs; the ratio is ours / rasa-sdk's requests per second, the median of per-pair
ratios. Both servers listen on 127.0.0.1 only (rasa-sdk binds [::] and has no host flag, so it
is started through its own entry point with the bind address swapped, as SANIC_HOST does for
its HTTP server).

    .venv/bin/python bench/grpc_bench.py                    # 3 pairs x 5 s per size
    .venv/bin/python bench/grpc_bench.py --quick            # smoke test: 1 pair x 1 s, 10 events
    .venv/bin/python bench/grpc_bench.py --rasa-python tests/.venv-rasa-sdk/bin/python
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import grpc  # noqa: E402
from google.protobuf.json_format import MessageToDict, ParseDict  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402

from action_server.grpc_py import action_webhook_pb2 as pb  # noqa: E402
from action_server.grpc_py import action_webhook_pb2_grpc as pb_grpc  # noqa: E402
from bench import gen  # noqa: E402
from bench.run import cores  # noqa: E402
from bench.servers import (  # noqa: E402
    BENCH_DIR,
    DATA_DIR,
    HOST,
    OURS_PACKAGE_NAME,
    OURS_PYTHON,
    RASA_PYTHON,
    ROOT,
    ensure_rasa_sdk,
    free_port,
    pin_prefix,
)

RASA_GRPC_MAIN = """
import sys
import rasa_sdk.grpc_server as grpc_server

def _loopback_port(server, port, *_ignored):
    server.add_insecure_port(f"127.0.0.1:{port}")

grpc_server._initialise_port = _loopback_port
from rasa_sdk.__main__ import main
sys.argv = ["rasa_sdk", *sys.argv[1:]]
main()
"""
START_TIMEOUT_S = 60.0


class GrpcServerProcess:
    """One gRPC server process group on a loopback port."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        cwd: Path,
        env: dict[str, str],
        logs: Path,
        core: int | None = None,
    ):
        self.name = name
        self.port = free_port()
        self.address = f"{HOST}:{self.port}"
        logs.mkdir(parents=True, exist_ok=True)
        self.log_path = logs / f"grpc-{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [*pin_prefix(core), *argv, "-p", str(self.port)],
            cwd=cwd,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        with grpc.insecure_channel(self.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    status = health.Check(
                        health_pb2.HealthCheckRequest(service="ActionServer"), timeout=2
                    ).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{self.name} did not start:\n{self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()


def servers(rasa_python: Path, logs: Path, core: int | None) -> dict[str, GrpcServerProcess]:
    rasa = GrpcServerProcess(
        "rasa",
        [str(rasa_python), "-c", RASA_GRPC_MAIN, "--grpc", "--actions", "actions_bench"],
        BENCH_DIR,
        {"ACTION_SERVER_SANIC_WORKERS": "1"},
        logs,
        core,
    )
    ours = GrpcServerProcess(
        "ours",
        [str(OURS_PYTHON), "-m", "action_server", "run", "--grpc", "--host", HOST]
        + ["--quiet", "--actions", OURS_PACKAGE_NAME],
        DATA_DIR,
        {"PYTHONPATH": str(ROOT)},
        logs,
        core,
    )
    return {"rasa": rasa, "ours": ours}


def request_of(n_events: int) -> pb.WebhookRequest:
    call = json.loads(gen.body_path(n_events).read_bytes())
    return ParseDict(call, pb.WebhookRequest(), ignore_unknown_fields=True)


def answer_of(address: str, request: pb.WebhookRequest) -> str:
    with grpc.insecure_channel(address) as channel:
        response = pb_grpc.ActionServiceStub(channel).Webhook(request, timeout=60)
    return json.dumps(MessageToDict(response), sort_keys=True)


async def load(address: str, request: pb.WebhookRequest, seconds: float, in_flight: int) -> float:
    """Requests per second with `in_flight` calls outstanding for `seconds`."""
    options = [("grpc.max_receive_message_length", 64 << 20)]
    async with grpc.aio.insecure_channel(address, options=options) as channel:
        stub = pb_grpc.ActionServiceStub(channel)
        done = 0
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                await stub.Webhook(request, timeout=60)
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        return done / (time.monotonic() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(gen.SIZES))
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="1 pair x 1 s, 10 events")
    parser.add_argument("--rasa-python", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.pairs, args.duration, args.warmup = [10], 1, 1.0, 0.3
    rasa_python = args.rasa_python.absolute() if args.rasa_python else None
    if rasa_python is None:
        ensure_rasa_sdk()
        rasa_python = RASA_PYTHON
    gen.write_bodies(tuple(args.sizes))
    gen.write_ours_package()

    # As in run.py: the servers on one core, this client on the other, so the client's own
    # CPU never decides which server looks faster.
    server_core, client_core = cores()
    if client_core is not None:
        os.sched_setaffinity(0, {client_core})
    running = servers(rasa_python, BENCH_DIR / "results" / "logs-grpc", server_core)
    try:
        for server in running.values():
            server.wait_ready()
        results: dict[int, dict[str, Any]] = {}
        for size in args.sizes:
            request = request_of(size)
            answers = {name: answer_of(s.address, request) for name, s in running.items()}
            if answers["ours"] != answers["rasa"]:
                raise SystemExit(f"{size} events: the servers answer differently:\n{answers}")
            rates: dict[str, list[float]] = {"rasa": [], "ours": []}
            for pair in range(args.pairs):
                order = ["rasa", "ours"] if pair % 2 == 0 else ["ours", "rasa"]
                for name in order:
                    address = running[name].address
                    asyncio.run(load(address, request, args.warmup, args.in_flight))
                    rates[name].append(
                        asyncio.run(load(address, request, args.duration, args.in_flight))
                    )
            ratios = [ours / rasa for ours, rasa in zip(rates["ours"], rates["rasa"], strict=True)]
            results[size] = {
                "rasa_rps": rates["rasa"],
                "ours_rps": rates["ours"],
                "ratio": statistics.median(ratios),
            }
            print(
                f"{size:>5} events: rasa-sdk {statistics.median(rates['rasa']):8.1f} req/s, "
                f"ours {statistics.median(rates['ours']):8.1f} req/s, "
                f"ours/rasa-sdk {results[size]['ratio']:.2f}x",
                flush=True,
            )
        out = BENCH_DIR / "results" / f"grpc-bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps({"in_flight": args.in_flight, "results": results}, indent=2))
        print(f"results: {out}")
    finally:
        for server in running.values():
            server.stop()


if __name__ == "__main__":
    main()
