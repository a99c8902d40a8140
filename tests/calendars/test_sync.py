"""The sync against real servers (Radicale, Xandikos, a feed server): busy times land in the
table the slot engine reads, incrementally, and failures keep what was known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from app import clock
from app.calendars.caldav_provider import CalDAVProvider
from app.calendars.ics_feed import IcsFeedProvider
from app.calendars.sync import CalendarSyncer, SyncOptions
from app.db.models import CalendarConnection, ConnectedCalendar, Host, OutboxMessage
from app.db.session import create_engine, create_sessionmaker
from app.settings import Settings
from calendar_servers import DavServer, FeedStore
from calendar_support import at, busy_rows, calendars, local, uid, utc, vcalendar, vevent
from support import next_weekday, run, with_session

pytestmark = pytest.mark.xdist_group("calendars")


def add_connection(url: str, kind: str = "caldav", **values: Any) -> int:
    async def work(session: Any) -> int:
        host = (await session.scalars(select(Host).where(Host.slug == "demo"))).one()
        connection = CalendarConnection(
            host_id=host.id,
            kind=kind,
            integration="caldav_calendar" if kind == "caldav" else "ics-feed_calendar",
            label="test",
            **values,
        )
        session.add(connection)
        await session.commit()
        return int(connection.id)

    return with_session(url, work)


def add_feed_calendar(url: str, connection_id: int, name: str) -> None:
    async def work(session: Any) -> None:
        connection = await session.get(CalendarConnection, connection_id)
        session.add(
            ConnectedCalendar(
                connection_id=connection_id,
                host_id=connection.host_id,
                external_id=name,
                name=name,
                read_only=True,
            )
        )
        await session.commit()

    with_session(url, work)


def sync(settings: Settings, factory: Any, **options: Any) -> list[Any]:
    async def go() -> list[Any]:
        engine = create_engine(settings.database_url)
        try:
            syncer = CalendarSyncer(
                settings, create_sessionmaker(engine), SyncOptions(**options), factory
            )
            return await syncer.sync()
        finally:
            await engine.dispose()

    return run(go())


def make_due(url: str) -> None:
    async def work(session: Any) -> None:
        await session.execute(update(CalendarConnection).values(next_sync_at=clock.utcnow()))
        await session.commit()

    with_session(url, work)


def dav_factory(server: DavServer, user: str, password: str) -> Any:
    return lambda connection, calendars: CalDAVProvider(
        server.url, user, password, httpx.AsyncClient(timeout=10)
    )


@pytest.mark.parametrize("server_name", ["radicale", "xandikos"])
def test_caldav_events_of_every_kind_become_busy_times(
    request: pytest.FixtureRequest, settings: Settings, server_name: str
):
    server: DavServer = request.getfixturevalue(f"{server_name}_server")
    user, password = server.account()
    if server_name == "radicale":
        calendar = server.make_calendar(user, password, "Work")
    else:
        calendar = server.make_calendar(user, password, "Work")
    day = next_weekday(7)
    monday = day - timedelta(days=day.weekday())
    weekly = uid()
    # Weekly at 10:00 Berlin since July (summer time): still 10:00 in winter, one week
    # skipped (EXDATE), one moved to 15:00 (RECURRENCE-ID).
    calendar.save_event(
        vevent(
            weekly,
            "DTSTART;TZID=Europe/Berlin:20260706T100000",
            "DTEND;TZID=Europe/Berlin:20260706T110000",
            "RRULE:FREQ=WEEKLY;BYDAY=MO",
            f"EXDATE;TZID=Europe/Berlin:{local(monday + timedelta(days=7), 10)}",
            "SUMMARY:Team meeting",
        ).replace(
            "END:VCALENDAR",
            "BEGIN:VEVENT\r\n"
            f"UID:{weekly}\r\nDTSTAMP:20260101T000000Z\r\n"
            f"RECURRENCE-ID;TZID=Europe/Berlin:{local(monday + timedelta(days=14), 10)}\r\n"
            f"DTSTART;TZID=Europe/Berlin:{local(monday + timedelta(days=14), 15)}\r\n"
            f"DTEND;TZID=Europe/Berlin:{local(monday + timedelta(days=14), 16)}\r\n"
            "END:VEVENT\r\nEND:VCALENDAR",
        )
    )
    tuesday = monday + timedelta(days=1)
    calendar.save_event(
        vevent(
            uid(),
            f"DTSTART;VALUE=DATE:{tuesday.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(tuesday + timedelta(days=1)).strftime('%Y%m%d')}",
            "SUMMARY:Conference",
        )
    )
    wednesday = monday + timedelta(days=2)
    calendar.save_event(
        vevent(
            uid(),
            f"DTSTART:{utc(at(wednesday, 9))}",
            f"DTEND:{utc(at(wednesday, 10))}",
            "TRANSP:TRANSPARENT",
        )
    )
    calendar.save_event(
        vevent(
            uid(),
            f"DTSTART:{utc(at(wednesday, 11))}",
            f"DTEND:{utc(at(wednesday, 12))}",
            "STATUS:CANCELLED",
        )
    )
    # Floating (read in the host's zone) and another zone.
    calendar.save_event(
        vevent(uid(), f"DTSTART:{local(wednesday, 13)}", f"DTEND:{local(wednesday, 14)}")
    )
    calendar.save_event(
        vevent(
            uid(),
            f"DTSTART;TZID=America/New_York:{local(wednesday, 9)}",
            f"DTEND;TZID=America/New_York:{local(wednesday, 10)}",
        )
    )

    add_connection(settings.database_url)
    [outcome] = sync(settings, dav_factory(server, user, password))
    assert outcome.ok, outcome.error
    names = [c.name for c in calendars(settings.database_url)]
    assert "Work" in names or any("work" in n.lower() for n in names)

    rows = set(busy_rows(settings.database_url))
    from zoneinfo import ZoneInfo

    new_york = ZoneInfo("America/New_York")
    assert (at(monday, 10), at(monday, 11)) in rows
    assert (at(monday + timedelta(days=7), 10), at(monday + timedelta(days=7), 11)) not in rows
    assert (at(monday + timedelta(days=14), 15), at(monday + timedelta(days=14), 16)) in rows
    assert (at(monday + timedelta(days=14), 10), at(monday + timedelta(days=14), 11)) not in rows
    assert (at(tuesday, 0), at(tuesday + timedelta(days=1), 0)) in rows
    assert (at(wednesday, 13), at(wednesday, 14)) in rows
    assert (at(wednesday, 9, tz=new_york), at(wednesday, 10, tz=new_york)) in rows
    assert not [r for r in rows if r[0] in (at(wednesday, 9), at(wednesday, 11))]
    # In winter the 10:00 meeting is 09:00 UTC.
    if at(monday, 10).astimezone(ZoneInfo("Europe/Berlin")).utcoffset() == timedelta(hours=1):
        assert at(monday, 10).hour == 9


def test_incremental_sync_fetches_only_what_changed(radicale_server: DavServer, settings: Settings):
    user, password = radicale_server.account()
    calendar = radicale_server.make_calendar(user, password, "Home")
    day = next_weekday(5)
    first = calendar.save_event(
        vevent("one", f"DTSTART:{utc(at(day, 10))}", f"DTEND:{utc(at(day, 11))}")
    )
    calendar.save_event(vevent("two", f"DTSTART:{utc(at(day, 12))}", f"DTEND:{utc(at(day, 13))}"))
    add_connection(settings.database_url)
    factory = dav_factory(radicale_server, user, password)
    [outcome] = sync(settings, factory)
    assert outcome.calendars["Home"] == "2 read, 2 busy"

    make_due(settings.database_url)
    [outcome] = sync(settings, factory)
    assert outcome.calendars["Home"] == "unchanged"

    first.delete()
    calendar.save_event(vevent("two", f"DTSTART:{utc(at(day, 14))}", f"DTEND:{utc(at(day, 15))}"))
    make_due(settings.database_url)
    [outcome] = sync(settings, factory)
    assert outcome.calendars["Home"] == "1 read, 1 busy"
    assert busy_rows(settings.database_url) == [(at(day, 14), at(day, 15))]


def test_feed_uses_conditional_get_and_follows_the_transparency_rule(
    feeds: tuple[str, FeedStore], settings: Settings
):
    base, store = feeds
    day = next_weekday(4)
    path = f"/{uid()}.ics"
    store.publish(
        path,
        vcalendar(
            f"UID:busy\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{utc(at(day, 10))}\r\n"
            f"DTEND:{utc(at(day, 11))}",
            "UID:holiday\r\nDTSTAMP:20260101T000000Z\r\n"
            f"DTSTART;VALUE=DATE:{day.strftime('%Y%m%d')}\r\nTRANSP:TRANSPARENT",
        ),
    )
    connection_id = add_connection(settings.database_url, kind="ics_feed")
    add_feed_calendar(settings.database_url, connection_id, "feed-1")
    factory = lambda connection, calendars: IcsFeedProvider(  # noqa: E731
        {"feed-1": base + path}, httpx.AsyncClient(timeout=10), SyncOptions().limits
    )
    [outcome] = sync(settings, factory)
    assert outcome.ok, outcome.error
    assert busy_rows(settings.database_url) == [(at(day, 10), at(day, 11))]

    make_due(settings.database_url)
    [outcome] = sync(settings, factory)
    assert outcome.calendars["feed-1"] == "unchanged"
    assert [status for p, _, status in store.requests if p == path] == ["200", "304"]

    store.publish(path, vcalendar())  # emptied
    make_due(settings.database_url)
    sync(settings, factory)
    assert busy_rows(settings.database_url) == []


def test_unreachable_server_keeps_busy_times_and_emails_the_host_once(
    feeds: tuple[str, FeedStore], settings: Settings
):
    base, store = feeds
    day = next_weekday(4)
    path = f"/{uid()}.ics"
    store.publish(
        path,
        vcalendar(
            f"UID:x\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{utc(at(day, 10))}\r\n"
            f"DTEND:{utc(at(day, 11))}"
        ),
    )
    connection_id = add_connection(settings.database_url, kind="ics_feed")
    add_feed_calendar(settings.database_url, connection_id, "feed-1")
    factory = lambda connection, calendars: IcsFeedProvider(  # noqa: E731
        {"feed-1": base + path}, httpx.AsyncClient(timeout=10), SyncOptions().limits
    )
    sync(settings, factory)
    store.status[path] = 503
    for _ in range(3):
        make_due(settings.database_url)
        [outcome] = sync(settings, factory, stale_notify_after=timedelta(0))
        assert not outcome.ok
        assert "503" in outcome.error
    assert busy_rows(settings.database_url) == [(at(day, 10), at(day, 11))]

    def emails(session: Any) -> Any:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email"))

    async def read(session: Any) -> list[Any]:
        return list(await emails(session))

    sent = with_session(settings.database_url, read)
    assert len(sent) == 1
    assert "cannot be read" in sent[0].payload["subject"]
    assert "503" in sent[0].payload["text"]

    del store.status[path]
    make_due(settings.database_url)
    [outcome] = sync(settings, factory)
    assert outcome.ok

    async def state(session: Any) -> Any:
        return await session.get(CalendarConnection, connection_id)

    connection = with_session(settings.database_url, state)
    assert connection.failing_since is None and connection.stale_notified_at is None
    assert connection.last_error == ""


def test_refused_connection_and_wrong_password(radicale_server: DavServer, settings: Settings):
    add_connection(settings.database_url)
    from bench.server import free_port

    nowhere = f"http://127.0.0.1:{free_port()}/"
    factory = lambda c, cals: CalDAVProvider(nowhere, "u", "p", httpx.AsyncClient(timeout=5))  # noqa: E731
    [outcome] = sync(settings, factory)
    assert not outcome.ok and "refused the connection" in outcome.error

    user, password = radicale_server.account()
    radicale_server.make_calendar(user, password, "Cal")
    make_due(settings.database_url)
    [outcome] = sync(settings, dav_factory(radicale_server, user, "wrong"))
    assert outcome.invalid and "refused the user name or password" in outcome.error

    async def state(session: Any) -> Any:
        return (await session.scalars(select(CalendarConnection))).one()

    assert with_session(settings.database_url, state).invalid

    async def emails(session: Any) -> list[Any]:
        query = select(OutboxMessage).where(OutboxMessage.kind == "email")
        return list(await session.scalars(query))

    [email] = with_session(settings.database_url, emails)  # told at once, not retried
    assert "refused the user name or password" in email.payload["text"]
    make_due(settings.database_url)
    assert sync(settings, dav_factory(radicale_server, user, password)) == []  # not retried


def test_a_calendar_deleted_on_the_server_is_reported(radicale_server: DavServer, settings):
    user, password = radicale_server.account()
    calendar = radicale_server.make_calendar(user, password, "Gone")
    day = next_weekday(4)
    calendar.save_event(vevent("e", f"DTSTART:{utc(at(day, 10))}", f"DTEND:{utc(at(day, 11))}"))
    add_connection(settings.database_url)
    factory = dav_factory(radicale_server, user, password)
    sync(settings, factory)
    assert busy_rows(settings.database_url)
    calendar.delete()
    make_due(settings.database_url)
    sync(settings, factory)
    assert busy_rows(settings.database_url) == []
    [gone] = calendars(settings.database_url)
    assert "deleted on the server" in gone.last_error
    assert datetime.now(UTC) > at(day, 0) - timedelta(days=30)


def test_slow_huge_and_tls_faults_each_say_what_went_wrong(
    feeds: tuple[str, FeedStore], radicale_server: DavServer, settings: Settings
):
    from app.calendars.expand import Limits

    base, store = feeds
    slow, huge = f"/{uid()}.ics", f"/{uid()}.ics"
    store.publish(slow, vcalendar())
    store.delay[slow] = 2
    store.publish(huge, vcalendar(*[f"UID:{n}\r\nDTSTART:20261210T100000Z" for n in range(200)]))
    connection_id = add_connection(settings.database_url, kind="ics_feed")
    add_feed_calendar(settings.database_url, connection_id, "slow")
    add_feed_calendar(settings.database_url, connection_id, "huge")
    factory = lambda connection, calendars: IcsFeedProvider(  # noqa: E731
        {"slow": base + slow, "huge": base + huge},
        httpx.AsyncClient(timeout=0.5),
        Limits(max_bytes=2000),
    )
    [outcome] = sync(settings, factory)
    assert "slow: 127.0.0.1 did not answer in time" in outcome.error
    assert "huge: 127.0.0.1 sent more than 2,000 bytes: refused" in outcome.error

    tls = radicale_server.url.replace("http://", "https://")
    make_due(settings.database_url)

    async def drop(session: Any) -> None:
        await session.execute(update(CalendarConnection).values(kind="caldav"))
        await session.commit()

    with_session(settings.database_url, drop)
    factory = lambda c, cals: CalDAVProvider(tls, "u", "p", httpx.AsyncClient(timeout=5))  # noqa: E731
    [outcome] = sync(settings, factory)
    assert outcome.error.startswith("TLS error with 127.0.0.1") or "could not talk" in outcome.error
