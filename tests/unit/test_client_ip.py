"""Forwarded headers are believed from TRUSTED_PROXIES only, and read from the right."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.settings import Settings
from app.web.client_ip import TrustedProxies, forwarded_headers

PROXIES = TrustedProxies(("10.0.0.0/8", "fd00::/8", "127.0.0.1"))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # not a proxy: its header is ignored
        ("10.0.0.2", "", "10.0.0.2"),  # the proxy's own request
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "192.0.2.66, 198.51.100.1", "198.51.100.1"),  # a client's own claim skipped
        ("10.0.0.2", "198.51.100.1, 10.0.0.9", "198.51.100.1"),  # two proxies deep
        ("10.0.0.2", "198.51.100.1,10.0.0.9 , 10.1.2.3", "198.51.100.1"),
        ("10.0.0.2", "unknown", "10.0.0.2"),  # not an address: the header is worthless
        ("10.0.0.2", "198.51.100.1, garbage, 10.0.0.9", "10.0.0.2"),
        ("10.0.0.2", "198.51.100.1:4711", "198.51.100.1"),  # a port appended
        ("10.0.0.2", "[2001:db8::7]:443", "2001:db8::7"),
        ("fd00::1", "2001:db8::7", "2001:db8::7"),
        ("127.0.0.1", "2001:db8::7", "2001:db8::7"),
        ("testclient", "198.51.100.1", "testclient"),  # a peer that is not an address
    ],
)
def test_the_client_is_the_first_untrusted_address_from_the_right(peer, forwarded_for, client):
    assert PROXIES.client(peer, forwarded_for) == client


@pytest.mark.parametrize(
    ("peer", "proto", "current", "scheme"),
    [
        ("10.0.0.2", "https", "http", "https"),
        ("10.0.0.2", "HTTPS", "http", "https"),
        ("10.0.0.2", "http, https", "http", "https"),  # the nearest proxy said last
        ("10.0.0.2", "https", "ws", "wss"),
        ("10.0.0.2", "gopher", "http", "http"),  # not a scheme we serve: ignored
        ("10.0.0.2", "", "http", "http"),
        ("203.0.113.5", "https", "http", "http"),  # not a proxy: ignored
    ],
)
def test_the_scheme_is_the_trusted_proxys(peer, proto, current, scheme):
    assert PROXIES.scheme(peer, proto, current) == scheme


def run_through(trusted: tuple[str, ...], peer: str, headers: list[tuple[bytes, bytes]]):
    seen: dict[str, Any] = {}

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.update(client=scope["client"], scheme=scope["scheme"])

    scope = {"type": "http", "scheme": "http", "client": (peer, 5123), "headers": headers}
    asyncio.run(forwarded_headers(trusted)(app)(scope, None, None))  # type: ignore[arg-type]
    return seen


def test_the_middleware_rewrites_client_and_scheme_for_a_trusted_proxy():
    headers = [(b"x-forwarded-for", b"198.51.100.1"), (b"x-forwarded-proto", b"https")]
    assert run_through(("10.0.0.0/8",), "10.0.0.2", headers) == {
        "client": ("198.51.100.1", 0),
        "scheme": "https",
    }


def test_the_middleware_reads_every_line_of_a_repeated_header():
    headers = [(b"x-forwarded-for", b"192.0.2.66"), (b"x-forwarded-for", b"198.51.100.1")]
    assert run_through(("10.0.0.0/8",), "10.0.0.2", headers)["client"][0] == "198.51.100.1"


def test_the_middleware_leaves_other_peers_and_unset_proxies_alone():
    headers = [(b"x-forwarded-for", b"198.51.100.1"), (b"x-forwarded-proto", b"https")]
    untouched = {"client": ("203.0.113.5", 5123), "scheme": "http"}
    assert run_through(("10.0.0.0/8",), "203.0.113.5", headers) == untouched
    assert run_through((), "203.0.113.5", headers) == untouched


def test_trusted_proxies_must_be_addresses_or_networks():
    settings = Settings.from_env({"VAR_DIR": "/tmp", "TRUSTED_PROXIES": " 10.0.0.0/8 , ::1 "})
    assert settings.trusted_proxies == ("10.0.0.0/8", "::1")
    with pytest.raises(ValueError, match="'localhost' is not an IP address or network"):
        Settings.from_env({"VAR_DIR": "/tmp", "TRUSTED_PROXIES": "localhost"})
