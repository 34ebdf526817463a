"""A daemon thread that calls a check function every `interval` seconds.

Auto-reload polls file stamps (mtime, size) instead of using inotify/watchfiles: no extra
dependency, and it works where file events do not (Docker bind mounts, network shares).
An actions package is tens of files, so a stat of each once a second costs nothing, and
request handling never touches the file system.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["PollingWatcher"]

logger = logging.getLogger(__name__)


class PollingWatcher:
    """Runs `check()` periodically in a background thread until `stop()`."""

    def __init__(self, check: Callable[[], object], interval: float = 1.0) -> None:
        if not interval > 0:
            raise ValueError(f"Reload interval must be > 0 seconds, got {interval!r}.")
        self._check = check
        self._interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stopped.clear()
        self._thread = threading.Thread(
            target=self._loop, name="action-server-reloader", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stopped.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._check()
            except Exception:
                # The watcher must outlive any bad edit; the next change retries.
                logger.exception("Auto-reload check failed.")
