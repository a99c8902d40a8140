"""Who is asking: the peer address, or ``X-Forwarded-For`` when the peer is a trusted proxy; and
the key a client's requests are counted under for the rate limits."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

from litestar import Request

Network = IPv4Network | IPv6Network


def _address(value: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(value)
    except ValueError:
        return None


def _within(host: str, networks: list[Network]) -> bool:
    address = _address(host)
    return address is not None and any(address in network for network in networks)


def client_ip_resolver(trusted_proxies: tuple[str, ...]) -> Callable[[Request[Any, Any, Any]], str]:
    """A function giving a request's client IP, believing forwarded headers only from proxies.

    The client is the rightmost ``X-Forwarded-For`` hop that is not a trusted proxy. A hop that
    is not an IP address at all makes the header worthless (it is not what a proxy of ours
    wrote): the client is then the peer, as without the header.
    """
    networks: list[Network] = [ip_network(p, strict=False) for p in trusted_proxies]

    def client_ip(request: Request[Any, Any, Any]) -> str:
        peer = request.client.host if request.client else "unknown"
        if not networks or not _within(peer, networks):
            return peer
        hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if _address(hop) is None:
                return peer
            if not _within(hop, networks):
                return hop
        return peer

    return client_ip


def rate_limit_key(client: str) -> str:
    """What a client is counted under: its IPv4 address, or its IPv6 /64 (one subscriber usually
    holds a whole /64, so counting single IPv6 addresses would let it change address per
    request)."""
    address = _address(client)
    if address is None:
        return client
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ip_network(f"{address}/64", strict=False))
    return str(address)


def rate_limit_identifier(
    trusted_proxies: tuple[str, ...], prefix: str = ""
) -> Callable[[Request[Any, Any, Any]], str]:
    """The rate limiter's ``identifier_for_request``: ``prefix`` + the client's key."""
    client_ip = client_ip_resolver(trusted_proxies)

    def identifier(request: Request[Any, Any, Any]) -> str:
        return prefix + rate_limit_key(client_ip(request))

    return identifier
