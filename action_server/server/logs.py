"""Logging set-up shared by the CLI and by every worker process Sanic spawns.

Spawned workers start with a blank logging configuration, so the app factory calls this too.
"""

from __future__ import annotations

import logging
import sys

from action_server.utils import configure_logging_from_input_file

__all__ = ["configure_logging"]

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s - %(message)s"
# Sanic's own loggers are chatty at INFO (one line per worker start); quiet them unless -vv.
_SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.server", "sanic.access", "sanic.websockets")


class _Formatter(logging.Formatter):
    """Our line format, plus the fields Sanic's access log sends outside the message."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        # Sanic logs each request as an empty message with host/request/status/byte extras.
        if record.name == "sanic.access" and hasattr(record, "request"):
            record.message = (
                f"{getattr(record, 'host', '-')} {record.request} "
                f"{getattr(record, 'status', '-')} {getattr(record, 'byte', '-')}"
                f"{getattr(record, 'duration', '')}"
            )
        return super().formatMessage(record)


def configure_logging(
    level: str = "INFO", log_file: str | None = None, config_file: str | None = None
) -> None:
    """Idempotent: replaces the root handlers this function installed before; then applies a
    logging `config_file` (Python's dictConfig schema in YAML), as rasa-sdk's
    `--logging-config-file` does."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_action_server", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    formatter = _Formatter(_FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler._action_server = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    sanic_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in _SANIC_LOGGERS:
        logging.getLogger(name).setLevel(sanic_level)
    if config_file:
        configure_logging_from_input_file(config_file)
