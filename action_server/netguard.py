"""Refuse outgoing API-action connections to private, loopback and other internal addresses.

The check runs where the socket is opened (an httpcore network backend), on every address the
host resolves to, and the connection goes to the very address that was checked: so redirects
and DNS rebinding cannot slip past it. IPv4-mapped and 6to4/Teredo IPv6 forms are unwrapped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

__all__ = [
    "AddressRefused",
    "GuardedTransport",
    "NetworkPolicy",
    "check_address",
    "resolve_allowed",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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


async def resolve_allowed(host: str, port: int, policy: NetworkPolicy) -> list[str]:
    """Resolve ``host`` and return its addresses; raise ``AddressRefused`` if any is internal.

    Refusing when *any* address is internal (not only the first) stops a name that resolves to
    both a public and an internal address from being used to reach the internal one.
    """
    bare = host.strip("[]")
    try:
        literal: IPAddress | None = ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [bare]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                bare, port, type=socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"could not resolve host {bare!r}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not policy.host_allowed(bare):
        for address in addresses:
            reason = check_address(address.split("%", 1)[0])
            if reason is not None:
                raise AddressRefused(bare, address, reason)
    return addresses


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the host, then connects to a checked address itself."""

    def __init__(self, policy: NetworkPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_allowed(host, port, self._policy)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not allowed for API actions")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx transport whose connections go through the address guard.

    Proxies from the environment are ignored on purpose: through a proxy the guard would only
    ever see the proxy's address.
    """

    def __init__(self, policy: NetworkPolicy) -> None:
        super().__init__(trust_env=False)
        # httpx does not expose httpcore's network_backend; the pool is swapped for one that
        # uses the guarded backend (pinned by tests/api_actions/test_netguard.py).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_GuardedBackend(policy),
        )
