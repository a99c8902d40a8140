"""Infrastructure faults answer 503 with Retry-After, in each part's shape, and pass by themselves.

Nothing here stops the machine's PostgreSQL or Redis: PostgreSQL is "unreachable" behind a closed
port, and "back" when a small TCP forwarder starts listening there; the disk is "full" through
a small filesystem of its own that the test fills; the lock is held by a second connection; the
Redis that is stopped is one this test started.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import host_api_support
import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from app.db.models import Booking
from app.db.session import create_engine, create_sessionmaker
from app.hosts.service import create_api_key
from app.main import create_app
from app.notify.worker import OutboxWorker, WorkerOptions
from app.web import rate_store
from support import (
    booking_body,
    demo_slot,
    free_port,
    make_settings,
    next_weekday,
    prepare_database,
    with_session,
)

API = "/api/public/scheduling"
UNAVAILABLE = "The service is briefly unavailable. Please try again in a few seconds."


class Forwarder:
    """Listens on ``port`` and pipes every connection to ``target``; ``stop`` cuts them all."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", port))
        self.sockets: list[socket.socket] = []
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.running = False
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self.listener.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@contextmanager
def forwarding(port: int) -> Iterator[None]:
    forwarder = Forwarder(port, ("127.0.0.1", 5432))
    try:
        yield
    finally:
        forwarder.stop()


def behind_port(pg_url: str, port: int) -> str:
    return pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")


def count_bookings(url: str) -> int:
    async def work(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(Booking)))

    return int(with_session(url, work))


def post_booking(client: TestClient, hour: int) -> Any:  # type: ignore[type-arg]
    start, end = demo_slot(next_weekday(), hour)
    return client.post(f"{API}/demo/30min/book", json=booking_body(start, end))


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"


