"""Who is asking: the peer address, or ``X-Forwarded-For`` when the peer is a trusted proxy."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

from litestar import Request

Network = IPv4Network | IPv6Network


def _within(host: str, networks: list[Network]) -> bool:
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def client_ip_resolver(trusted_proxies: tuple[str, ...]) -> Callable[[Request[Any, Any, Any]], str]:
    """A function giving a request's client IP, believing forwarded headers only from proxies."""
    networks: list[Network] = [ip_network(p, strict=False) for p in trusted_proxies]

    def client_ip(request: Request[Any, Any, Any]) -> str:
        peer = request.client.host if request.client else "unknown"
        if not networks or not _within(peer, networks):
            return peer
        hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if not _within(hop, networks):
                return hop
        return peer

    return client_ip
