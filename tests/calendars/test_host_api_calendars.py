"""``/v2/calendars…`` against a real Radicale and a feed server: connect, list, sync, slots that
disappear, bookings refused for busy times, selection, destination, busy times, disconnect,
and every bad input with a clear 400 and nothing saved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from app.db.models import CalendarBusy, CalendarConnection, HostBusy
from app.hosts.service import create_api_key
from app.main import create_app
from app.settings import Settings
from calendar_servers import DavServer, FeedStore
from calendar_support import at, sync_now, uid, utc, vcalendar, vevent
from support import make_settings, next_weekday, prepare_database, with_session

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


def count(settings: Settings, model: Any) -> int:
    async def work(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model)))

    return with_session(settings.database_url, work)


def slot_starts(client: TestClient, day: Any) -> list[str]:  # type: ignore[type-arg]
    response = client.get(
        f"/api/public/scheduling/demo/30min/slots?dateFrom={day}&dateTo={day}&timezone=UTC"
    )
    assert response.status_code == 200, response.text
    starts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in ("startTime", "start") and isinstance(inner, str):
                    starts.append(inner)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(response.json())
    return starts


def z(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_connect_sync_and_slots_disappear(
    api: TestClient,  # type: ignore[type-arg]
    settings: Settings,
    radicale_server: DavServer,
):
    user, password = radicale_server.account()
    calendar = radicale_server.make_calendar(user, password, "Dentist")
    day = next_weekday(6)
    calendar.save_event(
        vevent(uid(), f"DTSTART:{utc(at(day, 10))}", f"DTEND:{utc(at(day, 11))}", "SUMMARY:X")
    )
    answer = api.post(
        "/v2/calendars/caldav/credentials",
        json={"username": user, "password": password, "url": radicale_server.url},
    )
    assert answer.status_code == 201, answer.text
    credential = answer.json()["data"]
    assert credential["type"] == "caldav_calendar"

    listed = api.get("/v2/calendars").json()["data"]
    [connected] = listed["connectedCalendars"]
    assert connected["integration"]["type"] == "caldav_calendar"
    [cal] = connected["calendars"]
    assert cal["name"] == "Dentist" and cal["isSelected"] and not cal["readOnly"]
    assert listed["destinationCalendar"]["externalId"] == cal["externalId"]
    assert password not in api.get("/v2/calendars").text

    before = slot_starts(api, day)
    assert z(at(day, 10)) in before and z(at(day, 10, 30)) in before
    [outcome] = sync_now(settings)
    assert outcome.ok, outcome.error
    after = slot_starts(api, day)
    assert z(at(day, 10)) not in after and z(at(day, 10, 30)) not in after
    assert z(at(day, 11)) in after and z(at(day, 9, 30)) in after

    busy = api.get(
        f"/v2/calendars/busy-times?loggedInUsersTz=Europe/Berlin&dateFrom={day}&dateTo={day}"
        f"&credentialId={credential['id']}"
    )
    assert busy.status_code == 200
    assert busy.json()["data"] == [
        {"start": z(at(day, 10)), "end": z(at(day, 11)), "source": "Dentist"}
    ]

    # A guest asking for the busy time is refused; the one after it is fine.
    booking = {
        "startTime": z(at(day, 10)),
        "endTime": z(at(day, 10, 30)),
        "inviteeName": "Alex",
        "inviteeEmail": "alex@example.com",
        "inviteeTimezone": "Europe/Berlin",
    }
    refused = api.post("/api/public/scheduling/demo/30min/book", json=booking)
    assert refused.status_code in (400, 409), refused.text
    assert "no longer available" in refused.text
    booking |= {"startTime": z(at(day, 11)), "endTime": z(at(day, 11, 30))}
    assert api.post("/api/public/scheduling/demo/30min/book", json=booking).status_code in (
        200,
        201,
    )

    # Unselect: the busy time stops counting at once; select again: back after a sync.
    params = f"integration=caldav_calendar&externalId={cal['externalId']}&credentialId={credential['id']}"
    assert api.delete(f"/v2/selected-calendars?{params}").status_code == 200
    assert count(settings, CalendarBusy) == count(settings, HostBusy) == 0
    assert z(at(day, 10)) in slot_starts(api, day)
    chosen = api.post(
        "/v2/selected-calendars",
        json={
            "integration": "caldav_calendar",
            "externalId": cal["externalId"],
            "credentialId": credential["id"],
        },
    )
    assert chosen.status_code == 201, chosen.text
    sync_now(settings)
    assert z(at(day, 10)) not in slot_starts(api, day)

    assert api.get("/v2/calendars/caldav/check").status_code == 200
    gone = api.post("/v2/calendars/caldav/disconnect", json={"id": credential["id"]})
    assert gone.status_code == 200, gone.text
    assert count(settings, CalendarConnection) == 0
    assert count(settings, CalendarBusy) == count(settings, HostBusy) == 0
    assert z(at(day, 10)) in slot_starts(api, day)


def test_the_booking_refreshes_stale_busy_times_first(
    api: TestClient,  # type: ignore[type-arg]
    settings: Settings,
    radicale_server: DavServer,
):
    """An event added in the calendar a moment ago blocks the booking, though no sync ran."""
    user, password = radicale_server.account()
    calendar = radicale_server.make_calendar(user, password, "Work")
    answer = api.post(
        "/v2/calendars/caldav/credentials",
        json={"username": user, "password": password, "url": radicale_server.url},
    )
    assert answer.status_code == 201
    day = next_weekday(6)
    calendar.save_event(vevent(uid(), f"DTSTART:{utc(at(day, 14))}", f"DTEND:{utc(at(day, 15))}"))
    booking = {
        "startTime": z(at(day, 14)),
        "endTime": z(at(day, 14, 30)),
        "inviteeName": "Alex",
        "inviteeEmail": "alex@example.com",
        "inviteeTimezone": "Europe/Berlin",
    }
    refused = api.post("/api/public/scheduling/demo/30min/book", json=booking)
    assert refused.status_code in (400, 409), refused.text
    assert "no longer available" in refused.text
    assert count(settings, CalendarBusy) == 1


def test_ics_feed_save_and_check(
    api: TestClient,  # type: ignore[type-arg]
    settings: Settings,
    feeds: tuple[str, FeedStore],
):
    base, store = feeds
    path = f"/{uid()}.ics"
    day = next_weekday(5)
    store.publish(
        path,
        vcalendar(
            f"UID:a\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{utc(at(day, 9))}\r\n"
            f"DTEND:{utc(at(day, 12))}",
            extra="X-WR-CALNAME:Holidays and more\r\n",
        ),
    )
    saved = api.post("/v2/calendars/ics-feed/save", json={"urls": [base + path]})
    assert saved.status_code == 201, saved.text
    assert saved.json()["data"]["type"] == "ics-feed_calendar"
    listed = api.get("/v2/calendars")
    [connected] = listed.json()["data"]["connectedCalendars"]
    assert connected["calendars"][0]["name"] == "Holidays and more"
    assert connected["calendars"][0]["readOnly"]
    assert path not in listed.text  # the feed's URL is a secret
    assert api.get("/v2/calendars/ics-feed/check").status_code == 200
    sync_now(settings)
    assert z(at(day, 9)) not in slot_starts(api, day)

    destination = api.put(
        "/v2/destination-calendars",
        json={
            "integration": "ics-feed_calendar",
            "externalId": connected["calendars"][0]["externalId"],
        },
    )
    assert destination.status_code == 400
    assert "read-only" in destination.json()["message"]


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ({"username": "x", "password": "wrong"}, "caldav", "refused the user name or password"),
        ({"username": "", "password": "p"}, "caldav", "username is required"),
        ({"username": "u", "password": "p"}, "google", "Unknown calendar"),
        ({"username": "u", "password": "p", "url": "ftp://example.com/"}, "caldav", "http"),
    ],
)
def test_bad_credentials_are_refused_and_nothing_is_saved(
    api: TestClient,  # type: ignore[type-arg]
    settings: Settings,
    radicale_server: DavServer,
    body: dict[str, str],
    path: str,
    message: str,
):
    body = {"url": radicale_server.url, **body}
    if body["username"] == "x":
        body["username"], _ = radicale_server.account()
    answer = api.post(f"/v2/calendars/{path}/credentials", json=body)
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["message"]
    assert count(settings, CalendarConnection) == 0


def test_a_url_that_is_not_caldav_or_not_a_feed(
    api: TestClient,  # type: ignore[type-arg]
    settings: Settings,
    feeds: tuple[str, FeedStore],
):
    base, store = feeds
    store.publish("/page.html", "<html><body>hello</body></html>")
    not_dav = api.post(
        "/v2/calendars/caldav/credentials",
        json={"username": "u", "password": "p", "url": base + "/page.html"},
    )
    assert not_dav.status_code == 400
    assert "CalDAV" in not_dav.json()["message"] or "nothing" in not_dav.json()["message"]
    not_feed = api.post("/v2/calendars/ics-feed/save", json={"urls": [base + "/page.html"]})
    assert not_feed.status_code == 400
    assert "iCalendar" in not_feed.json()["message"]
    missing = api.post("/v2/calendars/ics-feed/save", json={"urls": [base + "/missing.ics"]})
    assert missing.status_code == 400 and "does not exist" in missing.json()["message"]
    assert count(settings, CalendarConnection) == 0


def test_private_addresses_are_refused_by_default(tmp_path: Path, radicale_server: DavServer):
    settings = make_settings(tmp_path)
    prepare_database(settings.database_url)
    key = with_session(settings.database_url, lambda s: create_api_key(s, "demo"))
    with TestClient(app=create_app(settings)) as client:
        answer = client.post(
            "/v2/calendars/caldav/credentials",
            json={"username": "u", "password": "p", "url": radicale_server.url},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert answer.status_code == 400
    assert "private or local" in answer.json()["message"]


def test_busy_times_bad_input(api: TestClient):  # type: ignore[type-arg]
    assert api.get("/v2/calendars/busy-times?timeZone=Mars/Base").status_code == 400
    far = api.get("/v2/calendars/busy-times?dateFrom=2026-01-01&dateTo=2026-12-01")
    assert far.status_code == 400 and "too long" in far.json()["message"]
    assert (
        api.get("/v2/calendars/busy-times?dateFrom=2026-01-05&dateTo=2026-01-01").status_code == 400
    )
    assert api.post("/v2/calendars/caldav/disconnect", json={"id": 999}).status_code == 404
    assert (
        api.put(
            "/v2/destination-calendars", json={"integration": "caldav_calendar", "externalId": "x"}
        ).status_code
        == 404
    )
