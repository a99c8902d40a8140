"""Outbound URLs (webhooks, calendar feeds, CalDAV): never inside our own network.

A URL a host gives us is fetched by the server, from inside whatever network it runs in, so a URL
naming ``127.0.0.1:5432``, the cloud's metadata service (``169.254.169.254``) or a LAN machine
would let a host probe or call things only the server can reach. Two guards, both here:

- ``check_outbound_url`` when the URL is saved: http(s) only, no credentials, and no address
  that is loopback, private, link-local, unique-local, multicast, reserved or unspecified,
  written in any form (IPv4, IPv6, IPv4-mapped/compatible/6to4/NAT64/Teredo IPv6, and the
  decimal, hex, octal and short IPv4 forms ``inet_aton`` accepts, such as ``2130706433``,
  ``0x7f000001`` or ``127.1``); a name is resolved and every address it has must pass. A name
  that does not resolve now is accepted: it is checked again when used.
- ``outbound_client`` when it is used: its transport resolves the name itself, checks every
  address, and connects to the address it checked (the request goes to that IP, with the
  original ``Host`` and TLS server name), so a name cannot answer differently between the check
  and the connection (DNS rebinding). It follows no redirects and ignores proxy settings.

``ALLOW_PRIVATE_URLS=1`` (``Settings.allow_private_urls``) lifts the address rules, for local
development and the test suite; the scheme and credential rules stay.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx

from app.bookings.errors import InvalidInput
from app.i18n import _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_TIMEOUT = 5.0
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class OutboundRefused(Exception):
    """A connection was about to reach an address outside the public internet."""


def is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address, whatever IPv4 it may carry inside."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _IPV4_COMPATIBLE:
            return False  # ::a.b.c.d (deprecated) and :: itself
        embedded: list[ipaddress.IPv4Address] = []
        if address.ipv4_mapped:
            embedded.append(address.ipv4_mapped)
        if address.sixtofour:
            embedded.append(address.sixtofour)
        if address.teredo:
            embedded.extend(address.teredo)
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if not all(is_public(inner) for inner in embedded):
            return False
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_private
    )


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address if it is one in any written form, else None (a name)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        # The C resolver reads "2130706433", "0x7f.1", "0177.0.0.1" and "127.1" as IPv4 too.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _is_local_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an address literal stands for itself)."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
    )
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _refusal(host: str, address: IPAddress | None = None) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # shown as the IPv4 address it stands for
    if address is None or str(address) == host:
        return _(
            "%(host)s is a private or local network address: "
            "only public internet addresses are allowed.",
            host=host,
        )
    if literal_address(host) is not None:
        return _(
            "%(host)s is the address %(address)s, a private or local network address: "
            "only public internet addresses are allowed.",
            host=host,
            address=str(address),
        )
    return _(
        "%(host)s resolves to %(address)s, a private or local network address: "
        "only public internet addresses are allowed.",
        host=host,
        address=str(address),
    )


async def check_outbound_url(url: str, *, allow_private: bool, field: str = "url") -> str:
    """``url`` if the server may call it; else ``InvalidInput`` (400) saying why, on ``field``."""
    if not isinstance(url, str) or any(c.isspace() or ord(c) < 32 or c == "\x7f" for c in url):
        raise InvalidInput(_("%(field)s must be a URL without spaces.", field=field), field)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput(_("%(field)s is not a valid URL.", field=field), field) from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidInput(_("%(field)s must be an http:// or https:// URL.", field=field), field)
    if "@" in parts.netloc:
        raise InvalidInput(
            _("%(field)s must not contain a user name or password.", field=field), field
        )
    if allow_private:
        return url
    if _is_local_name(host):
        raise InvalidInput(_refusal(host), field)
    try:
        addresses = await resolve(host, port)
    except (OSError, TimeoutError, UnicodeError, ValueError):
        return url  # not resolvable now: checked again (and connected by address) when used
    for address in addresses:
        if not is_public(address):
            raise InvalidInput(_refusal(host, address), field)
    return url


class _CheckedTransport(httpx.AsyncBaseTransport):
    """Resolves each request's host, refuses non-public addresses, connects to the one checked."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        resolver: Callable[[str, int], Awaitable[list[IPAddress]]] | None = None,
        allowed: Callable[[IPAddress], bool] = is_public,
    ) -> None:
        self.inner = inner
        self.resolver = resolver or resolve
        self.allowed = allowed

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if _is_local_name(host):
            raise OutboundRefused(_refusal(host))
        try:
            addresses = await self.resolver(host, request.url.port or _default_port(request.url))
        except (OSError, TimeoutError, UnicodeError, ValueError) as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}", request=request) from exc
        for address in addresses:
            if not self.allowed(address):
                raise OutboundRefused(_refusal(host, address))
        chosen = addresses[0]
        if str(chosen) != host:
            # The same request, sent to the checked address; Host stays the name, and TLS
            # verifies the certificate against the name too (its server name indication).
            request.url = request.url.copy_with(host=str(chosen))
            if request.url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


def outbound_client(*, allow_private: bool, timeout: float | httpx.Timeout) -> httpx.AsyncClient:
    """An HTTP client for URLs hosts gave us: no redirects, no proxies from the environment, and
    (unless ``allow_private``) only public addresses, connected to as checked. Requests to a
    refused address raise ``OutboundRefused``."""
    transport: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(trust_env=False)
    if not allow_private:
        transport = _CheckedTransport(transport)
    return httpx.AsyncClient(
        transport=transport, follow_redirects=False, trust_env=False, timeout=timeout
    )
