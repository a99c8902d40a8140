"""One slow receiver cannot hold up anyone else: deliveries run side by side, at most two at once
per webhook host, each within a short timeout; leases are short and renewed while a delivery
runs; a worker that stops gives its rows back at once."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from app.db.models import OutboxMessage
from app.db.session import create_engine, create_sessionmaker
from app.hosts.event_types import create_event_type
from app.hosts.service import create_host
from app.main import create_app
from app.notify.worker import OutboxWorker, WorkerOptions
from support import book, booking_body, expand_outbox, next_weekday, subscribe, with_session

pytest_plugins = ("receivers",)


class SlowReceiver:
    """A webhook endpoint that holds every request until ``release`` is set, counting how many
    it holds at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.holding = 0
        self.most_at_once = 0
        self.ids: list[str] = []
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with state.lock:
                    state.ids.append(self.headers["x-booking-delivery"])
                    state.holding += 1
                    state.most_at_once = max(state.most_at_once, state.holding)
                state.release.wait(30)
                with state.lock:
                    state.holding -= 1
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow() -> Iterator[SlowReceiver]:
    receiver = SlowReceiver()
    try:
        yield receiver
    finally:
        receiver.close()


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, allow_private_urls=True)


def add_second_host(settings) -> None:
    async def work(session: Any) -> None:
        host = await create_host(
            session, "other", name="Olga Other", email="olga@example.com", timezone="UTC"
        )
        await create_event_type(
            session, host, {"title": "Call", "slug": "call", "length_in_minutes": 30}
        )

    with_session(settings.database_url, work)


def book_other(client: Any, day: date, hour: int) -> None:
    start, end = f"{day}T{hour:02d}:00:00Z", f"{day}T{hour:02d}:30:00Z"
    body = booking_body(start, end, inviteeEmail=f"guest{hour}@example.com")
    response = client.post("/api/public/scheduling/other/call/book", json=body)
    assert response.status_code == 201, response.text


async def rows_of(engine: Any) -> list[OutboxMessage]:
    async with create_sessionmaker(engine)() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def all_delivered(engine: Any, kinds: tuple[str, ...] = ("email", "webhook")) -> bool:
    return all(r.delivered_at for r in await rows_of(engine) if r.kind in kinds)


def test_a_slow_receiver_does_not_delay_another_hosts_emails(settings, smtp, slow):
    mailbox, smtp_url = smtp
    settings = dataclasses.replace(settings, smtp_url=smtp_url)
    add_second_host(settings)
    subscribe(settings, slow.url)
    day = next_weekday()
    with TestClient(app=create_app(settings)) as client:
        for hour in (9, 10, 11, 12):
            book(client, hour=hour, inviteeEmail=f"demo{hour}@example.com")
        for hour in (10, 11):
            book_other(client, day, hour)
    expand_outbox(settings)
    other_mail = {"guest10@example.com", "guest11@example.com", "olga@example.com"}

    async def run() -> float:
        engine = create_engine(settings.database_url)
        worker = OutboxWorker(
            settings, create_sessionmaker(engine), WorkerOptions(poll_seconds=0.1)
        )
        task = asyncio.create_task(worker.run_forever())
        started = time.monotonic()
        try:
            while not other_mail <= {str(m["To"]) for m in mailbox.messages}:
                assert time.monotonic() - started < 8, "another host's emails waited"
                await asyncio.sleep(0.05)
            took = time.monotonic() - started
            assert slow.holding == 2 and slow.ids  # the slow webhooks are still held, two at once
            slow.release.set()
            while not await all_delivered(engine):
                assert time.monotonic() - started < 20, "the webhooks were not delivered"
                await asyncio.sleep(0.05)
            return took
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await engine.dispose()

    took = asyncio.run(run())
    assert took < 8
    assert slow.most_at_once == 2  # the per-destination limit
    assert sorted(set(slow.ids)) == sorted(slow.ids) and len(slow.ids) == 4
    assert len(mailbox.messages) == 4 * 2 + 2 * 2  # guest and host emails of six bookings


def test_a_delivery_longer_than_the_lease_is_not_taken_by_a_second_worker(settings, slow):
    """The lease is short (here 1.5 s; shorter ones trip over a busy machine's pauses) but renewed
    while the call runs: a second worker polling all along never claims the row; the receiver
    sees one call."""
    subscribe(settings, slow.url)
    with TestClient(app=create_app(settings)) as client:
        book(client)
    expand_outbox(settings)

    async def run() -> None:
        engines = [create_engine(settings.database_url) for _ in range(2)]
        options = WorkerOptions(poll_seconds=0.05, lease_seconds=1.5)
        workers = [OutboxWorker(settings, create_sessionmaker(e), options) for e in engines]
        tasks = [asyncio.create_task(w.run_forever()) for w in workers]
        try:
            await asyncio.sleep(5)  # more than three leases long
            slow.release.set()
            while not await all_delivered(engines[0]):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for engine in engines:
                await engine.dispose()

    asyncio.run(run())
    assert len(slow.ids) == 1


def test_a_stopped_worker_gives_its_rows_back_at_once(settings, slow):
    """Cancelled (the server shuts down) while a call is in flight: the row is free for another
    worker straight away, not after its lease."""
    subscribe(settings, slow.url)
    with TestClient(app=create_app(settings)) as client:
        book(client)
    expand_outbox(settings)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        options = WorkerOptions(poll_seconds=0.05, lease_seconds=60)
        worker = OutboxWorker(settings, create_sessionmaker(engine), options)
        task = asyncio.create_task(worker.run_forever())
        try:
            while not slow.ids:  # noqa: ASYNC110 (another thread's list)
                await asyncio.sleep(0.02)
            [webhook] = [r for r in await rows_of(engine) if r.kind == "webhook"]
            assert webhook.locked_by == worker.worker_id and webhook.locked_until is not None
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            [webhook] = [r for r in await rows_of(engine) if r.kind == "webhook"]
            assert (webhook.locked_until, webhook.locked_by, webhook.delivered_at) == (
                None,
                "",
                None,
            )
            slow.release.set()
            assert await OutboxWorker(settings, create_sessionmaker(engine), options).run_once()
            assert await all_delivered(engine)
        finally:
            task.cancel()
            await engine.dispose()

    asyncio.run(run())
    assert len(slow.ids) == 2 and len(set(slow.ids)) == 1  # the same call again, same id
