"""CORS for any Sanic app, at rasa-sdk's path (`rasa_sdk.cors.configure_cors`).

Uses the server's policy (exact origins, `*` for any); rasa-sdk also accepts glob patterns,
which we do not (an origin is a scheme, host and port, compared exactly).
"""

from __future__ import annotations

from sanic import HTTPResponse, Request, Sanic
from sanic.response import BaseHTTPResponse

from action_server.server.cors import CorsPolicy

__all__ = ["configure_cors"]

_POLICY = "_action_server_cors_policy"


def configure_cors(app: Sanic, cors_origins: str | list[str] | None = "") -> None:
    """Allow `cors_origins` ("*" = any; empty = none) on `app`; calling again replaces them."""
    origins = [cors_origins] if isinstance(cors_origins, str) else list(cors_origins or [])
    already = hasattr(app.ctx, _POLICY)
    setattr(app.ctx, _POLICY, CorsPolicy(origins))
    if already:
        return

    async def preflight(request: Request) -> HTTPResponse | None:
        policy: CorsPolicy = getattr(request.app.ctx, _POLICY)
        if (policy.allow_any or policy.origins) and policy.is_preflight(request):
            return policy.preflight_response(request)
        return None

    async def headers(request: Request, response: BaseHTTPResponse) -> None:
        policy: CorsPolicy = getattr(request.app.ctx, _POLICY)
        if policy.allow_any or policy.origins:
            policy.decorate(request, response)

    app.register_middleware(preflight, "request")
    app.register_middleware(headers, "response")
