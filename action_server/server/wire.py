"""Checks of the action call that arrives on POST /webhook.

Only what the wire contract needs is checked (see docs/internals.md): the tracker can be
megabytes, so it is parsed once with orjson and never validated field by field.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["WireError", "parse_action_call"]


class WireError(Exception):
    """The request body is not a usable action call; the message names the offending field."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def parse_action_call(body: bytes) -> dict[str, Any]:
    """Parse and check an action call; raise `WireError` with a message naming the field."""
    if not body or not body.strip():
        raise WireError(
            "Empty request body: expected a JSON object with 'next_action' and 'tracker'"
        )
    try:
        call = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # orjson's message gives line/column only; the body itself is never echoed.
        raise WireError(f"Malformed JSON in request body: {exc}") from None
    if not isinstance(call, dict):
        raise WireError(f"Request body must be a JSON object, got {_json_type(call)}")

    next_action = call.get("next_action")
    if next_action is None:
        raise WireError("Missing field 'next_action': the name of the action to run")
    if not isinstance(next_action, str):
        raise WireError(f"Field 'next_action' must be a string, got {_json_type(next_action)}")

    tracker = call.get("tracker")
    if tracker is None:
        raise WireError("Missing field 'tracker'")
    if not isinstance(tracker, dict):
        raise WireError(f"Field 'tracker' must be an object, got {_json_type(tracker)}")
    if tracker.get("sender_id") is None:
        raise WireError("Missing field 'tracker.sender_id'")

    domain = call.get("domain")
    if domain is not None and not isinstance(domain, dict):
        raise WireError(f"Field 'domain' must be an object, got {_json_type(domain)}")
    return call
