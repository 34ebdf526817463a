"""Errors raised while loading and running actions, beyond the rasa-sdk ones.

`ActionNotFoundException`, `ActionExecutionRejection` and `ActionMissingDomainException`
live in `action_server.interfaces` (rasa-sdk's module path); these are our additions.
The server maps each one to an HTTP status, see docs/internals.md.
"""

from __future__ import annotations

__all__ = ["ActionFailed", "ActionLoadError", "ActionTimeout", "InvalidActionCall"]


class ActionLoadError(Exception):
    """The actions package cannot be imported or registered.

    The message is meant for a person at a terminal: it names the file and line of an
    import error, or both classes and their files for a duplicate action name.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        return self.message


def _format_seconds(seconds: float) -> str:
    """`2.0` -> `2`, `0.5` -> `0.5`: the timeout reads as the user wrote it."""
    if float(seconds).is_integer():
        return str(int(seconds))
    return f"{seconds:g}"


class ActionTimeout(Exception):
    """An action ran longer than the configured per-action timeout."""

    def __init__(self, action_name: str, seconds: float) -> None:
        self.action_name = action_name
        self.seconds = seconds
        self.message = f"Action '{action_name}' timed out after {_format_seconds(seconds)} s"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class ActionFailed(Exception):
    """An action's `run` raised; `cause` (also `__cause__`) holds the original exception.

    The message deliberately leaves the cause out: it goes to HTTP clients, while the
    cause and its traceback belong in the server log (with `sender_id`).
    """

    def __init__(
        self, action_name: str, cause: BaseException, *, sender_id: str | None = None
    ) -> None:
        self.action_name = action_name
        self.cause = cause
        self.sender_id = sender_id
        self.message = f"An exception occurred while running action '{action_name}'."
        super().__init__(self.message)
        self.__cause__ = cause

    def __str__(self) -> str:
        return self.message


class InvalidActionCall(ValueError):
    """The action call itself is malformed (e.g. `tracker` is not an object).

    The server checks the wire contract first, so this mostly protects in-process
    callers; it maps to HTTP 400.
    """

    def __init__(self, action_name: str, message: str) -> None:
        self.action_name = action_name
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message
