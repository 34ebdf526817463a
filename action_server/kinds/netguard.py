"""Refuse outgoing API-action connections to private, loopback and other internal addresses.

``GuardedTransport`` resolves every request's host itself (each redirect hop is a request),
checks every address it resolves to, and connects to a checked address: a name that rebinds to
an internal address after the check is never connected to. IPv4-mapped and 6to4/Teredo IPv6
forms are unwrapped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

__all__ = [
    "AddressRefused",
    "GuardedTransport",
    "NetworkPolicy",
    "check_address",
    "resolve_allowed",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_DEFAULT_PORTS = {"http": 80, "https": 443}


class AddressRefused(Exception):
    """The destination is an internal address and the configuration does not allow it."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        where = host if host == address else f"{host} ({address})"
        super().__init__(
            f"refused to connect to {where}: {reason} address "
            "(set 'allow_private_networks: true' or list the host in 'allowed_hosts')"
        )
        self.host = host
        self.address = address
        self.reason = reason


@dataclass(frozen=True)
class NetworkPolicy:
    """What an API-actions file allows beyond the public internet."""

    allow_private_networks: bool = False
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def create(
        cls, allow_private_networks: bool = False, allowed_hosts: Iterable[str] = ()
    ) -> NetworkPolicy:
        return cls(allow_private_networks, frozenset(h.lower().strip("[]") for h in allowed_hosts))

    def host_allowed(self, host: str) -> bool:
        if self.allow_private_networks:
            return True
        host = host.lower().strip("[]").rstrip(".")
        for allowed in self.allowed_hosts:
            if allowed.startswith("*."):
                if host.endswith(allowed[1:]):
                    return True
            elif host == allowed:
                return True
        return False


def _unwrap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return embedded
        if address.teredo is not None:
            return address.teredo[1]
    return address


def check_address(address: str | IPAddress) -> str | None:
    """The reason ``address`` is internal ("loopback", "private", ...), or None if public."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    ip = _unwrap(ip)
    for reason, flag in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return reason
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site-local"
    if not ip.is_global:
        return "non-public"
    return None


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


async def resolve_allowed(host: str, port: int, policy: NetworkPolicy) -> list[str]:
    """Resolve ``host`` and return its addresses; raise ``AddressRefused`` if any is internal.

    Refusing when *any* address is internal (not only the first) stops a name that resolves to
    both a public and an internal address from being used to reach the internal one.
    """
    bare = host.strip("[]")
    if _is_literal(bare):
        addresses = [bare]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                bare, port, type=socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise httpx.ConnectError(f"could not resolve host {bare!r}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not policy.host_allowed(bare):
        for address in addresses:
            reason = check_address(address.split("%", 1)[0])
            if reason is not None:
                raise AddressRefused(bare, address, reason)
    return addresses


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx transport that resolves and checks the host itself, then connects to that address.

    Each request (so each redirect hop) is resolved once; if every address passes the policy,
    the request goes to the first address that accepts a connection, with the original Host
    header and TLS server name (SNI, certificate check), so DNS rebinding between the check and
    the connection cannot reach an internal address. Only public httpx/httpcore APIs are used
    (``AsyncHTTPTransport`` and the ``sni_hostname`` request extension). Connections are pooled
    per original scheme, host and port, so a connection opened for one name is never reused for
    another name that happens to share its address. Proxies from the environment are ignored
    on purpose: through a proxy the guard would only ever see the proxy's address.
    """

    def __init__(self, policy: NetworkPolicy) -> None:
        self._policy = policy
        self._pools: dict[tuple[str, str, int], httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        host = url.host
        port = url.port or _DEFAULT_PORTS[url.scheme]
        addresses = await resolve_allowed(host, port, self._policy)
        key = (url.scheme, host, port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = httpx.AsyncHTTPTransport(trust_env=False)
        extensions = dict(request.extensions)
        if url.scheme == "https" and not _is_literal(host):
            extensions["sni_hostname"] = host
        last_error: httpx.TransportError | None = None
        for address in addresses:
            pinned = httpx.Request(
                request.method,
                url.copy_with(host=address.split("%", 1)[0]),
                headers=request.headers,  # still names the original host
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return await pool.handle_async_request(pinned)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                last_error = exc  # nothing was sent yet: try the host's next address
        assert last_error is not None
        raise last_error

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()
