"""Many guests, many server processes, one slot: exactly one booking, and no 500.

Real uvicorn processes (tests/support.live_server) and a burst of concurrent POSTs, so the
locking is exercised across processes and connections, as in production.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.bookings.errors import SLOT_TAKEN
from app.db.models import HELD_STATUSES, Booking, EventType, Host
from app.settings import Settings
from support import booking_body, demo_slot, live_server, make_settings, next_weekday, with_session

pytestmark = pytest.mark.xdist_group("servers")

BASE = "/api/public/scheduling"

Request = tuple[str, str, str, str]  # base URL, event slug, startTime, endTime


async def burst(requests: list[Request]) -> list[httpx.Response]:
    """Send every request at once, each on its own connection."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        return await asyncio.gather(
            *(
                client.post(
                    f"{url}{BASE}/demo/{event}/book",
                    json=booking_body(start, end, inviteeEmail=f"guest{i}@example.com"),
                )
                for i, (url, event, start, end) in enumerate(requests)
            )
        )


def held_bookings(database_url: str) -> list[tuple[datetime, datetime]]:
    async def work(session: Any) -> list[tuple[datetime, datetime]]:
        query = select(Booking.held_start, Booking.held_end).where(
            Booking.status.in_(HELD_STATUSES)
        )
        return [(row[0], row[1]) for row in (await session.execute(query)).all()]

    return list(with_session(database_url, work))


def assert_one_winner(responses: list[httpx.Response], database_url: str) -> None:
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 1, 400: len(responses) - 1}, codes
    for response in responses:
        if response.status_code == 400:
            assert response.json() == {"error": SLOT_TAKEN}
    assert len(held_bookings(database_url)) == 1


def assert_logs_clean(var_dir: Path) -> None:
    """No request may have hit "database is locked" or any other unhandled error."""
    for log in var_dir.glob("server-*.log"):
        text = log.read_text()
        assert "database is locked" not in text
        assert "Traceback" not in text


def test_sqlite_two_workers_forty_guests_one_slot(settings: Settings):
    start, end = demo_slot(hour=10)
    with live_server(settings, workers=2) as url:
        responses = asyncio.run(burst([(url, "30min", start, end)] * 40))
    assert_one_winner(responses, settings.database_url)
    assert_logs_clean(settings.var_dir)


def add_buffered_event_type(database_url: str) -> None:
    """30-minute meetings every 15 minutes, each holding 15 more minutes after it."""

    async def work(session: Any) -> None:
        host = (await session.scalars(select(Host).where(Host.slug == "demo"))).one()
        session.add(
            EventType(
                host_id=host.id,
                slug="buffered",
                title="Buffered",
                duration_minutes=30,
                slot_interval_minutes=15,
                buffer_after_minutes=15,
            )
        )
        await session.commit()

    with_session(database_url, work)


def held(event: str, start: str) -> tuple[datetime, datetime]:
    begin = datetime.fromisoformat(start)
    return begin, begin + timedelta(minutes=45 if event == "buffered" else 30)


def test_sqlite_overlapping_slots_with_buffers_never_overlap(settings: Settings):
    add_buffered_event_type(settings.database_url)
    day = next_weekday()
    wanted = [("buffered", 10, m) for m in (0, 15, 30, 45)]
    wanted += [("buffered", 11, 0), ("30min", 10, 0), ("30min", 10, 30), ("30min", 11, 0)]
    with live_server(settings, workers=2) as url:
        requests = [
            (url, event, *demo_slot(day, hour, minute)) for event, hour, minute in wanted
        ] * 6
        responses = asyncio.run(burst(requests))

    won = []
    for (_, event, start, _), response in zip(requests, responses, strict=True):
        if response.status_code == 201:
            won.append(held(event, start))
        else:
            assert response.status_code == 400
            assert response.json() == {"error": SLOT_TAKEN}
    won.sort()
    assert all(a[1] <= b[0] for a, b in pairwise(won)), won
    stored = sorted(
        (s.astimezone(UTC), e.astimezone(UTC)) for s, e in held_bookings(settings.database_url)
    )
    assert stored == won
    # Nobody was turned away for nothing: every slot asked for overlaps one that was booked.
    for _, event, start, _ in requests:
        mine = held(event, start)
        assert any(mine[0] < theirs[1] and theirs[0] < mine[1] for theirs in won)
    assert_logs_clean(settings.var_dir)


def test_postgresql_three_servers_sixty_guests_one_slot(pg_url: str, tmp_path: Path):
    settings = make_settings(tmp_path, database_url=pg_url)
    start, end = demo_slot(hour=14)
    with ExitStack() as stack:
        urls = [stack.enter_context(live_server(settings)) for _ in range(3)]
        responses = asyncio.run(burst([(urls[i % 3], "30min", start, end) for i in range(60)]))
    assert_one_winner(responses, pg_url)
    assert_logs_clean(tmp_path)
