"""Who is asking, and over what: forwarded headers believed only from ``TRUSTED_PROXIES``; and the
key a client's requests are counted under for the rate limits.

Behind a reverse proxy every connection comes from the proxy. When the peer is one of the trusted
proxies (IPs or CIDRs), ``forwarded_headers`` rewrites the request's client address from
``X-Forwarded-For`` and its scheme from ``X-Forwarded-Proto``, once, before anything else reads
them: the rate limits, the access log, ``request.url``. From any other peer the headers are
ignored, so a client cannot pick its own address. This module is the one place that reads them.

``X-Forwarded-For`` is read from the right: each trusted proxy appends the address it saw, so the
first address from the right that is not a trusted proxy is the client. A hop that is not an IP
address at all makes the header worthless (it is not what a proxy of ours wrote): the client is
then the peer, as without the header.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

from litestar import Request
from litestar.types import ASGIApp, Receive, Scope, Send

Network = IPv4Network | IPv6Network
SCHEMES = {"http": ("http", "ws"), "https": ("https", "wss")}


def _address(value: str) -> IPv4Address | IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:443
        value = value.split(":", 1)[0]
    try:
        return ip_address(value)
    except ValueError:
        return None


class TrustedProxies:
    def __init__(self, trusted: tuple[str, ...]) -> None:
        # Settings.from_env has refused entries that are not addresses or networks.
        self.networks: tuple[Network, ...] = tuple(ip_network(t, strict=False) for t in trusted)

    def trusts(self, address: IPv4Address | IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The client's address for a connection from ``peer`` carrying ``forwarded_for``."""
        if not self.trusts(_address(peer)):
            return peer
        nearest = peer
        for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
            address = _address(hop)
            if address is None:
                return peer
            if not self.trusts(address):
                return str(address)
            nearest = str(address)
        return nearest

    def scheme(self, peer: str, forwarded_proto: str, current: str) -> str:
        """``http``/``https`` as the trusted proxy saw it (its own, last value), else ``current``."""
        if not forwarded_proto or not self.trusts(_address(peer)):
            return current
        said = forwarded_proto.split(",")[-1].strip().lower()
        if said not in SCHEMES:
            return current
        return SCHEMES[said][1] if current in ("ws", "wss") else SCHEMES[said][0]


def forwarded_headers(trusted: tuple[str, ...]) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware (before the rate limits): rewrite ``scope["client"]`` and
    ``scope["scheme"]`` in place, so uvicorn's access log shows the client too."""
    proxies = TrustedProxies(trusted)

    def middleware(app: ASGIApp) -> ASGIApp:
        if not proxies.networks:
            return app

        async def resolve(scope: Scope, receive: Receive, send: Send) -> None:
            client = scope.get("client")
            if scope["type"] in ("http", "websocket") and client:
                peer = client[0]
                forwarded_for = _header(scope, b"x-forwarded-for")
                forwarded_proto = _header(scope, b"x-forwarded-proto")
                resolved = proxies.client(peer, forwarded_for)
                if resolved != peer:
                    scope["client"] = (resolved, 0)
                scope["scheme"] = proxies.scheme(peer, forwarded_proto, scope["scheme"])
            await app(scope, receive, send)

        return resolve

    return middleware


def _header(scope: Scope, name: bytes) -> str:
    """All of a header's lines, joined as one comma-separated value (RFC 9110, 5.3)."""
    return ",".join(value.decode("latin-1") for key, value in scope["headers"] if key == name)


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


def rate_limit_identifier(prefix: str = "") -> Callable[[Request[Any, Any, Any]], str]:
    """The rate limiter's ``identifier_for_request``: ``prefix`` + the client's key (the client as
    ``forwarded_headers`` resolved it)."""

    def identifier(request: Request[Any, Any, Any]) -> str:
        client = request.client.host if request.client else "unknown"
        return prefix + rate_limit_key(client)

    return identifier
