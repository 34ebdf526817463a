"""Profile one server worker under load: where does the time of an action call go?

Runs the server in one process under cProfile (our server serves in-process with one worker),
drives it with wrk for a bounded time, stops it with SIGINT so the profile is written, and
prints the top functions. Only the event-loop thread is profiled; sync actions run in a thread
pool, which matters little here because the benchmark action does almost nothing.
"""

from __future__ import annotations

import argparse
import os
import pstats
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import gen  # noqa: E402
from bench.servers import SPECS, RunningServer, ServerSpec  # noqa: E402
from bench.wrkload import run_wrk  # noqa: E402

PROFILED = ("ours", "baseline")


def profiled_spec(name: str, output: Path) -> ServerSpec:
    """The normal launch spec with `-m cProfile -o output` inserted after the interpreter."""
    spec = SPECS[name]()
    python, *rest = spec.base_argv
    spec.base_argv = [python, "-m", "cProfile", "-o", str(output), *rest]
    return spec


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", choices=PROFILED, default="ours")
    parser.add_argument("--events", type=int, default=2000, choices=gen.SIZES)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load (1..60)")
    parser.add_argument("--action", choices=["sync", "async"], default="sync")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 60:
        parser.error("--duration must be within 1..60 seconds")
    gen.write_bodies((10, args.events))
    gen.write_ours_package()
    action = gen.ACTION_NAME if args.action == "sync" else gen.ACTION_NAME_ASYNC
    allowed = sorted(os.sched_getaffinity(0))
    server_core, wrk_core = (allowed[0], allowed[1]) if len(allowed) >= 2 else (None, None)
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "server.prof"
        server = RunningServer(profiled_spec(args.server, output), server_core, Path(tmp))
        try:
            server.wait_ready()
            result = run_wrk(
                server,
                gen.body_path(args.events, action),
                seconds=args.duration,
                connections=16,
                core=wrk_core,
            )
            os.killpg(server.proc.pid, signal.SIGINT)
            server.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise SystemExit("the profiled server did not stop on SIGINT within 30 s") from None
        finally:
            server.stop()
        if not output.exists():
            log = server.log_path.read_text(errors="replace")[-2000:]
            raise SystemExit(f"no profile written; server log tail:\n{log}")
        print(
            f"{server.spec.label}, {args.events} events, {args.action} action:"
            f" {result.rps:.1f} req/s under cProfile ({result.requests} requests)\n"
        )
        stats = pstats.Stats(str(output))
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
