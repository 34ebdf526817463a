"""A/B one hot-path change: our server from another source tree vs this one, alternating runs.

Copy `action_server/` somewhere before the change (`cp -r action_server /tmp/before/`), make
the change, then `.venv/bin/python bench/ab.py --base /tmp/before --sizes 10 --pairs 3`.
Both servers serve the same bench action on the same body; the ratio is after / before, the
median of per-pair ratios, as in `run.py`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import gen  # noqa: E402
from bench.servers import RunningServer, ServerSpec, ours_spec  # noqa: E402
from bench.wrkload import run_wrk  # noqa: E402


def base_spec(base: Path) -> ServerSpec:
    """Our server, importing `action_server` from `base` instead of this checkout."""
    spec = ours_spec()
    spec.name, spec.label = "before", f"action_server from {base}"
    spec.env = {**spec.env, "PYTHONPATH": str(base)}
    return spec


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--base", type=Path, required=True, help="dir holding the old action_server/"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10], choices=gen.SIZES)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per run (1..30)")
    args = parser.parse_args(argv)
    if not (args.base / "action_server").is_dir():
        parser.error(f"{args.base} has no action_server/ directory")
    if not 1 <= args.duration <= 30:
        parser.error("--duration must be within 1..30 seconds")
    gen.write_bodies(tuple(args.sizes))
    gen.write_ours_package()
    allowed = sorted(os.sched_getaffinity(0))
    server_core, wrk_core = (allowed[0], allowed[1]) if len(allowed) >= 2 else (None, None)
    specs = {"before": base_spec(args.base.resolve()), "after": ours_spec()}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            body = gen.body_path(size)
            rps: dict[str, list[float]] = {"before": [], "after": []}
            for _ in range(args.pairs):
                for name, spec in specs.items():
                    server = RunningServer(spec, server_core, Path(tmp) / name)
                    try:
                        server.wait_ready()
                        run_wrk(server, body, seconds=1, connections=16, core=wrk_core)
                        result = run_wrk(
                            server, body, seconds=args.duration, connections=16, core=wrk_core
                        )
                    finally:
                        server.stop()
                    rps[name].append(result.rps)
            ratios = [a / b for a, b in zip(rps["after"], rps["before"], strict=True)]
            print(
                f"{size} events: before {statistics.median(rps['before']):.0f} req/s, "
                f"after {statistics.median(rps['after']):.0f} req/s, after/before "
                f"{statistics.median(ratios):.3f} (pairs: {', '.join(f'{r:.3f}' for r in ratios)})"
            )


if __name__ == "__main__":
    main()
