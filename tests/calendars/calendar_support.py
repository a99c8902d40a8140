"""Event builders and database shortcuts for the calendar tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.calendars.sync import CalendarSyncer
from app.db.models import CalendarBusy, CalendarConnection, ConnectedCalendar
from app.db.session import create_engine, create_sessionmaker
from app.settings import Settings
from support import run, with_session

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = "%Y%m%dT%H%M%S"


def vevent(uid: str, *lines: str) -> str:
    body = "\r\n".join([f"UID:{uid}", "DTSTAMP:20260101T000000Z", *lines])
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        f"BEGIN:VEVENT\r\n{body}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def vcalendar(*events: str, extra: str = "") -> str:
    """Several VEVENTs (each given as its lines) in one VCALENDAR, for feeds."""
    body = "".join(f"BEGIN:VEVENT\r\n{e}\r\nEND:VEVENT\r\n" for e in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{extra}{body}END:VCALENDAR\r\n"


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)


def local(day: date, hour: int, minute: int = 0) -> str:
    return datetime(day.year, day.month, day.day, hour, minute).strftime(STAMP)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(STAMP) + "Z"


def uid() -> str:
    return f"ev-{uuid.uuid4().hex[:10]}"


def busy_rows(url: str, host_id: int | None = None) -> list[tuple[datetime, datetime]]:
    async def work(session: Any) -> list[tuple[datetime, datetime]]:
        query = select(CalendarBusy.start, CalendarBusy.end).order_by(CalendarBusy.start)
        if host_id is not None:
            query = query.where(CalendarBusy.host_id == host_id)
        return [(s, e) for s, e in (await session.execute(query)).all()]

    return with_session(url, work)


def calendars(url: str) -> list[ConnectedCalendar]:
    async def work(session: Any) -> list[ConnectedCalendar]:
        rows = list(await session.scalars(select(ConnectedCalendar).order_by(ConnectedCalendar.id)))
        session.expunge_all()
        return rows

    return with_session(url, work)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def sync_now(settings: Settings) -> list[Any]:
    async def go() -> list[Any]:
        engine = create_engine(settings.database_url)
        try:
            syncer = CalendarSyncer(settings, create_sessionmaker(engine))
            return await syncer.sync(list(await _ids(create_sessionmaker(engine))), discover=True)
        finally:
            await engine.dispose()

    return run(go())


async def _ids(sessionmaker: Any) -> list[int]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(CalendarConnection.id)))
