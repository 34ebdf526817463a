"""Drive one bounded wrk run against a server and return its figures, including wrk's own CPU use."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.servers import RunningServer, pin_prefix

LUA_SCRIPT = Path(__file__).resolve().parent / "wrk_post.lua"
RESULT_MARK = "BENCH_RESULT "


@dataclass
class WrkResult:
    """One run: throughput and latency as wrk saw them, plus CPU shares of both sides."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    wrk_cpu: float  # share of one core used by wrk during the run
    server_cpu: float  # share of one core used by the server tree during the run

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(
    server: RunningServer,
    body: Path,
    *,
    seconds: int,
    connections: int,
    core: int | None,
    timeout_s: float = 10.0,
) -> WrkResult:
    """Run wrk for `seconds` (bounded by a hard subprocess timeout) and parse the Lua summary."""
    argv = [
        *pin_prefix(core),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={timeout_s:g}s",
        "-s",
        str(LUA_SCRIPT),
        server.url + "/webhook",
    ]
    cpu_before = server.cpu_seconds()
    wrk_cpu_before = _reaped_children_cpu()
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        env={**os.environ, "BENCH_BODY": str(body)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(timeout=seconds + timeout_s + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise SystemExit(
            f"wrk did not finish within its bound against {server.spec.label}"
        ) from None
    wall = time.monotonic() - started
    server_cpu = (server.cpu_seconds() - cpu_before) / wall
    # communicate() reaped wrk, so its CPU time now shows in our children's totals.
    wrk_cpu = (_reaped_children_cpu() - wrk_cpu_before) / wall
    text = out.decode(errors="replace")
    line = next((s for s in text.splitlines() if s.startswith(RESULT_MARK)), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed (exit {proc.returncode}):\n{text}\n{err.decode()}")
    data = json.loads(line[len(RESULT_MARK) :])
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
        wrk_cpu=wrk_cpu,
        server_cpu=server_cpu,
    )


def _reaped_children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system
