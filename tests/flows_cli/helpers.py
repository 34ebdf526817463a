"""Run `python -m action_server ...` as a subprocess from the repository root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO_ROOT

DATA = Path(__file__).parent / "data"
MEMORY_ENDPOINTS = DATA / "endpoints_memory.yml"


def run_cli(
    *args: str | Path, stdin: str | None = None, timeout: float = 60.0, cwd: Path = REPO_ROOT
) -> subprocess.CompletedProcess[str]:
    """The finished command with text stdout/stderr; never raises for a non-zero exit."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "action_server", *(str(a) for a in args)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )
