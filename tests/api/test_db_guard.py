"""The database alone refuses two held bookings on overlapping ranges of one host.

These tests write rows with SQLAlchemy directly, bypassing the booking service, so they prove the
last line of defence: the SQLite triggers and the PostgreSQL exclusion constraint of migration
0001. They also check that SQLite writers really take the write lock when they begin.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.availability import _HELD
from app.bookings.service import OVERLAP_MARKERS
from app.db.models import CANCELLED, CONFIRMED, DECLINED, PENDING, Booking, EventType, Host
from app.db.session import begin_write, create_engine, create_sessionmaker
from app.hosts.service import create_host
from support import make_settings, prepare_database

pytestmark = pytest.mark.xdist_group("servers")

DAY = datetime(2030, 1, 7, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    url = make_settings(tmp_path).database_url
    prepare_database(url)
    return url


@pytest.fixture
async def session(db_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(db_url)
    try:
        async with create_sessionmaker(engine)() as db_session:
            yield db_session
    finally:
        await engine.dispose()


async def demo_ids(session: AsyncSession) -> tuple[int, int]:
    event_type = (
        await session.scalars(select(EventType).join(Host).where(Host.slug == "demo"))
    ).first()
    assert event_type is not None
    return event_type.host_id, event_type.id


def booking(
    ids: tuple[int, int], start_minute: int, end_minute: int, status: str = CONFIRMED
) -> Booking:
    """A booking holding minutes [start, end) of DAY; its meeting is the held range itself."""
    start = DAY + timedelta(minutes=start_minute)
    end = DAY + timedelta(minutes=end_minute)
    return Booking(
        host_id=ids[0],
        event_type_id=ids[1],
        start=start,
        end=end,
        held_start=start,
        held_end=end,
        status=status,
        invitee_name="Guard Test",
        invitee_email="guard@example.com",
        invitee_timezone="UTC",
    )


async def add(session: AsyncSession, *bookings: Booking) -> None:
    session.add_all(bookings)
    await session.commit()


async def refused(session: AsyncSession, *bookings: Booking) -> None:
    """Assert the database refuses the change, with the marker the service recognises."""
    session.add_all(bookings)
    with pytest.raises(IntegrityError) as caught:
        await session.commit()
    await session.rollback()
    assert any(marker in str(caught.value.orig) for marker in OVERLAP_MARKERS)


async def held_count(session: AsyncSession) -> int:
    rows = await session.scalars(select(Booking).where(Booking.status.in_((CONFIRMED, PENDING))))
    return len(rows.all())


async def test_an_overlapping_held_booking_is_refused(session):
    ids = await demo_ids(session)
    await add(session, booking(ids, 600, 630))
    await refused(session, booking(ids, 615, 645))
    await refused(session, booking(ids, 600, 630))
    await refused(session, booking(ids, 590, 700))  # covers it
    await refused(session, booking(ids, 610, 620))  # inside it
    await refused(session, booking(ids, 615, 645, PENDING))  # pending approval holds too
    assert await held_count(session) == 1


async def test_back_to_back_bookings_fit(session):
    ids = await demo_ids(session)
    await add(session, booking(ids, 600, 630))
    await add(session, booking(ids, 630, 660), booking(ids, 570, 600))
    assert await held_count(session) == 3


async def test_two_overlapping_rows_in_one_transaction_are_refused(session):
    ids = await demo_ids(session)
    await refused(session, booking(ids, 600, 630), booking(ids, 620, 650))
    assert await held_count(session) == 0


async def test_bookings_that_hold_nothing_never_collide(session):
    ids = await demo_ids(session)
    await add(session, booking(ids, 600, 630))
    await add(
        session,
        booking(ids, 600, 630, CANCELLED),
        booking(ids, 610, 640, DECLINED),
        booking(ids, 600, 630, "Rescheduled"),
    )
    assert await held_count(session) == 1


async def test_other_hosts_are_not_in_the_way(session):
    ids = await demo_ids(session)
    other = await create_host(
        session, "other", name="Other", email="other@example.com", timezone="UTC"
    )
    await add(session, booking(ids, 600, 630), booking((other.id, ids[1]), 600, 630))
    assert await held_count(session) == 2


async def test_cancelling_frees_the_range(session):
    ids = await demo_ids(session)
    first = booking(ids, 600, 630)
    await add(session, first)
    first.status = CANCELLED
    await session.commit()
    await add(session, booking(ids, 615, 645))
    assert await held_count(session) == 1


async def test_an_update_that_would_overlap_is_refused(session):
    ids = await demo_ids(session)
    early, late = booking(ids, 600, 630), booking(ids, 660, 690)
    await add(session, early, late)

    late.held_start = DAY + timedelta(minutes=620)  # widen it into the early one
    await refused(session)

    early.status = CANCELLED
    await session.commit()
    await add(session, booking(ids, 590, 640))
    early.status = CONFIRMED  # re-holding a range someone else took
    await refused(session)

    late.held_start, late.held_end = DAY + timedelta(minutes=640), DAY + timedelta(minutes=700)
    await add(session)  # moving within free time is fine
    assert await held_count(session) == 2


# SQLite: writers begin with BEGIN IMMEDIATE ----------------------------------------------------


@pytest.fixture
def sqlite_path(tmp_path) -> str:
    settings = make_settings(tmp_path)
    prepare_database(settings.database_url)
    return settings.database_url.split(":///", 1)[1]


@pytest.fixture
async def sqlite_sessions(sqlite_path: str) -> AsyncIterator[tuple[AsyncSession, AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{sqlite_path}")
    make = create_sessionmaker(engine)
    try:
        async with make() as first, make() as second:
            yield first, second
    finally:
        await engine.dispose()


def other_writer(path: str) -> sqlite3.Connection:
    """A plain connection that fails at once, rather than waits, when the database is locked."""
    return sqlite3.connect(path, isolation_level=None, timeout=0)


async def test_a_sqlite_writer_takes_the_lock_when_it_begins(sqlite_path, sqlite_sessions):
    writer, reader = sqlite_sessions
    blocker = other_writer(sqlite_path)
    blocker.execute("BEGIN IMMEDIATE")

    # Reads are deferred and WAL lets them run beside a writer.
    assert await asyncio.wait_for(reader.scalar(select(Host.slug)), 5) == "demo"

    # begin_write waits for the lock (a deferred BEGIN would return at once, before any read).
    task = asyncio.create_task(begin_write(writer))
    await asyncio.sleep(0.5)
    assert not task.done()
    blocker.execute("ROLLBACK")
    await asyncio.wait_for(task, 10)

    # Now the session holds the write lock, before it has read or written anything.
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        blocker.execute("BEGIN IMMEDIATE")
    await writer.rollback()
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("ROLLBACK")
    blocker.close()


async def test_begin_write_after_a_read_restarts_as_a_writer(sqlite_path, sqlite_sessions):
    writer, _ = sqlite_sessions
    await writer.scalar(select(Host.slug))  # a deferred read transaction is open now
    blocker = other_writer(sqlite_path)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("ROLLBACK")  # a reader alone does not lock writers out

    await begin_write(writer)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        blocker.execute("BEGIN IMMEDIATE")
    await writer.rollback()
    blocker.close()


async def test_sqlite_writers_of_one_process_take_turns(sqlite_path, sqlite_sessions):
    """Writers queue in the process, not in SQLite's busy handler; every way out frees the turn."""
    first, second = sqlite_sessions
    await begin_write(first)
    waiting = asyncio.create_task(begin_write(second))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    assert first.get_bind().pool.checkedout() == 1  # the waiter holds no connection
    await first.rollback()
    await asyncio.wait_for(waiting, 5)

    await second.close()  # closing without commit or rollback frees the turn too
    await asyncio.wait_for(begin_write(first), 5)
    first.add(Booking(host_id=0, event_type_id=0))  # invalid: the flush fails
    with pytest.raises(IntegrityError):
        await first.commit()
    await first.rollback()
    await asyncio.wait_for(begin_write(second), 5)
    await second.commit()


