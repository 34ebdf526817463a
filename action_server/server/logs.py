"""Logging set-up shared by the CLI and by every worker process Sanic spawns.

Spawned workers start with a blank logging configuration, so the app factory calls this too.
The formatter is the one redaction point for every record of every logger (ours, httpx's,
Sanic's access log): remembered secrets and credential-like query values become ``***``,
control characters in the message are escaped (a newline in a caller's ``sender_id`` cannot
forge a log line) and a message is cut at ``MAX_MESSAGE_CHARS``. Tracebacks keep their lines.
"""

from __future__ import annotations

import logging
import re
import sys

from action_server.config.secrets import known_secrets
from action_server.utils import configure_logging_from_input_file

__all__ = ["MAX_MESSAGE_CHARS", "configure_logging", "redact_log_text", "safe_message"]

MAX_MESSAGE_CHARS = 4000
REDACTED = "***"
# Query values whose name says they are credentials (`?token=`, `&api_key=`...), and the
# password of `scheme://user:password@host`.
_CREDENTIAL_QUERY = re.compile(
    r"([?&;](?:token|access_token|auth|key|apikey|api[-_]key|secret|client_secret|password"
    r"|passwd|pwd|signature|sig|session|code)=)[^&;#\s\"']*",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"(://[^/@:\s]+:)[^/@\s]+@")
# Every C0 control but tab, DEL and the C1 controls, escaped as \n, \x1b...
_CONTROLS = {c: ascii(chr(c))[1:-1] for c in (*range(0x20), *range(0x7F, 0xA0)) if c != 0x09}
_CONTROLS.update({0x2028: "\\u2028", 0x2029: "\\u2029"})

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s - %(message)s"
# Sanic's own loggers are chatty at INFO (one line per worker start); quiet them unless -vv.
_SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.server", "sanic.access", "sanic.websockets")


def redact_log_text(text: str) -> str:
    """``text`` with every remembered secret and every credential-like URL value hidden."""
    for secret in known_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "=" in text:
        text = _CREDENTIAL_QUERY.sub(r"\1" + REDACTED, text)
    if "@" in text:
        text = _URL_PASSWORD.sub(r"\1" + REDACTED + "@", text)
    return text


def safe_message(message: str) -> str:
    """One line of bounded length: control characters escaped, the rest cut off."""
    if len(message) > MAX_MESSAGE_CHARS:
        message = f"{message[:MAX_MESSAGE_CHARS]}...(cut, {len(message)} chars)"
    return message.translate(_CONTROLS)


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
        record.message = safe_message(record.message)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        # Redacted last, over the whole line: the message, the access-log fields, tracebacks.
        return redact_log_text(super().format(record))


class _RedactingFilter(logging.Filter):
    """The same treatment for handlers a ``--logging-config-file`` installs (their formatter
    is the user's): the message is rendered, made safe and redacted before it is emitted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "_action_server_safe", False):
            record.msg = redact_log_text(safe_message(record.getMessage()))
            record.args = ()
            record._action_server_safe = True  # type: ignore[attr-defined]
        return True


_REDACTING_FILTER = _RedactingFilter()


def configure_logging(
    level: str = "INFO", log_file: str | None = None, config_file: str | None = None
) -> None:
    """Idempotent: replaces the root handlers this function installed before; then applies a
    logging `config_file` (Python's dictConfig schema in YAML), as rasa-sdk's
    `--logging-config-file` does, and puts the redaction on every handler it installed."""
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
        loggers = [root, *(logging.getLogger(name) for name in root.manager.loggerDict)]
        for logger in loggers:
            for handler in logger.handlers:
                if not isinstance(handler.formatter, _Formatter):
                    handler.addFilter(_REDACTING_FILTER)
