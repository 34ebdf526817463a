"""Every failure as a JSON body: action exceptions, wire errors and Sanic's own HTTP errors.

Clients only ever see `{"error": ..., "action_name"?: ...}`: never a traceback, never the
request body echoed back. Tracebacks go to the server log with the sender id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sanic import HTTPResponse, Request
from sanic.exceptions import PayloadTooLarge, RequestCancelled, SanicException
from sanic.handlers import ErrorHandler

from action_server.exceptions import ActionFailed, ActionTimeout, InvalidActionCall
from action_server.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)
from action_server.server.responses import json_error

__all__ = [
    "ActionError",
    "JsonErrorHandler",
    "map_action_exception",
    "unexpected_error",
]

logger = logging.getLogger(__name__)

# The status Rasa understands as "re-send this call with the full domain".
STATUS_MISSING_DOMAIN = 449


@dataclass(frozen=True)
class ActionError:
    """How one failed action call is answered and counted."""

    status: int
    body: dict[str, Any]
    kind: str  # metrics label: not_found, rejected, missing_domain, timeout, failed, invalid


def _message(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) and message else str(exc)


def map_action_exception(exc: Exception, action_name: str, sender_id: Any) -> ActionError | None:
    """Translate an exception from `ActionExecutor.run`; None means "not an action error"."""
    name = getattr(exc, "action_name", None) or action_name
    if isinstance(exc, ActionNotFoundException):
        return ActionError(404, {"error": _message(exc), "action_name": name}, "not_found")
    if isinstance(exc, ActionExecutionRejection):
        logger.debug("Action '%s' rejected execution: %s", name, _message(exc))
        return ActionError(400, {"error": _message(exc), "action_name": name}, "rejected")
    if isinstance(exc, ActionMissingDomainException):
        return ActionError(
            STATUS_MISSING_DOMAIN, {"error": _message(exc), "action_name": name}, "missing_domain"
        )
    if isinstance(exc, InvalidActionCall):
        return ActionError(400, {"error": _message(exc), "action_name": name}, "invalid")
    if isinstance(exc, ActionTimeout):
        logger.error("%s (sender_id=%s)", _message(exc), sender_id)
        return ActionError(500, {"error": _message(exc), "action_name": name}, "timeout")
    if isinstance(exc, ActionFailed):
        return _logged_failure(
            exc.cause,
            f"Action '{name}' raised an exception (sender_id={sender_id})",
            f"An exception occurred while running action '{name}'.",
            name,
        )
    return None


def unexpected_error(exc: BaseException, action_name: str, sender_id: Any) -> ActionError:
    """A bug outside the action (executor or server): log it all, tell the client little."""
    return _logged_failure(
        exc,
        f"Unexpected error while handling action '{action_name}' (sender_id={sender_id})",
        f"An internal error occurred while handling action '{action_name}'.",
        action_name,
    )


def _logged_failure(
    cause: BaseException, log_message: str, client_message: str, action_name: str
) -> ActionError:
    """The traceback goes to the log; the client gets one sentence and the action name."""
    logger.error(log_message, exc_info=(type(cause), cause, cause.__traceback__))
    return ActionError(500, {"error": client_message, "action_name": action_name}, "failed")


class JsonErrorHandler(ErrorHandler):
    """Replaces Sanic's HTML/text error pages (404, 405, 413, ...) with `{"error": ...}`."""

    def __init__(self, max_body_size: int) -> None:
        super().__init__()
        self.max_body_size = max_body_size

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, RequestCancelled):
            # The client closed its side mid-request (or before sending one): nobody is left
            # to answer and nothing is wrong with the server.
            logger.debug("Client closed the connection on %s", _where(request))
            return json_error("Request cancelled by the client", 499)
        if isinstance(exception, SanicException):
            status = exception.status_code or 500
            headers = {k: str(v) for k, v in (exception.headers or {}).items()}
            if isinstance(exception, PayloadTooLarge):
                message = f"Request body exceeds the limit of {self.max_body_size} bytes"
                if "header" in str(exception):
                    message = "Request header exceeds the size limit"
            elif status >= 500:
                self._log_unexpected(request, exception)
                message = "Internal server error"
            else:
                message = str(exception) or "Bad request"
            return json_error(message, status, headers)
        self._log_unexpected(request, exception)
        return json_error("Internal server error", 500)

    @staticmethod
    def _log_unexpected(request: Request | None, exception: BaseException) -> None:
        logger.error(
            "Unhandled error on %s",
            _where(request),
            exc_info=(type(exception), exception, exception.__traceback__),
        )


def _where(request: Request | None) -> str:
    return f"{request.method} {request.path}" if request is not None else "unknown request"
