"""The console's Calendars page through the real HTTP door (sign-in session, CSRF-protected
forms) against a real Radicale server and a local ICS feed server: connect, choose the calendars
that block and the destination, sync now, slots that disappear, disconnect; a wrong password, an
unreachable server and a bad feed are refused with a clear message and nothing saved; another
host's connections are 404."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from console_support import post_form, signed_in
from litestar.testing import TestClient
from sqlalchemy import func, select

from app import clock
from app.db.models import CalendarBusy, CalendarConnection, ConnectedCalendar, Host
from app.hosts.service import create_host
from app.main import create_app
from app.settings import Settings
from calendar_servers import DavServer, FeedStore, feed_server, radicale
from support import make_settings, next_weekday, prepare_database, with_session

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def dav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    with radicale(tmp_path_factory.mktemp("console-radicale")) as server:
        yield server


@pytest.fixture(scope="module")
def feeds() -> Iterator[tuple[str, FeedStore]]:
    with feed_server() as served:
        yield served


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path, allow_private_urls=True)
    prepare_database(settings.database_url)
    return settings


@pytest.fixture
def console(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(settings)) as client:
        yield signed_in(client, settings)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN).astimezone(UTC)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def event(uid: str, start: datetime, end: datetime) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{stamp(start)}\r\n"
        f"DTEND:{stamp(end)}\r\nSUMMARY:Private\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def slots(client: TestClient[Any], day: date) -> set[str]:
    answer = client.get(
        f"/api/public/scheduling/demo/30min/slots?dateFrom={day}&dateTo={day}&timezone=UTC"
    )
    assert answer.status_code == 200, answer.text
    return set(re.findall(r'"(?:startTime|start)":"([^"]+)"', answer.text))


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def count(settings: Settings, model: Any) -> int:
    async def work(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model)))

    return with_session(settings.database_url, work)


def stored_calendars(settings: Settings) -> dict[str, ConnectedCalendar]:
    async def work(session: Any) -> dict[str, ConnectedCalendar]:
        rows = list(await session.scalars(select(ConnectedCalendar)))
        session.expunge_all()
        return {row.name: row for row in rows}

    return with_session(settings.database_url, work)


def flashes(page: str) -> str:
    return " ".join(re.findall(r'class="flash flash-\w+">([^<]*)<', page))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_signed_out_goes_to_sign_in(settings: Settings) -> None:
    with TestClient(app=create_app(settings)) as client:
        answer = client.get("/console/calendars", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/sign-in"


def test_empty_page_invites_to_connect(console: TestClient[Any]) -> None:
    answer = console.get("/console/calendars")
    assert answer.status_code == 200
    assert "No calendar connected yet" in answer.text
    assert 'action="/console/calendars/caldav"' in answer.text
    assert 'action="/console/calendars/ics"' in answer.text
    assert 'aria-current="page">Calendars<' in answer.text


def test_connect_choose_sync_and_the_calendar_blocks_slots(
    console: TestClient[Any], settings: Settings, dav: DavServer
) -> None:
    user, password = dav.account()
    work = dav.make_calendar(user, password, "Work")
    family = dav.make_calendar(user, password, "Family")
    day = next_weekday(6)
    work.save_event(event("work-1", at(day, 10), at(day, 11)))
    family.save_event(event("family-1", at(day, 14), at(day, 15)))
    assert {z(at(day, 10)), z(at(day, 12)), z(at(day, 14))} <= slots(console, day)

    answer = post_form(
        console,
        "/console/calendars/caldav",
        {"kind": "caldav", "url": dav.url, "username": user, "password": password},
    )
    assert answer.status_code == 200, answer.text
    assert "is connected" in flashes(answer.text) and "up to date" in flashes(answer.text)
    assert "Work" in answer.text and "Family" in answer.text
    assert password not in answer.text
    # Connecting read both calendars (every readable one blocks by default).
    assert not {z(at(day, 10)), z(at(day, 14))} & slots(console, day)

    # Only Work blocks; new bookings go to Family.
    calendars = stored_calendars(settings)
    answer = post_form(
        console,
        "/console/calendars/choices",
        {"selected": str(calendars["Work"].id), "destination": str(calendars["Family"].id)},
    )
    assert answer.status_code == 200, answer.text
    assert "Your choices are saved." in flashes(answer.text)
    calendars = stored_calendars(settings)
    assert calendars["Work"].selected and not calendars["Family"].selected
    assert calendars["Family"].destination and not calendars["Work"].destination
    free = slots(console, day)
    assert z(at(day, 14)) in free and z(at(day, 10)) not in free

    # A new event in Work blocks once synced ("Sync now").
    work.save_event(event("work-2", at(day, 12), at(day, 13)))
    assert z(at(day, 12)) in slots(console, day)
    connection_id = calendars["Work"].connection_id
    answer = post_form(console, f"/console/calendars/{connection_id}/sync")
    assert answer.status_code == 200
    assert "up to date" in flashes(answer.text)
    assert z(at(day, 12)) not in slots(console, day)
    assert "Up to date" in answer.text and "Last read" in answer.text

    # Disconnect: a confirmation page, then the busy times go.
    confirm = console.get(f"/console/calendars/{connection_id}/disconnect")
    assert confirm.status_code == 200 and "Disconnect" in confirm.text
    answer = post_form(console, f"/console/calendars/{connection_id}/disconnect")
    assert answer.status_code == 200
    assert "disconnected" in flashes(answer.text)
    assert count(settings, CalendarConnection) == 0 and count(settings, CalendarBusy) == 0
    assert {z(at(day, 10)), z(at(day, 12)), z(at(day, 14))} <= slots(console, day)


def test_wrong_password_is_refused_and_nothing_saved(
    console: TestClient[Any], settings: Settings, dav: DavServer
) -> None:
    user, password = dav.account()
    dav.make_calendar(user, password, "Work")
    answer = post_form(
        console,
        "/console/calendars/caldav",
        {"kind": "caldav", "url": dav.url, "username": user, "password": "wrong-horse-9"},
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert "refused the user name or password" in answer.text
    assert 'role="alert"' in answer.text
    assert "wrong-horse-9" not in answer.text  # a password is never shown back
    assert f'value="{user}"' in answer.text  # … what else was typed is kept
    assert count(settings, CalendarConnection) == 0


def test_unreachable_server_and_bad_input_are_refused(
    console: TestClient[Any], settings: Settings
) -> None:
    answer = post_form(
        console,
        "/console/calendars/caldav",
        {
            "kind": "caldav",
            "url": f"http://127.0.0.1:{closed_port()}/",
            "username": "me",
            "password": "pw",
        },
    )
    assert answer.status_code == 400
    assert "could not be connected" in answer.text
    for form, words in (
        ({"kind": "caldav", "url": "", "username": "me", "password": "pw"}, "url is required"),
        ({"kind": "caldav", "url": "ftp://x.example/", "username": "me", "password": "pw"}, "http"),
        (
            {"kind": "caldav", "url": "https://x.example/", "username": "", "password": "pw"},
            "username",
        ),
        (
            {"kind": "caldav", "url": "https://x.example/", "username": "me", "password": ""},
            "password",
        ),
    ):
        answer = post_form(console, "/console/calendars/caldav", form)
        assert answer.status_code == 400, form
        assert words in answer.text, (form, answer.text[:200])
    assert count(settings, CalendarConnection) == 0


def test_private_addresses_are_refused_unless_allowed(tmp_path: Path, dav: DavServer) -> None:
    settings = make_settings(tmp_path)  # ALLOW_PRIVATE_URLS off, as in production
    prepare_database(settings.database_url)
    with TestClient(app=create_app(settings)) as client:
        signed_in(client, settings)
        user, password = dav.account()
        answer = post_form(
            client,
            "/console/calendars/caldav",
            {"kind": "caldav", "url": dav.url, "username": user, "password": password},
        )
        assert answer.status_code == 400
        assert "private" in answer.text.lower() or "not allowed" in answer.text.lower()
    assert count(settings, CalendarConnection) == 0


def test_ics_feed_blocks_slots_and_its_address_stays_secret(
    console: TestClient[Any], settings: Settings, feeds: tuple[str, FeedStore]
) -> None:
    base, store = feeds
    day = next_weekday(5)
    path = "/secret-token-4711/basic.ics"
    store.publish(path, event("feed-1", at(day, 9), at(day, 11)))
    answer = post_form(console, "/console/calendars/ics", {"feed_url": base + path})
    assert answer.status_code == 200, answer.text
    assert "is connected" in flashes(answer.text)
    assert "secret-token-4711" not in answer.text
    assert "ICS feed" in answer.text and "read-only" in answer.text
    assert "Cannot be written to" in answer.text  # a feed is never a destination
    free = slots(console, day)
    assert z(at(day, 9)) not in free and z(at(day, 10)) not in free
    assert z(at(day, 11)) in free

    # A feed that is not there: a clear message, nothing saved, the address not shown back.
    answer = post_form(console, "/console/calendars/ics", {"feed_url": base + "/missing-77.ics"})
    assert answer.status_code == 400
    assert "could not be connected" in answer.text
    assert "missing-77" not in answer.text
    assert count(settings, CalendarConnection) == 1

    # A feed cannot be made the destination, even by a hand-made form.
    [feed] = stored_calendars(settings).values()
    answer = post_form(
        console,
        "/console/calendars/choices",
        {"selected": str(feed.id), "destination": str(feed.id)},
    )
    assert answer.status_code == 400
    assert "read-only" in answer.text
    assert not stored_calendars(settings)[feed.name].destination


def other_hosts_connection(settings: Settings) -> tuple[int, int]:
    async def work(session: Any) -> tuple[int, int]:
        other: Host = await create_host(
            session, "other", name="Olga Other", email="olga@example.com", timezone="UTC"
        )
        connection = CalendarConnection(
            host_id=other.id,
            kind="ics_feed",
            integration="ics-feed_calendar",
            label="other.example",
            calendars=[
                ConnectedCalendar(
                    host_id=other.id, external_id="ics-feed:x", name="Olga's", read_only=True
                )
            ],
        )
        session.add(connection)
        await session.commit()
        return connection.id, connection.calendars[0].id

    return with_session(settings.database_url, work)


def test_another_hosts_connection_is_not_found(
    console: TestClient[Any], settings: Settings
) -> None:
    connection_id, calendar_id = other_hosts_connection(settings)
    assert console.get(f"/console/calendars/{connection_id}/disconnect").status_code == 404
    assert post_form(console, f"/console/calendars/{connection_id}/disconnect").status_code == 404
    assert post_form(console, f"/console/calendars/{connection_id}/sync").status_code == 404
    for form in ({"selected": str(calendar_id)}, {"destination": str(calendar_id)}):
        assert post_form(console, "/console/calendars/choices", form).status_code == 404
    assert "Olga" not in console.get("/console/calendars").text
    assert count(settings, CalendarConnection) == 1
    calendar = stored_calendars(settings)["Olga's"]
    assert calendar.selected and not calendar.destination


def test_forms_need_the_csrf_token(console: TestClient[Any], settings: Settings) -> None:
    answer = console.post("/console/calendars/ics", data={"feed_url": "https://example.com/x.ics"})
    assert answer.status_code == 403
    assert count(settings, CalendarConnection) == 0


def test_sync_status_in_plain_words(console: TestClient[Any], settings: Settings) -> None:
    """Each connection says how fresh its busy times are: up to date, failing for a short while,
    failing long enough to be out of date (when the host is also emailed), password refused."""
    now = clock.utcnow()

    async def work(session: Any) -> None:
        host = (await session.scalars(select(Host).where(Host.slug == "demo"))).one()
        states = {
            "fresh.example": {"last_success_at": now - timedelta(minutes=3)},
            "flaky.example": {
                "last_success_at": now - timedelta(minutes=20),
                "last_error": "flaky.example did not answer (timed out)",
                "failing_since": now - timedelta(minutes=15),
            },
            "down.example": {
                "last_success_at": now - timedelta(hours=5),
                "last_error": "down.example refused the connection",
                "failing_since": now - timedelta(hours=5),
            },
            "refused.example": {
                "invalid": True,
                "last_error": "refused.example refused the user name or password (401)",
            },
        }
        for label, values in states.items():
            session.add(
                CalendarConnection(
                    host_id=host.id,
                    kind="caldav",
                    integration="caldav_calendar",
                    label=label,
                    username="me",
                    calendars=[
                        ConnectedCalendar(host_id=host.id, external_id=f"/{label}/", name=label)
                    ],
                    **values,
                )
            )
        await session.commit()

    with_session(settings.database_url, work)
    page = console.get("/console/calendars").text
    cards = {
        m.group(1): m.group(0)
        for m in re.finditer(r'<h2 id="conn-\d+">([\w.]+) .*?</section>', page, re.S)
    }
    assert len(cards) == 4
    assert 'badge-ok">Up to date' in cards["fresh.example"]
    assert "Last read 3 minutes ago" in cards["fresh.example"]
    assert 'badge-warn">Cannot be read right now' in cards["flaky.example"]
    assert "We cannot read this calendar since" in cards["flaky.example"]
    assert "did not answer (timed out)" in cards["flaky.example"]  # the server's own words
    assert 'badge-danger">Out of date' in cards["down.example"]
    assert "Last read 5 hours ago" in cards["down.example"]
    assert 'badge-danger">Password refused' in cards["refused.example"]
    assert "Connect it again with a valid app password" in cards["refused.example"]
