"""CORS with exact origin matching: preflight answers and headers on every response."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sanic import HTTPResponse, Request
from sanic.response import BaseHTTPResponse

from action_server.interfaces.caller_input import quote_input
from action_server.server.responses import json_error

__all__ = ["CorsPolicy"]

_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
_DEFAULT_ALLOW_HEADERS = "Authorization, Content-Type, Content-Encoding"
_MAX_AGE = "600"
# Header names as RFC 9110 tokens, comma-separated: anything else (non-ASCII, a CR/LF, a lone
# surrogate from undecodable bytes) is not echoed back, since it cannot be encoded safely.
_HEADER_LIST = re.compile(
    r"[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*"
)
_MAX_REQUESTED_HEADERS = 1000


class CorsPolicy:
    """Which browser origins may call the server; "*" allows any origin."""

    def __init__(self, origins: Iterable[str]) -> None:
        cleaned = [o.strip().rstrip("/") for o in origins if o.strip()]
        self.allow_any = "*" in cleaned
        self.origins = frozenset(o for o in cleaned if o != "*")

    def allowed_origin(self, origin: str | None) -> str | None:
        """The Access-Control-Allow-Origin value for `origin`, or None if it is not allowed."""
        if not origin:
            return None
        if self.allow_any:
            return "*"
        return origin if origin in self.origins else None

    @staticmethod
    def is_preflight(request: Request) -> bool:
        return (
            request.method == "OPTIONS"
            and "origin" in request.headers
            and "access-control-request-method" in request.headers
        )

    def preflight_response(self, request: Request) -> HTTPResponse:
        """204 with the allow headers, or 403 when the origin is not on the list."""
        origin = request.headers.get("origin")
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return json_error(
                f"Origin {quote_input(origin)} is not allowed by the CORS policy",
                403,
                {"Vary": "Origin"},
            )
        requested = request.headers.get("access-control-request-headers", "").strip()
        if len(requested) > _MAX_REQUESTED_HEADERS or not _HEADER_LIST.fullmatch(requested):
            requested = ""
        return HTTPResponse(
            status=204,
            headers={
                "Access-Control-Allow-Origin": allowed,
                "Access-Control-Allow-Methods": _ALLOW_METHODS,
                "Access-Control-Allow-Headers": requested or _DEFAULT_ALLOW_HEADERS,
                "Access-Control-Max-Age": _MAX_AGE,
                "Vary": "Origin",
            },
        )

    def decorate(self, request: Request, response: BaseHTTPResponse) -> None:
        """Add the CORS headers to an ordinary (non-preflight) response."""
        if "Access-Control-Allow-Origin" in response.headers:
            return
        vary = response.headers.get("Vary")
        if not vary:
            response.headers["Vary"] = "Origin"
        elif "origin" not in vary.lower():
            response.headers["Vary"] = f"{vary}, Origin"
        allowed = self.allowed_origin(request.headers.get("origin"))
        if allowed is not None:
            response.headers["Access-Control-Allow-Origin"] = allowed
