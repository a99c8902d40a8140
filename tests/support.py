"""Helpers shared by the test suites: settings, databases, demo data, live servers, slots."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.db.migrate import upgrade
from app.db.models import OutboxMessage
from app.db.session import create_engine, create_sessionmaker
from app.hosts.demo import seed_demo
from app.notify.events import EVENT_KIND
from app.notify.worker import expand_pending_events
from app.settings import Settings
from bench.server import free_port, uvicorn

SECRET = "test-secret-key-0123456789"
BERLIN = ZoneInfo("Europe/Berlin")


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "var_dir": tmp_path,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'test.db'}",
        "secret_keys": (SECRET,),
        "public_url": "http://testserver",
        "book_rate_limit": "1000/minute",
        "slot_rate_limit": "100000/minute",
        "run_worker": False,
    }
    values.update(overrides)
    return Settings(**values)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _with_session(url: str, work: Any) -> Any:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def in_thread(work: Any, *args: Any) -> Any:
    """Run ``work(*args)`` in another thread: sync Playwright keeps an event loop running in the
    test's own, and the database helpers (``with_session``) start one of theirs."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work, *args).result()


def with_session(url: str, work: Any) -> Any:
    """Run ``await work(session)`` against the database at ``url``, from sync test code."""
    return run(_with_session(url, work))


def expand_outbox(settings: Settings) -> int:
    """Turn every due booking event into its outbox messages, delivering nothing.

    A booking's transaction records only the event (``app.notify.events``); call this before
    reading the emails or webhook calls it causes. Returns how many events were attempted.
    """

    async def go() -> int:
        engine = create_engine(settings.database_url)
        try:
            return await expand_pending_events(settings, create_sessionmaker(engine))
        finally:
            await engine.dispose()

    return run(go())


def prepare_database(url: str, demo: bool = True) -> None:
    upgrade(url)
    if demo:
        with_session(url, seed_demo)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    base = os.environ["TEST_DATABASE_URL"]
    name = f"booking_test_{uuid.uuid4().hex[:12]}"
    admin = base.replace("postgresql+asyncpg", "postgresql")
    _psql(admin, f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        _psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _psql(url: str, sql: str) -> None:
    import asyncpg

    async def go() -> None:
        connection = await asyncpg.connect(url.replace("postgresql://", "postgres://"))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    run(go())


@contextmanager
def live_server(
    settings: Settings,
    workers: int = 1,
    env: dict[str, str] | None = None,
    clock_shift: float = 0,
) -> Iterator[str]:
    """Serve the app in a real uvicorn process (or several) and yield its base URL.

    ``clock_shift`` (seconds) runs the server that far in the future (``shifted_clock``)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = {
        "VAR_DIR": str(settings.var_dir),
        "DATABASE_URL": settings.database_url,
        "SECRET_KEYS": ",".join(settings.secret_keys),
        "PUBLIC_URL": base_url,
        "BOOK_RATE_LIMIT": settings.book_rate_limit,
        "SLOT_RATE_LIMIT": settings.slot_rate_limit,
        "REDIS_URL": settings.redis_url,
        "SMTP_URL": settings.smtp_url,
        "RUN_WORKER": "1" if settings.run_worker else "0",
        "TRUSTED_PROXIES": ",".join(settings.trusted_proxies),
        "ALLOW_PRIVATE_URLS": "1" if settings.allow_private_urls else "0",
        **(env or {}),
    }
    target = "app.asgi:app_from_env"
    if clock_shift:
        target = "shifted_clock:app_from_env"
        tests = str(Path(__file__).parent)
        python_path = os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH")) if p)
        environment.update(SHIFT_CLOCK_SECONDS=str(clock_shift), PYTHONPATH=python_path)
    log = settings.var_dir / f"server-{port}.log"
    with uvicorn(target, environment, log, factory=True, workers=workers, port=port) as url:
        yield url


def next_weekday(days_ahead: int = 3, today: date | None = None) -> date:
    """A Monday-to-Friday date at least ``days_ahead`` days from today (demo hosts work then)."""
    day = (today or datetime.now(UTC).date()) + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def demo_slot(
    day: date | None = None, hour: int = 10, minute: int = 0, minutes: int = 30
) -> tuple[str, str]:
    """startTime/endTime (UTC, ``…Z``) of a slot the demo host offers: Berlin wall clock."""
    day = day or next_weekday()
    start = datetime.combine(day, dtime(hour, minute), BERLIN).astimezone(UTC)
    end = start + timedelta(minutes=minutes)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")


PUBLIC_API = "/api/public/scheduling"


def book(
    client: Any, event: str = "30min", hour: int = 10, *, day: date | None = None, **overrides: Any
) -> dict[str, Any]:
    """Book a demo slot through the public API (``client``: a TestClient or an ``httpx.Client``
    with a base URL); asserts 201 and returns the booking. ``intro`` is 15 minutes and asks for a
    company, which is filled in unless given."""
    minutes = 15 if event == "intro" else 30
    if event == "intro":
        overrides.setdefault("customFields", {"company": "Acme Inc."})
    start, end = demo_slot(day or next_weekday(), hour, minutes=minutes)
    response = client.post(
        f"{PUBLIC_API}/demo/{event}/book", json=booking_body(start, end, **overrides)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def outbox(
    settings: Settings, kind: str | None = None, *, uid: str | None = None, expand: bool = True
) -> list[OutboxMessage]:
    """The outbox's emails and webhook calls (or its rows of ``kind``, ``EVENT_KIND`` included),
    oldest first, optionally of one booking. The booking events are expanded first unless
    ``expand`` is false (to see the outbox exactly as the worker left it)."""
    if expand:
        expand_outbox(settings)

    async def work(session: Any) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is None:
            query = query.where(OutboxMessage.kind != EVENT_KIND)
        else:
            query = query.where(OutboxMessage.kind == kind)
        if uid is not None:
            query = query.where(OutboxMessage.booking_uid == uid)
        return list(await session.scalars(query))

    return list(with_session(settings.database_url, work))


WEBHOOK_SECRET = "whsec-test-0123456789"


def subscribe(
    settings: Settings,
    url: str,
    triggers: tuple[str, ...] = ("BOOKING_CREATED",),
    *,
    secret: str = WEBHOOK_SECRET,
    active: bool = True,
) -> int:
    """Subscribe ``url`` to the demo host's ``triggers`` through the webhook service; its id."""
    from app.hosts.service import host_by_slug
    from app.hosts.webhooks import create_webhook

    async def work(session: Any) -> int:
        host = await host_by_slug(session, "demo")
        fields = {"subscriber_url": url, "triggers": list(triggers), "secret": secret}
        created = await create_webhook(session, settings, host, {**fields, "active": active})
        return created.webhook.id

    return int(with_session(settings.database_url, work))


def booking_body(start: str, end: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "startTime": start,
        "endTime": end,
        "inviteeName": "Alex Johnson",
        "inviteeEmail": "alex@example.com",
        "inviteeTimezone": "America/New_York",
        "inviteeLocale": "en",
    }
    body.update(overrides)
    return body