def test_postgresql_out_of_reach_answers_503_in_every_shape_then_recovers(pg_url, tmp_path):
    key = with_session(pg_url, lambda s: create_api_key(s, "demo"))
    port = free_port()
    settings = make_settings(tmp_path, database_url=behind_port(pg_url, port))
    day = next_weekday().isoformat()
    with TestClient(app=create_app(settings)) as client:
        public = client.get(f"{API}/demo")
        assert_unavailable(public)
        assert public.json() == {"error": UNAVAILABLE}
        v2 = client.get("/v2/me", headers=host_api_support.auth(key))
        assert_unavailable(v2)
        assert v2.json() == {"status": "error", "message": UNAVAILABLE}
        page = client.get("/demo/30min")
        assert_unavailable(page)
        assert page.headers["content-type"].startswith("text/html")
        assert UNAVAILABLE in page.text and "Try again" in page.text
        fragment = client.get(
            "/demo/30min/slots", params={"date": day}, headers={"HX-Request": "true"}
        )
        assert_unavailable(fragment)
        assert fragment.text.startswith("<div class='alert' role='alert'>")
        assert UNAVAILABLE in fragment.text and "<html" not in fragment.text
        assert_unavailable(post_booking(client, 9))

        with forwarding(port):
            assert client.get(f"{API}/demo").status_code == 200
            assert post_booking(client, 10).status_code == 201
        assert_unavailable(client.get(f"{API}/demo"))  # cut again: the pool notices
        with forwarding(port):
            assert post_booking(client, 11).status_code == 201
    assert count_bookings(pg_url) == 2  # nothing half-written by the refused ones


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB filesystem of its own (tmpfs), so that it can be filled up; needs root."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``; delete the returned file to make room again."""
    filler = disk / "filler"
    with filler.open("wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    return filler


def test_a_full_disk_answers_503_and_writes_nothing_until_there_is_room(small_disk):
    settings = make_settings(small_disk)
    prepare_database(settings.database_url)
    path = settings.database_url.split("///", 1)[1]
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every write needs new space
    with TestClient(app=create_app(settings)) as client:
        filler = fill(small_disk)
        for hour in (9, 10, 11):
            assert_unavailable(post_booking(client, hour))
        filler.unlink()  # room again
        assert post_booking(client, 9).status_code == 201
    assert count_bookings(settings.database_url) == 1


def test_a_held_sqlite_lock_answers_503_after_the_lock_timeout(settings, tmp_path):
    quick = dataclasses.replace(settings, db_lock_timeout=0.5)
    key = with_session(settings.database_url, lambda s: create_api_key(s, "demo"))
    holder = sqlite3.connect(settings.database_url.split("///", 1)[1], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with TestClient(app=create_app(quick)) as client:
            started = time.monotonic()
            assert_unavailable(post_booking(client, 9))
            assert time.monotonic() - started < 5
            body = {"start": demo_slot(hour=10)[0], "eventTypeSlug": "30min", "username": "demo"}
            body["attendee"] = host_api_support.ATTENDEE
            v2 = client.post("/v2/bookings", json=body, headers=host_api_support.auth(key))
            assert_unavailable(v2)
            assert v2.json()["status"] == "error"
            slots = client.get(
                f"{API}/demo/30min/slots",
                params={
                    "dateFrom": next_weekday().isoformat(),
                    "dateTo": next_weekday().isoformat(),
                    "timezone": "UTC",
                },
            )
            assert slots.status_code == 200  # readers do not wait for the writer
            holder.execute("ROLLBACK")
            assert post_booking(client, 9).status_code == 201
    finally:
        holder.close()
    assert count_bookings(settings.database_url) == 1


@contextmanager
def recorded(name: str) -> Iterator[list[logging.LogRecord]]:
    """The records logged by ``name`` inside the block (the app configures the root's handlers
    itself, which pytest's caplog relies on)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A throwaway redis-server of this test's own (the machine's Redis is never touched)."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed (`make redis-server`)")
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(10)


def test_redis_down_falls_back_to_a_per_process_limit_with_one_warning(settings, monkeypatch):
    monkeypatch.setattr(rate_store, "RETRY_SECONDS", 0.2)
    port = free_port()
    limited = dataclasses.replace(
        settings, redis_url=f"redis://127.0.0.1:{port}/0", book_rate_limit="3/minute"
    )
    bad = {"startTime": "nope"}  # a cheap 400, counted all the same
    with redis_server(port), TestClient(app=create_app(limited)) as client:
        codes = [client.post(f"{API}/demo/30min/book", json=bad).status_code for _ in range(4)]
        assert codes == [400, 400, 400, 429]
    # Redis stopped: the limit moves to this process (a fresh count), nothing fails.
    with recorded("app.web") as records, TestClient(app=create_app(limited)) as client:
        codes = [client.post(f"{API}/demo/30min/book", json=bad).status_code for _ in range(5)]
        assert codes == [400, 400, 400, 429, 429]
        warnings = [r.getMessage() for r in records if "Redis" in r.getMessage()]
        assert len(warnings) == 1 and "count per process" in warnings[0]
        with redis_server(port):
            deadline = time.monotonic() + 10
            while not [r for r in records if "Redis is back" in r.getMessage()]:
                assert time.monotonic() < deadline, [r.getMessage() for r in records]
                time.sleep(0.1)
                assert client.post(f"{API}/demo/30min/book", json=bad).status_code in (400, 429)
            back = [r.getMessage() for r in records if "Redis is back" in r.getMessage()]
            assert len(back) == 1


def test_the_worker_logs_an_outage_once_and_its_end(pg_url, tmp_path, caplog):
    port = free_port()
    url = behind_port(pg_url, port)

    async def run() -> None:
        engine = create_engine(url)
        worker = OutboxWorker(
            make_settings(tmp_path, database_url=url),
            create_sessionmaker(engine),
            WorkerOptions(poll_seconds=0.02),
        )
        task = asyncio.create_task(worker.run_forever())
        try:
            await asyncio.sleep(1.5)
            with forwarding(port):
                deadline = time.monotonic() + 10
                while not any("working again" in r.message for r in caplog.records):
                    assert time.monotonic() < deadline, "the worker did not come back"
                    await asyncio.sleep(0.05)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await engine.dispose()

    with caplog.at_level(logging.INFO, logger="app.notify"):
        asyncio.run(run())
    lines = [r for r in caplog.records if r.name == "app.notify" and r.levelno >= logging.WARNING]
    assert [("unavailable" in r.message, "working again" in r.message) for r in lines] == [
        (True, False),
        (False, True),
    ]
    assert all(r.exc_info is None for r in lines)  # no tracebacks
