"""Start, check and stop the servers under test; read their CPU time and peak memory from /proc."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.gen import ACTION_NAME, DATA_DIR, OURS_PACKAGE_NAME, body_path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
OURS_PYTHON = ROOT / ".venv" / "bin" / "python"
RASA_VENV = BENCH_DIR / ".venv-rasa"
RASA_PYTHON = RASA_VENV / "bin" / "python"
HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class ServerSpec:
    """How to launch one server kind; `port` is appended by `argv(port)`."""

    name: str
    label: str
    cwd: Path
    env: dict[str, str]
    base_argv: list[str]
    port_argv: list[str] = field(default_factory=list)

    def argv(self, port: int) -> list[str]:
        return [*self.base_argv, *(arg.format(port=port) for arg in self.port_argv)]


def rasa_spec() -> ServerSpec:
    return ServerSpec(
        name="rasa",
        label="rasa-sdk",
        cwd=BENCH_DIR,
        # rasa-sdk reads its bind address and worker count from the environment.
        env={"SANIC_HOST": HOST, "ACTION_SERVER_SANIC_WORKERS": "1"},
        base_argv=[str(RASA_PYTHON), "-m", "rasa_sdk", "--actions", "actions_bench"],
        port_argv=["-p", "{port}"],
    )


def ours_spec() -> ServerSpec:
    return ServerSpec(
        name="ours",
        label="action_server",
        cwd=DATA_DIR,
        env={"PYTHONPATH": str(ROOT)},
        base_argv=[str(OURS_PYTHON), "-m", "action_server", "run", "--actions", OURS_PACKAGE_NAME],
        port_argv=["-p", "{port}", "--host", HOST, "--quiet"],
    )


def ours_no_gc_spec() -> ServerSpec:
    """Ours with its GC tuning turned off: what `action_server/server/gc_tuning.py` is worth."""
    spec = ours_spec()
    spec.name, spec.label = "ours-no-gc", "ours, GC untuned"
    spec.env = {**spec.env, "ACTION_SERVER_GC_TUNING": "0"}
    return spec


def baseline_spec() -> ServerSpec:
    return ServerSpec(
        name="baseline",
        label="bare Sanic",
        cwd=BENCH_DIR,
        env={},
        base_argv=[str(OURS_PYTHON), str(BENCH_DIR / "baseline_sanic.py")],
        port_argv=["--port", "{port}"],
    )


SPECS = {
    "rasa": rasa_spec,
    "ours": ours_spec,
    "ours-no-gc": ours_no_gc_spec,
    "baseline": baseline_spec,
}


def ours_available() -> tuple[bool, str]:
    """Our server counts as available once `python -m action_server run --help` succeeds."""
    proc = subprocess.run(
        [str(OURS_PYTHON), "-m", "action_server", "run", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    return proc.returncode == 0, lines[-1] if lines else ""


def ensure_rasa_sdk(upgrade: bool = False) -> str:
    """Create bench/.venv-rasa with the newest rasa-sdk from PyPI; returns the installed version."""
    if not RASA_PYTHON.exists():
        print(f"creating {RASA_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(RASA_VENV)], check=True)
        upgrade = True
    if upgrade or not _rasa_version():
        print("installing the newest rasa-sdk into bench/.venv-rasa ...", flush=True)
        subprocess.run(
            [str(RASA_PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "rasa-sdk"],
            check=True,
        )
    version = _rasa_version()
    if not version:
        raise SystemExit("rasa-sdk is not importable from bench/.venv-rasa after installing it")
    return version


def _rasa_version() -> str:
    proc = subprocess.run(
        [str(RASA_PYTHON), "-c", "import importlib.metadata as m; print(m.version('rasa-sdk'))"],
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip() if proc.returncode == 0 else ""


def ensure_wrk() -> str:
    """Find wrk; install it with apt-get when running as root, else say how to get it."""
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        raise SystemExit("wrk is not installed; run `sudo apt-get install -y wrk` and retry")
    print("installing wrk with apt-get ...", flush=True)
    install = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]
    if subprocess.run(install, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, check=True)
        subprocess.run(install, capture_output=True, check=True)
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("apt-get finished but wrk is still not on PATH")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def pin_prefix(core: int | None) -> list[str]:
    return ["taskset", "-c", str(core)] if core is not None and shutil.which("taskset") else []


class RunningServer:
    """One server process group on a loopback port; stop() ends exactly that group."""

    def __init__(self, spec: ServerSpec, core: int | None, log_dir: Path) -> None:
        self.spec = spec
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"server-{spec.name}.log"
        self._log = self.log_path.open("wb")
        env = {**os.environ, **spec.env, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [*pin_prefix(core), *spec.argv(self.port)],
            cwd=spec.cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self) -> None:
        """Poll until the webhook answers the smallest call; fail with the server's log tail."""
        deadline = time.monotonic() + START_TIMEOUT_S
        body = body_path(10).read_bytes()
        last_error = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                status, _ = post(self.url + "/webhook", body, timeout=5)
                if status == 200:
                    return
                last_error = f"HTTP {status}"
            except OSError as error:
                last_error = str(error)
            time.sleep(0.2)
        tail = self.log_path.read_text(errors="replace")[-2000:]
        self.stop()
        raise SystemExit(f"{self.spec.label} did not become ready ({last_error}); log:\n{tail}")

    def pids(self) -> list[int]:
        """The launched process and all its descendants (Sanic forks a worker)."""
        found: list[int] = []
        todo = [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    todo.extend(int(c) for c in (task / "children").read_text().split())
                except OSError:
                    continue
        return found

    def cpu_seconds(self) -> float:
        """User+system CPU time of the whole tree, to show the server (not wrk) is saturated."""
        total = 0.0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        return total

    def peak_rss_kb(self) -> dict[int, int]:
        """VmHWM (peak resident set) of every process in the tree, in kB."""
        peaks: dict[int, int] = {}
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = int(line.split()[1])
            except OSError:
                continue
        return peaks

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


def post(url: str, body: bytes, timeout: float) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def check_same_answer(servers: list[RunningServer], n_events: int) -> None:
    """Both servers must give the same events and responses, or the comparison is meaningless."""
    body = body_path(n_events, ACTION_NAME).read_bytes()
    answers = {}
    for server in servers:
        status, payload = post(server.url + "/webhook", body, timeout=30)
        if status != 200:
            raise SystemExit(f"{server.spec.label}: HTTP {status} for {ACTION_NAME}: {payload!r}")
        answer = json.loads(payload)
        for event in answer.get("events", []):
            event.pop("timestamp", None)
        answers[server.spec.label] = answer
    first_label, first = next(iter(answers.items()))
    for label, answer in answers.items():
        if answer != first:
            print(
                f"WARNING: {label} answers differently from {first_label}:\n  {answer}\n  {first}"
            )
