"""JSON responses encoded with orjson: the fast path for multi-kilobyte event lists."""

from __future__ import annotations

from typing import Any

import orjson
from sanic import HTTPResponse

__all__ = ["json_error", "json_response"]


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> HTTPResponse:
    return HTTPResponse(
        orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def json_error(message: str, status: int, headers: dict[str, str] | None = None) -> HTTPResponse:
    """Every error a client sees has this shape: `{"error": message}`."""
    return json_response({"error": message}, status=status, headers=headers)
