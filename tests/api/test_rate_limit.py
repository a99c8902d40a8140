"""The booking rate limit: shared by every process through Redis, keyed by the real client IP.

Without ``REDIS_URL`` each server process keeps its own counts in memory, so N processes let a
client through N times the limit; with it they share one count. ``X-Forwarded-For`` is believed
only from ``TRUSTED_PROXIES``, so a client cannot reset its limit by sending that header itself.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
import redis
from litestar.testing import TestClient

from app.main import create_app
from app.settings import Settings
from support import booking_body, demo_slot, live_server, next_weekday

pytestmark = pytest.mark.xdist_group("servers")

BOOK = "/api/public/scheduling/demo/30min/book"
NAMESPACE = "booking-rate-limit"  # the RedisStore namespace app/main.py uses


SLOTS = itertools.count()


def body() -> dict[str, str]:
    """A booking of a demo half hour not asked for before, so that none fails for being taken."""
    i = next(SLOTS)
    day = next_weekday(3 + 7 * (i // 16))
    return booking_body(*demo_slot(day, 9 + i % 16 // 2, 30 * (i % 2)))


def flush(client: redis.Redis) -> None:
    for key in client.scan_iter(f"{NAMESPACE}*"):
        client.delete(key)


@pytest.fixture
def shared_redis(redis_url: str) -> Iterator[tuple[str, redis.Redis]]:
    """TEST_REDIS_URL's database (one per checkout running tests); its rate-limit keys are
    flushed around the test."""
    url = redis_url
    client = redis.Redis.from_url(url)
    flush(client)
    try:
        yield url, client
    finally:
        flush(client)
        client.close()


def two_servers(stack: ExitStack, settings: Settings) -> list[str]:
    return [stack.enter_context(live_server(settings)) for _ in range(2)]


def test_redis_shares_the_limit_between_processes(settings: Settings, shared_redis):
    url, client = shared_redis
    settings = dataclasses.replace(settings, book_rate_limit="15/minute", redis_url=url)
    with ExitStack() as stack:
        servers = two_servers(stack, settings)
        codes = [httpx.post(servers[i % 2] + BOOK, json=body()).status_code for i in range(16)]
    assert [c for c in codes[:15] if c == 429] == []
    assert codes[15] == 429
    assert any(key.startswith(NAMESPACE.encode()) for key in client.scan_iter(f"{NAMESPACE}*"))


def test_without_redis_each_process_counts_alone(settings: Settings):
    settings = dataclasses.replace(settings, book_rate_limit="15/minute", redis_url="")
    with ExitStack() as stack:
        first, second = two_servers(stack, settings)
        codes = [httpx.post(first + BOOK, json=body()).status_code for i in range(15)]
        assert 429 not in codes
        assert httpx.post(first + BOOK, json=body()).status_code == 429
        # The second process has not seen this client yet: documented, and why REDIS_URL exists.
        assert httpx.post(second + BOOK, json=body()).status_code == 201


def statuses(base_url: str, forwarded_for: list[str | None]) -> list[int]:
    codes = []
    for value in forwarded_for:
        headers = {"X-Forwarded-For": value} if value else {}
        codes.append(httpx.post(base_url + BOOK, json=body(), headers=headers).status_code)
    return codes


def test_forwarded_for_is_ignored_without_trusted_proxies(settings: Settings):
    settings = dataclasses.replace(settings, book_rate_limit="3/minute")
    spoofed: list[str | None] = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]
    with live_server(settings) as url:
        assert statuses(url, spoofed) == [201, 201, 201, 429]


def test_forwarded_for_from_an_untrusted_peer_is_ignored_in_process(settings: Settings):
    # The in-process client's peer is "testclient", which no proxy list can match.
    settings = dataclasses.replace(
        settings, book_rate_limit="3/minute", trusted_proxies=("127.0.0.1",)
    )
    with TestClient(app=create_app(settings)) as client:
        codes = [
            client.post(BOOK, json=body(), headers={"X-Forwarded-For": f"198.51.100.{i}"})
            for i in range(4)
        ]
    assert [r.status_code for r in codes] == [201, 201, 201, 429]


def test_trusted_proxy_clients_are_limited_separately(settings: Settings):
    settings = dataclasses.replace(
        settings, book_rate_limit="3/minute", trusted_proxies=("127.0.0.1",)
    )
    alice, bob = "203.0.113.10", "203.0.113.20"
    with live_server(settings) as url:
        assert statuses(url, [alice] * 4) == [201, 201, 201, 429]
        # Another client behind the same proxy has its own count...
        assert statuses(url, [bob]) == [201]
        # ...and Alice cannot escape hers by putting a made-up address before the one the proxy
        # appended: the rightmost untrusted hop is the client.
        assert statuses(url, [f"192.0.2.99, {alice}"]) == [429]
        # The proxy's own requests (no header) are its own client.
        assert statuses(url, [None]) == [201]


def test_ipv6_clients_count_by_their_64_and_forwarded_values_that_are_no_ip_are_ignored(
    settings: Settings,
):
    settings = dataclasses.replace(
        settings, book_rate_limit="3/minute", trusted_proxies=("127.0.0.1",)
    )
    with live_server(settings) as url:
        # One subscriber holds a whole /64: a new address inside it does not reset the count.
        inside = ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:aaaa::3", "2001:db8:1:2::4"]
        assert statuses(url, inside) == [201, 201, 201, 429]
        assert statuses(url, ["2001:db8:1:3::1"]) == [201]  # the next /64 is someone else
        # A forwarded value that is no IP address is not believed: the proxy itself is counted.
        assert statuses(url, ["not-an-ip", "also-not", "still-not", "nope"]) == [201] * 3 + [429]
        assert statuses(url, [None]) == [429]
