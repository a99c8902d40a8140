"""The benchmark's data: a host with 500 confirmed bookings over the next three months.

Rows are written with the SQLAlchemy models directly (no service, no HTTP), so seeding is quick
and the server under test starts on a database that looks like a busy host's.

Host ``bench`` (Europe/Berlin, Monday to Friday 09:00-17:00) has:
- ``30min``: the event type whose slots and pages are measured; about half its slots over the
  next three months are taken by the 500 seeded bookings, spread at random (fixed seed);
- ``quick``: 15-minute meetings on a round-the-clock schedule of its own, only so that the
  booking benchmark has tens of thousands of distinct free slots to book, one per request.
  It shares the host, so each new booking is checked against the seeded ones too.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import CONFIRMED, Booking, EventType, Schedule, ScheduleInterval
from app.hosts.service import create_host

HOST = "bench"
EVENT = "30min"
QUICK = "quick"
BOOKINGS = 500
DAYS = 91
BERLIN = ZoneInfo("Europe/Berlin")

Span = tuple[datetime, datetime]


def working_slots(first: date, days: int) -> list[Span]:
    """Every 30-minute slot of Monday-Friday 09:00-17:00 Berlin time in ``days`` from ``first``."""
    slots = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for half_hour in range(16):
            start = datetime.combine(day, time(9), BERLIN) + timedelta(minutes=30 * half_hour)
            slots.append((start.astimezone(UTC), (start + timedelta(minutes=30)).astimezone(UTC)))
    return slots


async def seed(session: AsyncSession, today: date) -> list[Span]:
    """Create the bench host and its bookings; return the ranges the bookings hold."""
    host = await create_host(
        session, HOST, name="Bench Host", email="bench@example.com", timezone="Europe/Berlin"
    )
    around_the_clock = Schedule(host_id=host.id, name="Always", timezone="UTC")
    around_the_clock.intervals = [
        ScheduleInterval(weekday=day, start_minute=0, end_minute=1440) for day in range(7)
    ]
    session.add(around_the_clock)
    await session.flush()
    meeting = EventType(
        host_id=host.id,
        slug=EVENT,
        title="30 minute meeting",
        duration_minutes=30,
        booking_window_days=120,
    )
    quick = EventType(
        host_id=host.id,
        slug=QUICK,
        title="Quick call",
        duration_minutes=15,
        schedule_id=around_the_clock.id,
        booking_window_days=365,
    )
    session.add_all([meeting, quick])
    await session.flush()

    taken = sorted(
        random.Random(20261122).sample(working_slots(today + timedelta(days=1), DAYS), BOOKINGS)
    )
    now = datetime.now(UTC)
    for i, (start, end) in enumerate(taken):
        session.add(
            Booking(
                host_id=host.id,
                event_type_id=meeting.id,
                start=start,
                end=end,
                held_start=start,
                held_end=end,
                status=CONFIRMED,
                invitee_name=f"Guest {i}",
                invitee_email=f"guest{i}@example.com",
                invitee_timezone="America/New_York",
                created_at=now,
                updated_at=now,
            )
        )
    await session.commit()
    return taken


def free_quick_slots(today: date, taken: list[Span], count: int) -> list[Span]:
    """``count`` distinct 15-minute slots of ``quick``, from the day after tomorrow on, all free."""
    slots: list[Span] = []
    start = datetime.combine(today + timedelta(days=2), time(0), UTC)
    busy = set()
    for held_start, held_end in taken:
        moment = held_start
        while moment < held_end:
            busy.add(moment)
            moment += timedelta(minutes=15)
    while len(slots) < count:
        if start not in busy:
            slots.append((start, start + timedelta(minutes=15)))
        start += timedelta(minutes=15)
    return slots
