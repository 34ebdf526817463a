"""action_server: a Rasa-compatible action server with a built-in YAML flow engine.

The public face mirrors `rasa_sdk`: migrating is renaming the import root.
Kept light on purpose: importing it must not pull in the server or Sanic.
"""

from __future__ import annotations

from action_server.forms import FormValidationAction, ValidationAction
from action_server.interfaces import Action, ActionExecutionRejection, Tracker
from action_server.kinds.function_actions import action
from action_server.version import __version__

__all__ = [
    "Action",
    "ActionExecutionRejection",
    "FormValidationAction",
    "Tracker",
    "ValidationAction",
    "__version__",
    "action",
]