def test_overlap_checks_never_walk_a_hosts_past(tmp_path):
    """SQLite answers both overlap checks from (host_id, held_end): only bookings ending after the
    new one starts are read, however long the host's history (migration 0002)."""
    url = make_settings(tmp_path).database_url
    prepare_database(url)
    engine = sqlalchemy.create_engine(url.replace("+aiosqlite", ""))
    sent: list[tuple[str, tuple]] = []
    event.listen(engine, "before_cursor_execute", lambda *a: sent.append((a[2], a[3])))
    with engine.connect() as connection:
        start = datetime(2030, 1, 7, 9, tzinfo=UTC)
        window = {"host_id": 1, "start": start, "end": start + timedelta(hours=1), "exclude_id": 0}
        connection.execute(_HELD, window)
        trigger = (
            "SELECT 1 FROM bookings AS b WHERE b.host_id = 1 AND b.id IS NOT 7"
            " AND b.status IN ('Confirmed', 'PendingApproval')"
            " AND b.held_start < '2030-01-07 10:00' AND '2030-01-07 09:00' < b.held_end"
        )
        for query, args in (sent[-1], (trigger, ())):
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}", args).all()
            plan = " ".join(row[3] for row in rows)
            assert "USING INDEX ix_bookings_host_held_end (host_id=? AND held_end>?)" in plan, plan
    engine.dispose()
