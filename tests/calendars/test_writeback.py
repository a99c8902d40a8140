"""Bookings land in the host's destination calendar (a real Radicale), through the outbox: one
event per booking chain with the emailed invite's UID and SEQUENCE, tentative while pending,
moved on reschedule, gone on cancel; never read back as a busy time; a server that is down
delays the write and loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from app import clock
from app.calendars.writeback import CALENDAR_KIND, booking_references
from app.db.models import CalendarBusy, OutboxMessage
from app.db.session import create_engine, create_sessionmaker
from app.hosts.service import create_api_key
from app.main import create_app
from app.notify.worker import OutboxWorker
from app.settings import Settings
from bench.server import free_port
from calendar_servers import DavServer, radicale
from calendar_support import at, sync_now
from support import make_settings, next_weekday, prepare_database, run, with_session

pytestmark = pytest.mark.xdist_group("calendars")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path, allow_private_urls=True)
    prepare_database(settings.database_url)
    return settings


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    key = with_session(settings.database_url, lambda s: create_api_key(s, "demo"))
    with TestClient(app=create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def work_outbox(settings: Settings) -> None:
    """Run the outbox worker until nothing is due (events expanded, messages delivered)."""

    async def go() -> None:
        engine = create_engine(settings.database_url)
        try:
            worker = OutboxWorker(settings, create_sessionmaker(engine))
            for _ in range(20):
                if not await worker.run_once():
                    return
        finally:
            await engine.dispose()

    run(go())


def calendar_rows(settings: Settings) -> list[OutboxMessage]:
    async def work(session: Any) -> list[OutboxMessage]:
        query = select(OutboxMessage).where(OutboxMessage.kind == CALENDAR_KIND)
        return list(await session.scalars(query.order_by(OutboxMessage.id)))

    return with_session(settings.database_url, work)


def z(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def connect(api: TestClient, server: DavServer) -> tuple[Any, str, str]:  # type: ignore[type-arg]
    user, password = server.account()
    calendar = server.make_calendar(user, password, "Bookings")
    answer = api.post(
        "/v2/calendars/caldav/credentials",
        json={"username": user, "password": password, "url": server.url},
    )
    assert answer.status_code == 201, answer.text
    return calendar, user, password


def the_event(calendar: Any, root: str) -> icalendar.Event | None:
    try:
        found = calendar.event_by_uid(f"{root}@booking-widget")
    except Exception:
        return None
    return icalendar.Calendar.from_ical(found.data).walk("VEVENT")[0]


def test_booking_lifecycle_is_mirrored_in_the_destination_calendar(
    api: TestClient,  # type: ignore[type-arg]
    settings: Settings,
    radicale_server: DavServer,
):
    calendar, _, _ = connect(api, radicale_server)
    day = next_weekday(6)
    booked = api.post(
        "/api/public/scheduling/demo/intro/book",
        json={
            "startTime": z(at(day, 10)),
            "endTime": z(at(day, 10, 15)),
            "inviteeName": "Alex Johnson",
            "inviteeEmail": "alex@example.com",
            "inviteePhone": "+4930123456",
            "inviteeTimezone": "America/New_York",
            "customFields": {"company": "Acme Inc."},
        },
    )
    assert booked.status_code == 201, booked.text
    root = booked.json()["id"]
    work_outbox(settings)
    event = the_event(calendar, root)
    assert event is not None
    assert str(event["STATUS"]) == "TENTATIVE"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == at(day, 10)
    description = str(event["DESCRIPTION"])
    assert "Alex Johnson <alex@example.com>" in description
    assert "Company: Acme Inc." in description and "+4930123456" in description
    assert event["ATTENDEE"].params["SCHEDULE-AGENT"] == "CLIENT"

    # Our own event is never read back as a busy time (the booking holds its time already).
    sync_now(settings)

    async def busy(session: Any) -> int:
        return len(list(await session.scalars(select(CalendarBusy.id))))

    assert with_session(settings.database_url, busy) == 0

    assert api.post(f"/v2/bookings/{root}/confirm").status_code == 200
    work_outbox(settings)
    event = the_event(calendar, root)
    assert event is not None and str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 1

    moved = api.post(f"/v2/bookings/{root}/reschedule", json={"start": z(at(day, 14))})
    assert moved.status_code in (200, 201), moved.text
    new_uid = moved.json()["data"]["uid"]
    work_outbox(settings)
    event = the_event(calendar, root)  # the same event, moved
    assert event is not None and event.decoded("DTSTART") == at(day, 14)
    assert int(event["SEQUENCE"]) == 3  # the emailed invite of the reschedule has 3 too
    assert len(calendar.events()) == 1

    async def refs(session: Any) -> Any:
        return await booking_references(session, new_uid)

    [ref] = with_session(settings.database_url, refs)
    assert ref.uid == f"{root}@booking-widget" and ref.status == "written"
    assert ref.type == "caldav_calendar" and ref.href.endswith(f"{root}.ics")

    assert api.post(f"/v2/bookings/{new_uid}/cancel", json={}).status_code == 200
    work_outbox(settings)
    assert the_event(calendar, root) is None
    [ref] = with_session(settings.database_url, refs)
    assert ref.status == "deleted"


def test_a_server_that_is_down_delays_the_write_and_loses_nothing(
    api: TestClient,  # type: ignore[type-arg]
    settings: Settings,
    tmp_path: Path,
):
    port = free_port()
    with radicale(tmp_path, port) as server:
        calendar, user, password = connect(api, server)
    # The server is down now.
    day = next_weekday(6)
    booked = api.post(
        "/api/public/scheduling/demo/30min/book",
        json={
            "startTime": z(at(day, 11)),
            "endTime": z(at(day, 11, 30)),
            "inviteeName": "Sam",
            "inviteeEmail": "sam@example.com",
            "inviteeTimezone": "Europe/Berlin",
        },
    )
    assert booked.status_code == 201  # the booking never waits on the calendar
    root = booked.json()["id"]
    work_outbox(settings)
    [row] = calendar_rows(settings)
    assert row.delivered_at is None and "refused the connection" in row.last_error

    async def due(session: Any) -> None:
        await session.execute(
            update(OutboxMessage).values(available_at=clock.utcnow() - timedelta(seconds=1))
        )
        await session.commit()

    with radicale(tmp_path, port) as server:
        with_session(settings.database_url, due)
        work_outbox(settings)
        [row] = calendar_rows(settings)
        assert row.delivered_at is not None
        calendar = server.client(user, password).principal().calendars()[0]
        event = the_event(calendar, root)
        assert event is not None and str(event["STATUS"]) == "CONFIRMED"
