"""The guest's pages around the happy path: the first visit that learns the zone, the zone search,
the next free date, a phone call that needs a number, the rate limit and error pages in the
reader's language, link pages in the booking's language, APIs that stay English."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from app.db.models import Booking, EventType
from app.main import create_app
from support import (
    booking_body,
    demo_slot,
    make_settings,
    next_weekday,
    prepare_database,
    with_session,
)

HX = {"HX-Request": "true"}
TZ = "Europe/Berlin"
API = "/api/public/scheduling"


def change_event_type(settings, slug: str, **values) -> None:
    async def work(session):
        await session.execute(update(EventType).where(EventType.slug == slug).values(**values))
        await session.commit()

    with_session(settings.database_url, work)


def test_a_first_visit_without_a_zone_gets_a_light_page_that_asks_for_its_times(
    client, monkeypatch
):
    from app.bookings import service

    calls = []
    original = service.slots_for_window

    async def counting(*args, **kwargs):
        calls.append(1)
        return await original(*args, **kwargs)

    monkeypatch.setattr(service, "slots_for_window", counting)
    page = client.get("/demo/30min", params={"date": "2030-01-07", "embed": "1"})
    assert page.status_code == 200 and calls == []  # no slot computed for the wrong zone
    assert 'data-detect="/demo/30min?embed=1&amp;date=2030-01-07"' in page.text
    # Without JavaScript the page goes on in the host's zone by itself.
    assert (
        '<noscript><meta http-equiv="refresh" content="0; url=/demo/30min?embed=1&amp;date=2030-01-07&amp;tz=Europe%2FBerlin"></noscript>'
        in page.text
    )
    fragment = client.get("/demo/30min", params={"tz": "Asia/Tokyo"}, headers=HX)
    assert "<html" not in fragment.text and 'id="slots"' in fragment.text and calls


def test_the_zone_search_works_with_and_without_javascript(client):
    day = next_weekday()
    params = {"q": "tokio", "tz": TZ, "date": day.isoformat(), "locale": "de"}
    results = client.get("/demo/30min/zones", params=params, headers=HX)
    assert results.status_code == 200 and '<div id="zone-results"' in results.text
    assert "Tokio" in results.text and "Japanische" in results.text and "GMT+09:00" in results.text
    assert f"tz=Asia%2FTokyo&amp;locale=de&amp;date={day.isoformat()}" in results.text
    assert "1 Zeitzone gefunden" in results.text
    page = client.get("/demo/30min/zones", params=params)
    assert "<!doctype html>" in page.text and '<details class="tz-change" open>' in page.text
    assert 'value="tokio"' in page.text and "Tokio" in page.text
    none = client.get("/demo/30min/zones", params={**params, "q": "Atlantis"}, headers=HX)
    assert "Keine Zeitzone passt zu „Atlantis“" in none.text


def test_an_empty_month_offers_the_next_free_date_and_opens_its_month(client, settings):
    change_event_type(settings, "30min", min_notice_minutes=45 * 24 * 60, booking_window_days=120)
    page = client.get("/demo/30min", params={"tz": TZ})
    first = re.search(r'data-day="(\d{4}-\d{2}-\d{2})" aria-current="true"', page.text)
    assert first is not None
    first_free = date.fromisoformat(first.group(1))
    assert first_free >= date.today() + timedelta(days=44)

    this_month = date.today().strftime("%Y-%m")
    calendar = client.get(
        "/demo/30min/calendar", params={"tz": TZ, "month": this_month}, headers=HX
    )
    assert "No free times in" in calendar.text
    assert f"date={first_free.isoformat()}" in calendar.text and "Next free date:" in calendar.text

    empty_day = next_weekday()
    slots = client.get(
        "/demo/30min/slots", params={"tz": TZ, "date": empty_day.isoformat()}, headers=HX
    )
    assert (
        "No free times on this day." in slots.text
        and f"date={first_free.isoformat()}" in slots.text
    )


def test_an_event_type_with_nothing_to_book_says_so(client, settings):
    change_event_type(settings, "30min", min_notice_minutes=10 * 24 * 60, booking_window_days=5)
    page = client.get("/demo/30min", params={"tz": TZ})
    assert "There are no free times to book at the moment." in page.text


def test_a_phone_call_needs_the_guests_number(client, settings):
    change_event_type(
        settings, "30min", location_type="phone", location_value="", phone_mode="hidden"
    )
    start, end = demo_slot(hour=10)
    missing = client.post(f"{API}/demo/30min/book", json=booking_body(start, end))
    assert missing.status_code == 400 and "inviteePhone is required" in missing.text
    form = client.get("/demo/30min/form", params={"start": start, "tz": TZ}, headers=HX).text
    assert 'name="inviteePhone" type="tel" dir="ltr"' in form and "required" in form
    assert "Dana Demo</bdi> will call you on this number." in form
    ok = client.post(
        f"{API}/demo/30min/book", json=booking_body(start, end, inviteePhone="+49 30 1234567")
    )
    assert ok.status_code == 201
    assert ok.json()["location"] == {"type": "phone", "value": ""}


@pytest.fixture
def limited(tmp_path):
    settings = make_settings(tmp_path, book_rate_limit="1/minute")
    prepare_database(settings.database_url)
    with TestClient(app=create_app(settings)) as client:
        yield client


def test_the_rate_limit_answers_htmx_with_a_message_to_show_in_the_readers_language(limited):
    start, _ = demo_slot(hour=10)
    data = {"startTime": start, "formToken": "x", "inviteeName": "A", "inviteeEmail": "a@b.c"}
    headers = {**HX, "Accept-Language": "de-DE"}
    assert (
        limited.post("/demo/30min/book?tz=Europe/Berlin", data=data, headers=headers).status_code
        == 400
    )
    limited_answer = limited.post("/demo/30min/book?tz=Europe/Berlin", data=data, headers=headers)
    assert limited_answer.status_code == 429
    assert limited_answer.headers["x-widget-error"] == "1"
    assert re.fullmatch(
        r"<div class='alert' role='alert'><p>Zu viele Versuche von Ihrer Verbindung\. Bitte versuchen Sie es in \d+ Sekunden? erneut\.</p></div>",
        limited_answer.text,
    )
    page = limited.post("/demo/30min/book", data=data, headers={"Accept-Language": "fr"})
    assert page.status_code == 429 and "<html lang=fr dir=ltr>" in page.text
    assert "Trop de tentatives" in page.text


def test_error_pages_read_in_the_readers_language_and_apis_stay_english(client):
    page = client.get("/demo/nope", headers={"Accept-Language": "de"})
    assert page.status_code == 404 and "<html lang=de dir=ltr>" in page.text
    unknown = client.get("/no/such/page/at/all", headers={"Accept-Language": "ar"})
    assert unknown.status_code == 404 and "dir=rtl" in unknown.text
    assert "لم نعثر على هذه الصفحة" in unknown.text
    api = client.post(f"{API}/demo/30min/book", json={}, headers={"Accept-Language": "de"})
    assert api.status_code == 400 and "missing required field `startTime`" in api.json()["error"]


def test_link_pages_read_in_the_bookings_language_and_the_host_in_the_hosts(client, settings):
    from app.bookings.tokens import make_token

    start, end = demo_slot(next_weekday(), 11, minutes=15)
    body = booking_body(
        start,
        end,
        inviteeLocale="fr-CA",
        inviteeTimezone="America/Montreal",
        customFields={"company": "Acme"},
    )
    assert client.post(f"{API}/demo/intro/book", json=body).status_code == 201
    booking = with_session(settings.database_url, lambda session: session.scalar(select(Booking)))
    cancel = client.get(
        f"/booking/{make_token(settings, 'cancel', booking)}/cancel",
        headers={"Accept-Language": "de"},
    )
    assert (
        '<html lang="fr-CA" dir="ltr">' in cancel.text and "Annuler ce rendez-vous ?" in cancel.text
    )
    assert "heure de l’Est" in cancel.text  # the guest's zone, named in French
    confirm = client.get(
        f"/booking/{make_token(settings, 'confirm', booking)}/confirm",
        headers={"Accept-Language": "fr"},
    )
    assert '<html lang="en"' in confirm.text and "Confirm this booking?" in confirm.text
    assert "Central European Time" in confirm.text  # the host's zone
