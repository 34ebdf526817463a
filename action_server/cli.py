"""The `action-server` command line: `run` (the default), `actions`, and plug-in command groups.

Flags of `run` match rasa-sdk's (`python -m rasa_sdk`), so existing deployment scripts keep
working. Heavy imports (Sanic, the executor) happen inside the handlers, after the process
environment (e.g. PROMETHEUS_MULTIPROC_DIR) is settled.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TypeVar

from action_server import __version__
from action_server.server.settings import (
    AUTH_TOKEN_ENV,
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_PORT,
    ServerSettings,
    default_host,
    default_workers,
)

__all__ = ["COMMAND_MODULES", "build_parser", "main", "parse_size", "positive_seconds"]

# Plug-in command groups. Each module listed here is imported when it exists and may define
#   register(subparsers: argparse._SubParsersAction) -> None
# to add its own subcommands (set `handler=<callable(args) -> int>` with set_defaults),
# and, to take part in `run`:
#   extend_run(parser: argparse.ArgumentParser) -> None       # add options to `run`
#   configure_run(args: argparse.Namespace, settings: ServerSettings) -> None
#       # turn those options into settings.app_hooks / settings.extra (see ServerSettings)
COMMAND_MODULES: tuple[str, ...] = (
    "action_server.call_cli",  # `action-server call NAME ...`
    "action_server.flows.cli",  # `action-server flows ...` and `run --flows ...`
    "action_server.conversations.channels_cli",  # `run --voice-start-flow ...`
)

Handler = Callable[[argparse.Namespace], int]
_N = TypeVar("_N", int, float)

_COMMANDS_WITHOUT_RUN = frozenset({"-h", "--help", "--version"})
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

_workers = _number_option(int, "worker count", lambda value: value >= 1, "must be at least 1")
_port = _number_option(
    int, "port", lambda value: 0 <= value <= 65535, "must be between 0 and 65535"
)


def _add_actions_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actions",
        "--actions-module",
        dest="actions",
        default="actions",
        metavar="MODULE",
        help="actions package or module (dotted name, or a path such as actions/ or ./x.py); "
        "default: actions",
    )


def _add_logging_arguments(parser: argparse.ArgumentParser) -> None:
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


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p", "--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host",
        default=None,
        help="address to bind (default: $SANIC_HOST or 0.0.0.0)",
    )
    _add_actions_argument(parser)
    parser.add_argument(
        "--cors",
        nargs="*",
        default=None,
        metavar="ORIGIN",
        help="allowed browser origins, matched exactly; '*' allows any",
    )
    parser.add_argument("--ssl-certificate", default=None, help="TLS certificate (PEM)")
    parser.add_argument("--ssl-keyfile", default=None, help="TLS private key (PEM)")
    parser.add_argument("--ssl-password", default=None, help="password of the TLS key")
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
        "--app-hook",
        dest="app_hooks",
        action="append",
        default=[],
        metavar="MODULE:FUNCTION",
        help="advanced: call FUNCTION(settings, executor) in every worker; it may return an "
        "AppExtension with a flow engine and Sanic blueprints to mount (repeatable)",
    )
    _add_logging_arguments(parser)


def _command_modules() -> list[ModuleType]:
    """The plug-in modules that exist; an import error inside one of them is not hidden."""
    modules = []
    for name in COMMAND_MODULES:
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:  # the parent package is missing
            spec = None
        if spec is not None:
            modules.append(importlib.import_module(name))
    return modules


def build_parser(modules: Sequence[ModuleType] | None = None) -> argparse.ArgumentParser:
    modules = _command_modules() if modules is None else modules
    parser = argparse.ArgumentParser(
        prog="action-server",
        description="Rasa-compatible action server with a built-in flow engine.",
    )
    parser.add_argument("--version", action="version", version=f"action-server {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = subparsers.add_parser(
        "run", help="start the action server (the default command)", description=_RUN_HELP
    )
    _add_run_arguments(run)
    run.set_defaults(handler=_run_command)

    actions = subparsers.add_parser("actions", help="list the actions of a package and exit")
    _add_actions_argument(actions)
    actions.add_argument(
        "--json",
        action="store_true",
        help="print kind, description and arguments of each action as JSON",
    )
    actions.set_defaults(handler=_actions_command)

    for module in modules:
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
        extend_run = getattr(module, "extend_run", None)
        if extend_run is not None:
            extend_run(run)
    parser.set_defaults(
        run_configurators=[m.configure_run for m in modules if hasattr(m, "configure_run")]
    )
    return parser


_RUN_HELP = (
    "Start the action server: POST /webhook (the Rasa action call), GET /actions, "
    "GET /health, GET /metrics."
)


def _fail(message: str, code: int = 1) -> int:
    print(f"action-server: error: {message}", file=sys.stderr)
    return code


def _settings_from_args(args: argparse.Namespace) -> ServerSettings:
    return ServerSettings(
        actions=args.actions,
        host=args.host or default_host(),
        port=args.port,
        cors_origins=tuple(args.cors or ()),
        ssl_certificate=args.ssl_certificate,
        ssl_keyfile=args.ssl_keyfile,
        ssl_password=args.ssl_password,
        auto_reload=args.auto_reload,
        workers=args.workers if args.workers is not None else default_workers(),
        endpoints=args.endpoints,
        auth_token=args.auth_token or os.environ.get(AUTH_TOKEN_ENV) or None,
        action_timeout=args.action_timeout,
        max_body_size=args.max_body_size,
        log_level=args.log_level,
        log_file=args.log_file,
        app_hooks=tuple(args.app_hooks),
    )


def _prepare_multiprocess_metrics() -> None:
    """Workers share metrics through files; the directory must exist before any worker starts.

    A directory given by the operator is used as is (they own its clean-up); otherwise a fresh
    one is made and removed at exit, so counts never leak between runs.
    """
    from action_server.server.metrics import MULTIPROC_ENV

    if os.environ.get(MULTIPROC_ENV):
        return
    path = tempfile.mkdtemp(prefix="action-server-metrics-")
    os.environ[MULTIPROC_ENV] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)


def _run_command(args: argparse.Namespace) -> int:
    from action_server.config import ConfigError, load_endpoints
    from action_server.exceptions import ActionLoadError

    try:
        settings = _settings_from_args(args)
        load_endpoints(settings.endpoints)
        for configure in args.run_configurators:
            configure(args, settings)
    except (ValueError, ConfigError) as exc:
        return _fail(str(exc))

    if settings.workers > 1:
        _prepare_multiprocess_metrics()
    # Imported only now: prometheus_client picks its storage mode at import time.
    from action_server.server.logs import configure_logging
    from action_server.server.runner import serve

    configure_logging(settings.log_level, settings.log_file)
    try:
        serve(settings)
    except ActionLoadError as exc:
        return _fail(str(exc))
    except (ValueError, ConfigError, OSError) as exc:
        return _fail(str(exc))
    return 0


def _actions_command(args: argparse.Namespace) -> int:
    from action_server.action_kinds import install_action_kinds
    from action_server.arguments import describe_actions
    from action_server.exceptions import ActionLoadError
    from action_server.executor import ActionExecutor
    from action_server.server.logs import configure_logging

    configure_logging("WARNING")
    executor = ActionExecutor()
    install_action_kinds(executor)
    try:
        executor.register_package(args.actions)
    except ActionLoadError as exc:
        return _fail(str(exc))
    descriptions = describe_actions(executor.actions.values())
    if args.json:
        print(json.dumps(descriptions, indent=2, ensure_ascii=False))
    else:
        from action_server.call_cli import format_actions

        print(format_actions(descriptions))
    executor.close()
    return 0


def _with_default_command(argv: list[str], commands: set[str]) -> list[str]:
    """`python -m action_server -p 5055` means `run -p 5055`, as with `python -m rasa_sdk`."""
    if not argv:
        return ["run"]
    first = argv[0]
    if first.startswith("-") and first not in _COMMANDS_WITHOUT_RUN and first not in commands:
        return ["run", *argv]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    commands = _subcommand_names(parser)
    args = parser.parse_args(
        _with_default_command(list(sys.argv[1:] if argv is None else argv), commands)
    )
    handler: Handler = args.handler
    return handler(args)


def _subcommand_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()
