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
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from types import ModuleType

from action_server.cli.arguments import (
    add_actions_argument,
    add_run_arguments,
    parse_size,
    positive_seconds,
)
from action_server.server.settings import (
    AUTH_TOKEN_ENV,
    ServerSettings,
    default_host,
    default_workers,
)
from action_server.version import __version__

__all__ = ["COMMAND_MODULES", "build_parser", "main", "parse_size", "positive_seconds"]

# Plug-in command groups. Each module listed here is imported when it exists and may define
#   register(subparsers: argparse._SubParsersAction) -> None
# to add its own subcommands (set `handler=<callable(args) -> int>` with set_defaults),
# and, to take part in `run`:
#   extend_run(parser: argparse.ArgumentParser) -> None       # add options to `run`
#   configure_run(args: argparse.Namespace, settings: ServerSettings) -> None
#       # turn those options into settings.app_hooks / settings.extra (see ServerSettings)
COMMAND_MODULES: tuple[str, ...] = (
    "action_server.cli.call",  # `action-server call NAME ...`
    "action_server.cli.flows",  # `action-server flows ...` and `run --flows ...`
    "action_server.cli.channels",  # `run --voice-start-flow ...`
    "action_server.cli.inspector",  # `run --inspect`
)

Handler = Callable[[argparse.Namespace], int]

_COMMANDS_WITHOUT_RUN = frozenset({"-h", "--help", "--version"})


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
    add_run_arguments(run)
    run.set_defaults(handler=_run_command)

    actions = subparsers.add_parser("actions", help="list the actions of a package and exit")
    add_actions_argument(actions)
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
        websocket_max_size=args.websocket_max_size,
        log_level=args.log_level,
        log_file=args.log_file,
        app_hooks=tuple(args.app_hooks),
        keep_alive_timeout=args.keep_alive_timeout,
        logging_config_file=args.logging_config_file,
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
    from action_server.config.endpoints import ConfigError, load_endpoints
    from action_server.exceptions import ActionLoadError

    try:
        settings = _settings_from_args(args)
        load_endpoints(settings.endpoints)
        for configure in args.run_configurators:
            configure(args, settings)
    except (ValueError, ConfigError) as exc:
        return _fail(str(exc))

    if args.grpc:
        return _run_grpc(settings, args.ssl_ca_file)
    if settings.workers > 1:
        _prepare_multiprocess_metrics()
    # Imported only now: prometheus_client picks its storage mode at import time.
    from action_server.server.logs import configure_logging
    from action_server.server.runner import serve

    configure_logging(settings.log_level, settings.log_file, settings.logging_config_file)
    try:
        serve(settings)
    except ActionLoadError as exc:
        return _fail(str(exc))
    except (ValueError, ConfigError, OSError) as exc:
        return _fail(str(exc))
    return 0


def _run_grpc(settings: ServerSettings, ssl_ca_file: str | None) -> int:
    """`run --grpc`: the gRPC action service instead of HTTP (one process, as rasa-sdk)."""
    import asyncio

    from action_server.constants import DEFAULT_ENDPOINTS_PATH
    from action_server.exceptions import ActionLoadError
    from action_server.grpc_server import run_grpc
    from action_server.server.logs import configure_logging
    from action_server.server.runner import build_executor

    configure_logging(settings.log_level, settings.log_file, settings.logging_config_file)
    try:
        executor = build_executor(settings)
        # The executor's own watcher reloads edited modules; no per-call rescan needed.
        asyncio.run(
            run_grpc(
                executor,
                settings.port,
                settings.ssl_certificate,
                settings.ssl_keyfile,
                ssl_ca_file,
                False,
                settings.endpoints or DEFAULT_ENDPOINTS_PATH,
                host=settings.host,
                max_message_size=settings.max_body_size,
            )
        )
    except ActionLoadError as exc:
        return _fail(str(exc))
    except (ValueError, OSError, RuntimeError) as exc:
        return _fail(str(exc))
    return 0


def _actions_command(args: argparse.Namespace) -> int:
    from action_server.exceptions import ActionLoadError
    from action_server.executor import ActionExecutor
    from action_server.executor.arguments import describe_actions
    from action_server.kinds.discovery import install_action_kinds
    from action_server.server.logs import configure_logging

    configure_logging("WARNING")
    executor = ActionExecutor()
    install_action_kinds(executor)
    try:
        executor.register_package(args.actions)
    except ActionLoadError as exc:
        return _fail(str(exc))
    descriptions = describe_actions(executor.action_objects.values())
    if args.json:
        print(json.dumps(descriptions, indent=2, ensure_ascii=False))
    else:
        from action_server.cli.call import format_actions

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
