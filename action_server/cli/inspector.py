"""``action-server run --inspect``: mount the web inspector at ``/inspect``.

A command module of ``action_server.cli`` (see ``COMMAND_MODULES``): ``extend_run`` adds the
flag, ``configure_run`` refuses it on a non-loopback host without an auth token, and
``app_hook`` builds the blueprint in every worker, with the server's own error mapping so the
inspector shows action errors exactly as ``/webhook`` answers them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from action_server.server.settings import AppExtension, ServerSettings

__all__ = ["APP_HOOK", "app_hook", "configure_run", "extend_run", "register"]

APP_HOOK = "action_server.cli.inspector:app_hook"
EXTRA_KEY = "inspect"
TEST_DIRS = ("tests", "e2e_tests")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """No subcommand of our own; the hook protocol requires the function."""


def extend_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--inspect",
        action="store_true",
        help="serve the web inspector at /inspect (try actions, chat with the flows, see "
        "flows); on a non-loopback host only together with --auth-token",
    )


def configure_run(args: argparse.Namespace, settings: ServerSettings) -> None:
    if not getattr(args, "inspect", False):
        return
    from action_server.inspector.blueprint import is_loopback_host

    if not is_loopback_host(settings.host) and not settings.auth_token:
        raise ValueError(
            f"--inspect lets anyone who reaches the server run actions and chat; on host "
            f"{settings.host} it needs --auth-token (or listen on 127.0.0.1)"
        )
    settings.app_hooks = (*settings.app_hooks, APP_HOOK)
    settings.extra[EXTRA_KEY] = True


def _test_paths(flows: list[str]) -> list[str]:
    """E2E tests beside the flows: ``<flow dir>/tests``, else ``tests``/``e2e_tests`` here."""
    found: list[str] = []
    for flow in flows:
        base = Path(flow) if Path(flow).is_dir() else Path(flow).parent
        found.extend(str(base / name) for name in TEST_DIRS if (base / name).is_dir())
    if not found:
        found = [name for name in ("e2e_tests",) if Path(name).is_dir()]
    return list(dict.fromkeys(found))


def app_hook(settings: ServerSettings, executor: Any) -> AppExtension:
    from action_server.inspector import InspectorConfig, ProjectPaths, inspector_blueprint
    from action_server.server.errors import map_action_exception, unexpected_error
    from action_server.server.settings import AppExtension

    def map_error(exc: Exception, action: str, sender: Any) -> tuple[int, dict[str, Any]]:
        error = map_action_exception(exc, action, sender) or unexpected_error(exc, action, sender)
        return error.status, error.body

    flows = settings.extra.get("flows")
    paths = None
    if flows:
        paths = ProjectPaths(list(flows), settings.extra.get("domain"), _test_paths(list(flows)))
    config = InspectorConfig(map_error, paths, loopback_only=not settings.auth_token)
    return AppExtension(blueprints=[inspector_blueprint(config)])
