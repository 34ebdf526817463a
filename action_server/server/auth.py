"""Shared-token authentication: `?token=...` (Rasa), a Bearer header, or `X-API-TOKEN` (sipgate)."""

from __future__ import annotations

import hmac

from sanic import Request

__all__ = ["TokenAuth"]

_BEARER = "bearer "


class TokenAuth:
    """Checks a request's token in constant time, so response timing leaks nothing."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("auth token must not be empty")
        self._token = token.encode("utf-8")

    def is_authorized(self, request: Request) -> bool:
        # surrogatepass: a header byte that is not UTF-8 arrives as a lone surrogate, which a
        # plain encode() would turn into a 500; this way it is just a token that does not match.
        return any(
            hmac.compare_digest(candidate.encode("utf-8", "surrogatepass"), self._token)
            for candidate in self._candidates(request)
        )

    @staticmethod
    def _candidates(request: Request) -> list[str]:
        found: list[str] = []
        query_token = request.args.get("token")
        if query_token:
            found.append(query_token)
        api_token = request.headers.get("x-api-token")  # sipgate AI Flow's shared secret
        if api_token:
            found.append(api_token)
        header = request.headers.get("authorization", "")
        if header[: len(_BEARER)].lower() == _BEARER:
            found.append(header[len(_BEARER) :].strip())
        return found
