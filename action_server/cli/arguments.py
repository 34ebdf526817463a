"""Argument parsing for the command line: the flags of `run` (rasa-sdk's, plus ours) and
option types that name the rule a bad value breaks. Command modules reuse these.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import TypeVar

from action_server.constants import DEFAULT_KEEP_ALIVE_TIMEOUT
from action_server.server.settings import (
    AUTH_TOKEN_ENV,
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_PORT,
    DEFAULT_WEBSOCKET_MAX_SIZE,
)

__all__ = [
    "action_arg",
    "add_actions_argument",
    "add_endpoint_arguments",
    "add_logging_arguments",
    "add_run_arguments",
    "parse_size",
    "positive_seconds",
]

_N = TypeVar("_N", int, float)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_size(text: str) -> int:
    """'100MB', '512 KiB', '1048576' -> bytes (decimal units for kB/MB/GB, binary for KiB...)."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"invalid size {text!r}: use bytes or a unit, e.g. 1048576, 512KB, 10MB, 1GiB"
        )
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    binary = unit.endswith("ib") or (len(unit) == 2 and unit[1] == "i")
    base = unit[:1]
    factor = 1024 ** "bkmgt".index(base) if binary and base else _UNITS[base]
    size = int(number * factor)
    if size < 1:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: must be at least 1 byte")
    return size


def _number_option(
    convert: Callable[[str], _N], what: str, valid: Callable[[_N], bool], rule: str
) -> Callable[[str], _N]:
    """An argparse `type=` that converts, checks and names the rule a bad value breaks."""

    def parse(text: str) -> _N:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {what}: {text!r}") from None
        if not valid(value):
            raise argparse.ArgumentTypeError(f"{rule}, got {text!r}")
        return value

    return parse


positive_seconds = _number_option(
    float,
    "number of seconds",
    lambda value: 0 < value < float("inf"),  # also rejects NaN
    "must be a finite number of seconds > 0",
)
"""`type=` of options in seconds (`--action-timeout`, and command modules' own options)."""

positive_whole_seconds = _number_option(
    int, "whole number of seconds", lambda value: value > 0, "must be a whole number of seconds > 0"
)

_workers = _number_option(int, "worker count", lambda value: value >= 1, "must be at least 1")
_port = _number_option(
    int, "port", lambda value: 0 <= value <= 65535, "must be between 0 and 65535"
)


def add_actions_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actions",
        "--actions-module",
        dest="actions",
        default="actions",
        metavar="MODULE",
        help="actions package or module (dotted name, or a path such as actions/ or ./x.py); "
        "default: actions",
    )


def add_logging_arguments(parser: argparse.ArgumentParser) -> None:
    # Not mutually exclusive: as with rasa-sdk, the last of -v/-vv/--quiet wins.
    group = parser.add_argument_group("logging")
    group.add_argument(
        "-v",
        "--verbose",
        dest="log_level",
        action="store_const",
        const="INFO",
        help="verbose output (INFO, the default)",
    )
    group.add_argument(
        "-vv",
        "--debug",
        dest="log_level",
        action="store_const",
        const="DEBUG",
        help="debug output, including the access log",
    )
    group.add_argument(
        "--quiet",
        dest="log_level",
        action="store_const",
        const="WARNING",
        help="only warnings and errors",
    )
    parser.set_defaults(log_level="INFO")
    group.add_argument("--log-file", default=None, help="also write the log to this file")
    group.add_argument(
        "--logging-config-file",
        "--logging-config_file",  # rasa-sdk's spelling
        dest="logging_config_file",
        default=None,
        metavar="YAML",
        help="a logging configuration in Python's dictConfig schema, applied after the defaults",
    )


def action_arg(actions_module_path: str) -> str:
    """rasa-sdk's check of `--actions`: a dotted module name, not a path.

    Our own `--actions` also takes paths; this is kept for code that builds rasa-sdk's parser.
    """
    if "/" in actions_module_path:
        raise argparse.ArgumentTypeError(
            "Invalid actions format. Actions file should be a python module "
            "and passed with module notation (e.g. directory.actions)."
        )
    return actions_module_path


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Every flag of `run`: rasa-sdk's endpoint flags, ours, and logging."""
    add_endpoint_arguments(parser)
    add_logging_arguments(parser)


def add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """The server's flags, a superset of rasa-sdk's `add_endpoint_arguments` (same names)."""
    parser.add_argument(
        "-p", "--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host",
        default=None,
        help="address to bind (default: $SANIC_HOST or 0.0.0.0)",
    )
    add_actions_argument(parser)
    parser.add_argument(
        "--cors",
        nargs="*",
        default=None,
        metavar="ORIGIN",
        help="allowed browser origins, matched exactly; '*' allows any",
    )
    parser.add_argument("--ssl-certificate", default=None, help="TLS certificate (PEM)")
    parser.add_argument("--ssl-keyfile", default=None, help="TLS private key (PEM)")
    parser.add_argument("--ssl-password", default=None, help="password of the TLS key (HTTP only)")
    parser.add_argument(
        "--ssl-ca-file",
        default=None,
        help="CA certificate that client certificates must be signed by (mutual TLS; gRPC only)",
    )
    parser.add_argument(
        "--grpc",
        action="store_true",
        help="serve the gRPC action service (Rasa's grpc:// action endpoint) instead of HTTP",
    )
    parser.add_argument(
        "--keep-alive-timeout",
        type=positive_whole_seconds,
        default=DEFAULT_KEEP_ALIVE_TIMEOUT,
        metavar="SECONDS",
        help=f"close idle keep-alive connections after this long (default {DEFAULT_KEEP_ALIVE_TIMEOUT})",
    )
    parser.add_argument(
        "--auto-reload",
        action="store_true",
        help="reload edited and new action modules without a restart",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=None,
        help="worker processes (default: $ACTION_SERVER_SANIC_WORKERS or 1)",
    )
    parser.add_argument(
        "--endpoints",
        default="endpoints.yml",
        help="endpoints configuration (default endpoints.yml, which may be missing; "
        "a file named here must exist)",
    )
    parser.add_argument(
        "--auth-token",
        default=None,
        help=f"require this token on every route but /health (default: ${AUTH_TOKEN_ENV})",
    )
    parser.add_argument(
        "--action-timeout",
        type=positive_seconds,
        default=None,
        metavar="SECONDS",
        help="fail an action call that runs longer than this (default: no limit)",
    )
    parser.add_argument(
        "--max-body-size",
        type=parse_size,
        default=DEFAULT_MAX_BODY_SIZE,
        metavar="SIZE",
        help="largest request body, before and after decompression (default 100MB)",
    )
    parser.add_argument(
        "--websocket-max-size",
        type=parse_size,
        default=DEFAULT_WEBSOCKET_MAX_SIZE,
        metavar="SIZE",
        help="largest WebSocket message (voice, RTVI); a larger one closes the socket with "
        "code 1009 (default 1MiB)",
    )
    parser.add_argument(
        "--app-hook",
        dest="app_hooks",
        action="append",
        default=[],
        metavar="MODULE:FUNCTION",
        help="advanced: call FUNCTION(settings, executor) in every worker; it may return an "
        "AppExtension with a flow engine and Sanic blueprints to mount (repeatable)",
    )
