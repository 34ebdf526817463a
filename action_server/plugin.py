"""Plugins add routes, listeners and middleware to the app (rasa-sdk's `rasa_sdk.plugin`).

A plugin package named `action_server_plugins` (rasa-sdk: `rasa_sdk_plugins`) is imported when
present and its `init_hooks(manager)` registers objects with `attach_sanic_app_extensions(app)`
implementations (`@hookimpl`); the app factory calls the hook in every worker.
"""

from __future__ import annotations

import functools
import logging
import sys

import pluggy
from sanic import Sanic

__all__ = ["PROJECT_NAME", "attach_sanic_app_extensions", "hookimpl", "hookspec", "plugin_manager"]

PROJECT_NAME = "action_server"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=2)
def plugin_manager() -> pluggy.PluginManager:
    """The process's plugin manager, with the installed plugins registered (made once)."""
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(sys.modules[__name__])
    _discover_plugins(manager)
    return manager


def _discover_plugins(manager: pluggy.PluginManager) -> None:
    try:
        import action_server_plugins  # type: ignore[import-not-found]
    except ModuleNotFoundError as error:
        if error.name != "action_server_plugins":
            raise  # the plugin package exists but is broken: say so
        logger.debug("No plugins found: %s", error)
        return
    action_server_plugins.init_hooks(manager)


@hookspec  # type: ignore[misc]
def attach_sanic_app_extensions(app: Sanic) -> None:
    """Attach Sanic listeners, routes and middleware to `app`."""
