"""`make bench`: our action server against rasa-sdk on identical generated action calls.

Both servers run one worker on 127.0.0.1, pinned to one core; wrk runs on the other core. Runs
alternate (rasa-sdk, ours, rasa-sdk, ours, ...) so drift on a shared machine hits both equally;
figures are medians over the pairs. Every load is bounded in time.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import statistics
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script (`python bench/run.py`): make `bench` importable as a package.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import gen, hooks  # noqa: E402
from bench.servers import (  # noqa: E402
    SPECS,
    RunningServer,
    check_same_answer,
    ensure_rasa_sdk,
    ensure_wrk,
    ours_available,
)
from bench.wrkload import WrkResult, run_wrk  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
CONNECTIONS = 16
ISOLATION_CONNECTIONS = 4


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 pair, short runs")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(gen.SIZES))
    parser.add_argument("--pairs", type=int, default=5, help="alternating runs per server")
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured run")
    parser.add_argument(
        "--warmup", type=int, default=1, help="seconds of warm-up per run (wrk takes whole seconds)"
    )
    parser.add_argument(
        "--only", choices=["ours", "rasa", "ours-no-gc", "baseline"], help="one server only"
    )
    parser.add_argument(
        "--no-gc-tuning",
        action="store_true",
        help="also run ours with its GC tuning turned off (ACTION_SERVER_GC_TUNING=0)",
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also run a bare Sanic floor (bench/baseline_sanic.py)",
    )
    parser.add_argument(
        "--action",
        choices=["sync", "async"],
        default="sync",
        help="benchmark action variant: `def run` (default, as in Rasa's docs) or `async def run`",
    )
    parser.add_argument("--no-isolation", action="store_true", help="skip the isolation test")
    parser.add_argument("--upgrade-rasa", action="store_true", help="pip install -U rasa-sdk first")
    args = parser.parse_args(argv)
    if args.quick:
        args.pairs, args.duration, args.warmup = 1, 2, 1
    if args.pairs < 1 or not 1 <= args.duration <= 120 or not 0 <= args.warmup <= 10:
        parser.error("need --pairs >= 1, --duration 1..120 s and --warmup 0..10 s")
    return args


def choose_servers(args: argparse.Namespace) -> list[str]:
    if args.only:
        names = [args.only]
    else:
        names = ["rasa", "ours"]
        if args.no_gc_tuning:
            names.append("ours-no-gc")
        if args.baseline:
            names.append("baseline")
    if "ours" in names or "ours-no-gc" in names:
        ok, reason = ours_available()
        if not ok:
            print(f"NOTE: our server is not runnable yet ({reason}); measuring without it.")
            names = [n for n in names if not n.startswith("ours")] or ["rasa"]
            if "baseline" not in names:
                names.append("baseline")
    return names


def cores() -> tuple[int | None, int | None]:
    """Server on the first allowed core, wrk on the second; no pinning on a single core."""
    allowed = sorted(os.sched_getaffinity(0))
    return (allowed[0], allowed[1]) if len(allowed) >= 2 else (None, None)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def throughput(
    servers: dict[str, RunningServer], args: argparse.Namespace, wrk_core: int | None
) -> dict[int, dict[str, Any]]:
    """Alternating runs per size; returns per size and server the runs and their medians."""
    action = gen.ACTION_NAME if args.action == "sync" else gen.ACTION_NAME_ASYNC
    report: dict[int, dict[str, Any]] = {}
    for n_events in args.sizes:
        body = gen.body_path(n_events, action)
        runs: dict[str, list[WrkResult]] = {name: [] for name in servers}
        for pair in range(args.pairs):
            for name, server in servers.items():
                if args.warmup > 0:
                    run_wrk(
                        server, body, seconds=args.warmup, connections=CONNECTIONS, core=wrk_core
                    )
                result = run_wrk(
                    server, body, seconds=args.duration, connections=CONNECTIONS, core=wrk_core
                )
                runs[name].append(result)
                print(
                    f"  {n_events:>5} events  pair {pair + 1}/{args.pairs}  {server.spec.label:<13}"
                    f" {result.rps:8.1f} req/s  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms"
                    f"  errors {result.errors}  cpu server {result.server_cpu:4.0%} wrk {result.wrk_cpu:4.0%}",
                    flush=True,
                )
        size_report: dict[str, Any] = {"body_kb": body.stat().st_size / 1000, "servers": {}}
        for name, results in runs.items():
            size_report["servers"][name] = {
                "rps": median([r.rps for r in results]),
                "p50_ms": median([r.p50_ms for r in results]),
                "p99_ms": median([r.p99_ms for r in results]),
                "errors": sum(r.errors for r in results),
                "server_cpu": median([r.server_cpu for r in results]),
                "wrk_cpu": median([r.wrk_cpu for r in results]),
                "runs": [asdict(r) | {"rps": r.rps} for r in results],
            }
        # Ratios against rasa-sdk per pair (same round), then the median over the pairs.
        size_report["ratios"] = {}
        for name in runs:
            if name == "rasa" or "rasa" not in runs:
                continue
            pairs = list(zip(runs[name], runs["rasa"], strict=True))
            size_report["ratios"][name] = {
                "rps": median([o.rps / r.rps for o, r in pairs if r.rps]),
                "p99": median([o.p99_ms / r.p99_ms for o, r in pairs if r.p99_ms]),
            }
        for name, server in servers.items():
            size_report["servers"][name]["peak_rss_kb"] = max(server.peak_rss_kb().values())
        report[n_events] = size_report
    return report


class Sleeper(threading.Thread):
    """One keep-alive connection calling the 1-second sync action back to back until stopped."""

    def __init__(self, server: RunningServer) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.body = gen.body_path(10, gen.SLEEP_ACTION_NAME).read_bytes()
        self.stop_event = threading.Event()
        self.completed = 0
        self.failures: list[str] = []

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        while not self.stop_event.is_set():
            try:
                connection.request("POST", "/webhook", body=self.body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    self.completed += 1
                else:
                    self.failures.append(f"HTTP {response.status}")
            except OSError as error:
                self.failures.append(str(error))
                connection.close()
        connection.close()


def isolation(
    servers: dict[str, RunningServer], args: argparse.Namespace, wrk_core: int | None
) -> dict[str, Any]:
    """Normal 10-event calls while a sync action sleeps 1 s per call on another connection."""
    body = gen.body_path(10, gen.ACTION_NAME)
    report: dict[str, Any] = {}
    for name, server in servers.items():
        quiet = run_wrk(
            server, body, seconds=args.duration, connections=ISOLATION_CONNECTIONS, core=wrk_core
        )
        sleeper = Sleeper(server)
        sleeper.start()
        loaded = run_wrk(
            server, body, seconds=args.duration, connections=ISOLATION_CONNECTIONS, core=wrk_core
        )
        sleeper.stop_event.set()
        sleeper.join(timeout=35)
        report[name] = {
            "quiet_p99_ms": quiet.p99_ms,
            "quiet_rps": quiet.rps,
            "with_sleeper_p50_ms": loaded.p50_ms,
            "with_sleeper_p99_ms": loaded.p99_ms,
            "with_sleeper_rps": loaded.rps,
            "sleeps_completed": sleeper.completed,
            "sleeper_failures": sleeper.failures[:3],
        }
        print(
            f"  isolation {server.spec.label:<13} quiet p99 {quiet.p99_ms:7.2f} ms"
            f"  with sleeper p99 {loaded.p99_ms:8.2f} ms  {loaded.rps:7.1f} req/s"
            f"  sleeps done {sleeper.completed}",
            flush=True,
        )
    return report


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        # The machine may be shared: the load average says how quiet it was.
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


def print_summary(
    labels: dict[str, str], report: dict[int, dict[str, Any]], iso: dict[str, Any]
) -> None:
    print(
        "\n| events | body | server | req/s | p50 ms | p99 ms | peak RSS MB | server CPU | wrk CPU |"
    )
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n_events, size in report.items():
        for name, figures in size["servers"].items():
            print(
                f"| {n_events} | {size['body_kb']:.0f} KB | {labels[name]} | {figures['rps']:.1f}"
                f" | {figures['p50_ms']:.2f} | {figures['p99_ms']:.2f}"
                f" | {figures['peak_rss_kb'] / 1024:.0f} | {figures['server_cpu']:.0%}"
                f" | {figures['wrk_cpu']:.0%} |"
            )
        for name, ratio in size["ratios"].items():
            print(
                f"| {n_events} | | **{labels[name]} / rasa-sdk** | **{ratio['rps']:.2f}x** | |"
                f" **{ratio['p99']:.2f}x** | | | |"
            )
    if iso:
        print(
            "\n| isolation (10 events, 4 conns) | quiet p99 ms | p99 ms with 1 s sync action | req/s |"
        )
        print("| --- | ---: | ---: | ---: |")
        for name, figures in iso.items():
            print(
                f"| {labels[name]} | {figures['quiet_p99_ms']:.2f}"
                f" | {figures['with_sleeper_p99_ms']:.2f} | {figures['with_sleeper_rps']:.1f} |"
            )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    ensure_wrk()
    rasa_version = ensure_rasa_sdk(upgrade=args.upgrade_rasa)
    gen.write_bodies(tuple(sorted(set(args.sizes) | {10})))
    gen.write_ours_package()
    names = choose_servers(args)
    load_before = machine()["loadavg"]
    server_core, wrk_core = cores()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_dir = RESULTS_DIR / f"logs-{stamp}"
    print(
        f"rasa-sdk {rasa_version}; servers: {', '.join(names)}; sizes {args.sizes};"
        f" {args.pairs} pairs x {args.duration:g} s (+{args.warmup:g} s warm-up);"
        f" server core {server_core}, wrk core {wrk_core}",
        flush=True,
    )
    servers: dict[str, RunningServer] = {}
    try:
        for name in names:
            servers[name] = RunningServer(SPECS[name](), server_core, log_dir)
        for server in servers.values():
            server.wait_ready()
        check_same_answer([s for n, s in servers.items() if n != "baseline"], 10)
        report = throughput(servers, args, wrk_core)
        iso = (
            {}
            if args.no_isolation
            else isolation({n: s for n, s in servers.items() if n != "baseline"}, args, wrk_core)
        )
        transport: hooks.Rows | str = "our server is not running"
        if "ours" in servers:
            transport = hooks.measure_inprocess_vs_http(
                servers["ours"].url, args.sizes, seconds=min(args.duration, 3.0)
            )
        flow = hooks.measure_flow_step_cost()
    finally:
        for server in servers.values():
            server.stop()
    labels = {name: server.spec.label for name, server in servers.items()}
    print_summary(labels, report, iso)
    for title, rows in (("in-process vs HTTP (sequential calls)", transport), ("flow", flow)):
        print(f"\n{title}:")
        if isinstance(rows, str) or not rows:
            print(f"  {rows or 'no rows'}")
            continue
        print("| " + " | ".join(rows[0]) + " |")
        print("|" + " --- |" * len(rows[0]))
        for row in rows:
            cells = (f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values())
            print("| " + " | ".join(cells) + " |")
    RESULTS_DIR.mkdir(exist_ok=True)
    result_path = RESULTS_DIR / f"bench-{stamp}.json"
    result = {
        "date": stamp,
        "machine": machine() | {"loadavg_before": load_before},
        "rasa_sdk": rasa_version,
        "command": " ".join(sys.argv),
        "args": vars(args),
        "throughput": report,
        "isolation": iso,
        "inprocess_vs_http": transport,
        "flow_step": flow,
    }
    result_path.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nfull results: {result_path}")


if __name__ == "__main__":
    main()
