"""Finds the no-code action kinds (YAML API actions, function actions) in an actions package.

``discover_action_kinds`` is an executor discoverer (``ActionExecutor.add_discoverer``), so the
kinds are found again on every auto-reload, exactly like action classes.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from action_server.exceptions import ActionLoadError
from action_server.executor.arguments import ArgumentError
from action_server.interfaces import Action
from action_server.kinds.api_actions import ApiActionLoadError, load_api_actions
from action_server.kinds.function_actions import discover_function_actions

if TYPE_CHECKING:
    from action_server.executor import ActionExecutor
    from action_server.executor.discovery import LoadedActions

__all__ = ["app_hook", "discover_action_kinds", "install_action_kinds"]

_installed: weakref.WeakSet[ActionExecutor] = weakref.WeakSet()


def discover_action_kinds(loaded: LoadedActions) -> list[Action]:
    """Function actions in the package's modules, then API actions in its YAML files."""
    found: list[Action] = []
    for module in loaded.modules:
        try:
            found.extend(discover_function_actions(module))
        except ArgumentError as exc:
            raise ActionLoadError(
                f"{getattr(module, '__file__', module.__name__)}: {exc}"
            ) from None
    for root in loaded.roots:
        if root.is_file() and root.suffix not in (".yml", ".yaml"):
            continue  # a single-module package has no YAML of its own
        try:
            found.extend(load_api_actions(root))
        except ApiActionLoadError as exc:
            raise ActionLoadError(str(exc)) from None
    return found


def install_action_kinds(executor: ActionExecutor) -> None:
    """Make ``executor`` register API and function actions of every package it loads."""
    if executor not in _installed:
        _installed.add(executor)
        executor.add_discoverer(discover_action_kinds)


def app_hook(settings: Any, executor: ActionExecutor) -> None:
    """Server app hook (``ServerSettings.app_hooks``): runs in each worker after registration."""
    install_action_kinds(executor)
