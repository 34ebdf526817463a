"""Errors: rasa-sdk's file and YAML errors (its `rasa_sdk.exceptions`), and ours for loading
and running actions.

`ActionNotFoundException`, `ActionExecutionRejection` and `ActionMissingDomainException`
live in `action_server.interfaces` (rasa-sdk's module path); these are our additions.
The server maps each one to an HTTP status, see docs/internals.md.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ActionFailed",
    "ActionLoadError",
    "ActionTimeout",
    "FileIOException",
    "FileNotFoundException",
    "InvalidActionCall",
    "YamlSyntaxException",
]


class FileNotFoundException(FileNotFoundError):
    """A file that should exist does not (rasa-sdk's `utils.read_file`)."""


class FileIOException(Exception):
    """A file could not be read, e.g. it is not in the expected encoding."""


class YamlSyntaxException(Exception):
    """A YAML file could not be parsed; names the file and the parser's own message."""

    def __init__(
        self,
        filename: str | Path | None = None,
        underlying_yaml_exception: Exception | None = None,
    ) -> None:
        self.filename = filename
        self.underlying_yaml_exception = underlying_yaml_exception

    def __str__(self) -> str:
        text = f"Failed to read '{self.filename}'." if self.filename else "Failed to read YAML."
        if self.underlying_yaml_exception:
            text += f" {self.underlying_yaml_exception}"
        if self.filename:
            text = text.replace('in "<unicode string>"', f'in "{self.filename}"')
        return text


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
