"""Outbound calls stay outside the network when they are made, not only when a URL is saved:
the worker checks the address again, connects to the address it checked, follows no redirects."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from app.main import create_app
from app.net import OutboundRefused, _CheckedTransport, outbound_client
from support import book, outbox, subscribe

pytest_plugins = ("receivers",)


@pytest.fixture
def redirecting() -> Iterator[dict[str, Any]]:
    """A local server that answers every POST with a redirect to ``/elsewhere``, and records
    the paths and Host headers it was asked for."""
    seen: dict[str, Any] = {"paths": [], "hosts": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            seen["paths"].append(self.path)
            seen["hosts"].append(self.headers["host"])
            self.send_response(302 if self.path != "/elsewhere" else 200)
            self.send_header("location", "/elsewhere")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    seen["port"] = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_webhook_saved_while_allowed_is_refused_at_delivery(settings, receiver, drain):
    """The address is checked again when the call is made (a name may point elsewhere now)."""
    subscribe(dataclasses.replace(settings, allow_private_urls=True), receiver.url)
    with TestClient(app=create_app(settings)) as client:
        book(client)
    drain(settings)
    [row] = outbox(settings, "webhook")
    assert row.delivered_at is None and row.attempts == 1
    assert "OutboundRefused" in row.last_error and "127.0.0.1" in row.last_error
    assert receiver.hooks == []


def test_the_connection_goes_to_the_address_that_was_checked(redirecting):
    """The name is resolved once, by the transport, and the request sent to that address with
    the name as its Host: a second, different DNS answer is never asked for."""
    answers = [ipaddress.ip_address("127.0.0.1")]
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[Any]:
        asked.append(host)
        return answers

    async def post() -> httpx.Response:
        transport = _CheckedTransport(httpx.AsyncHTTPTransport(), resolver, allowed=lambda a: True)
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.post(f"http://hooks.example.test:{redirecting['port']}/hook")

    response = asyncio.run(post())
    assert response.status_code == 302  # not followed
    assert asked == ["hooks.example.test"]
    assert redirecting["paths"] == ["/hook"]
    assert redirecting["hosts"] == [f"hooks.example.test:{redirecting['port']}"]


def test_a_name_that_now_resolves_inside_is_refused_before_connecting(redirecting):
    async def resolver(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("127.0.0.1")]

    async def post() -> None:
        transport = _CheckedTransport(httpx.AsyncHTTPTransport(), resolver)
        async with httpx.AsyncClient(transport=transport) as client:
            await client.post(f"http://rebind.example.test:{redirecting['port']}/hook")

    with pytest.raises(OutboundRefused, match=r"resolves to 127\.0\.0\.1"):
        asyncio.run(post())
    assert redirecting["paths"] == []


def test_the_outbound_client_follows_no_redirects(redirecting):
    async def post() -> httpx.Response:
        async with outbound_client(allow_private=True, timeout=5) as client:
            return await client.post(f"http://127.0.0.1:{redirecting['port']}/hook")

    assert asyncio.run(post()).status_code == 302
    assert redirecting["paths"] == ["/hook"]

    async def refused() -> None:
        async with outbound_client(allow_private=False, timeout=5) as client:
            await client.post(f"http://localhost:{redirecting['port']}/hook")

    with pytest.raises(OutboundRefused):
        asyncio.run(refused())
    assert redirecting["paths"] == ["/hook"]
