"""Send one API-action request: guarded connections, bounded redirects, capped response size.

Every failure becomes ``ApiCallError`` with a one-line message fit for a slot; the caller
redacts secrets from it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from action_server.kinds.netguard import AddressRefused, GuardedTransport, NetworkPolicy

__all__ = ["ApiCallError", "ApiHttpClient", "ApiRequest", "ApiResponse", "HttpLimits"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class ApiCallError(Exception):
    """The call failed (HTTP error status, timeout, unreachable, refused, too large, not JSON)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class HttpLimits:
    """Per-file safety limits of API actions."""

    policy: NetworkPolicy = field(default_factory=NetworkPolicy)
    max_response_bytes: int = 1_000_000
    max_redirects: int = 3


@dataclass
class ApiRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    timeout: float = 10.0


@dataclass
class ApiResponse:
    status: int
    url: str
    content: bytes

    def json(self) -> Any:
        """The decoded JSON body (None for an empty body); ``ApiCallError`` if it is not JSON."""
        if not self.content.strip():
            return None
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError:
            raise ApiCallError(f"response from {self.url} is not JSON") from None


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


async def _read_capped(response: httpx.Response, limit: int, url: httpx.URL) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiCallError(f"response from {url} is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise ApiCallError(f"response from {url} is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _follow(
    client: httpx.AsyncClient, request: ApiRequest, limits: HttpLimits
) -> ApiResponse:
    method = request.method
    url = httpx.URL(request.url)
    if request.params:
        url = url.copy_merge_params(request.params)
    # UTF-8 rather than httpx's ASCII-only default: an argument like a customer name may
    # land in a header, and most servers accept UTF-8 there.
    headers: dict[str, str | bytes] = {k: v.encode() for k, v in request.headers.items()}
    body: Any = request.json
    redirects = 0
    while True:
        kwargs: dict[str, Any] = {"headers": headers, "timeout": httpx.Timeout(request.timeout)}
        if body is not None:
            kwargs["content"] = orjson.dumps(body)
            headers.setdefault("content-type", "application/json")
        async with client.stream(method, url, **kwargs) as response:
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location:
                redirects += 1
                if redirects > limits.max_redirects:
                    raise ApiCallError(
                        f"{request.method} {request.url} stopped after "
                        f"{limits.max_redirects} redirects"
                    )
                target = url.join(location)
                if target.scheme not in ("http", "https"):
                    raise ApiCallError(f"redirect from {url} to unsupported URL {target}")
                if response.status_code == 303 or (
                    response.status_code in (301, 302) and method == "POST"
                ):
                    method, body = "GET", None
                    headers.pop("content-type", None)
                if not _same_origin(url, target):
                    if body is not None:
                        # A 307/308 re-sends the body, which may hold ${SECRET} values meant
                        # for the first host only: refuse rather than forward it.
                        raise ApiCallError(
                            f"{request.method} {request.url} was redirected to another origin "
                            f"({target.scheme}://{target.netloc.decode('ascii', 'replace')}); "
                            "the request body is not sent there"
                        )
                    # Configured headers often carry credentials meant for the first host only.
                    headers = {}
                url = target
                continue
            content = await _read_capped(response, limits.max_response_bytes, url)
            if response.status_code >= 400:
                raise ApiCallError(
                    f"{request.method} {url} failed: HTTP {response.status_code}",
                    status=response.status_code,
                )
            return ApiResponse(status=response.status_code, url=str(url), content=content)


class ApiHttpClient:
    """The pooled, guarded HTTP client that all API actions of one file share.

    Connections are reused across calls; the guard still checks every request and redirect hop
    (see ``GuardedTransport``). An httpx client belongs to the event loop that opened its
    connections, so a call from another loop (a second ``asyncio.run``) gets a fresh client.
    """

    def __init__(self, limits: HttpLimits | None = None) -> None:
        self.limits = limits or HttpLimits()
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _for_this_loop(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client = httpx.AsyncClient(
                transport=GuardedTransport(self.limits.policy),
                follow_redirects=False,
                trust_env=False,
            )
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.aclose()

    async def send(self, request: ApiRequest) -> ApiResponse:
        """Perform ``request`` within its timeout (the whole exchange, redirects included)."""
        described = f"{request.method} {request.url}"
        try:
            client = self._for_this_loop()
            return await asyncio.wait_for(_follow(client, request, self.limits), request.timeout)
        except ApiCallError:
            raise
        except AddressRefused as exc:
            raise ApiCallError(f"{described} {exc}") from None
        except (asyncio.TimeoutError, httpx.TimeoutException):
            raise ApiCallError(
                f"{described} timed out after {_format_seconds(request.timeout)} s"
            ) from None
        except httpx.ConnectError as exc:
            reason = str(exc) or type(exc).__name__
            raise ApiCallError(f"{described} failed: could not connect ({reason})") from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise ApiCallError(f"{described} failed: {reason}") from None
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            # A filled-in URL can be invalid (a bad port, a character httpx refuses).
            raise ApiCallError(f"{described} failed: invalid request ({exc})") from None
