"""Bad input gets a clear 400/404 in seed 001's error shape, never a 500, never a partial row."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db.models import Booking
from support import booking_body, demo_slot, next_weekday, with_session

BASE = "/api/public/scheduling"
START, END = demo_slot()


def count_bookings(settings) -> int:
    async def work(session):
        return await session.scalar(select(func.count()).select_from(Booking))

    return with_session(settings.database_url, work)


def slots(client, **params):
    day = next_weekday().isoformat()
    query = {"dateFrom": day, "dateTo": day, "timezone": "UTC", **params}
    return client.get(
        f"{BASE}/demo/30min/slots", params={k: v for k, v in query.items() if v is not None}
    )


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"dateFrom": "2026-02-30"}, "dateFrom"),
        ({"dateTo": "tomorrow"}, "dateTo"),
        ({"dateFrom": "2026-12-10", "dateTo": "2026-12-01"}, "before"),
        ({"dateFrom": "2026-01-01", "dateTo": "2026-06-01"}, "too long"),
        ({"timezone": "Mars/Olympus_Mons"}, "time zone"),
        ({"timezone": "../../etc/passwd"}, "time zone"),
        ({"timezone": None}, "timezone"),
        ({"dateFrom": None}, "dateFrom"),
    ],
)
def test_bad_slot_queries_say_what_is_wrong(client, params, needle):
    response = slots(client, **params)
    assert response.status_code == 400
    assert needle in response.json()["error"]


def test_unknown_user_or_event_type_is_404(client):
    day = next_weekday().isoformat()
    params = {"dateFrom": day, "dateTo": day, "timezone": "UTC"}
    assert client.get(f"{BASE}/nobody").status_code == 404
    assert client.get(f"{BASE}/nobody/30min/slots", params=params).json() == {
        "error": "No scheduling page for 'nobody'."
    }
    assert client.get(f"{BASE}/demo/nothing/slots", params=params).status_code == 404
    response = client.post(f"{BASE}/demo/nothing/book", json=booking_body(START, END))
    assert response.status_code == 404
    assert "error" in response.json()


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"inviteeName": ""}, "inviteeName is required"),
        ({"inviteeName": "x" * 201}, "too long"),
        ({"inviteeEmail": "not-an-email"}, "inviteeEmail"),
        ({"inviteeEmail": "a@b@c.com"}, "inviteeEmail"),
        ({"inviteePhone": "call me maybe"}, "inviteePhone"),
        ({"inviteePhone": "12"}, "inviteePhone"),
        ({"inviteeTimezone": "Nowhere/City"}, "inviteeTimezone"),
        ({"inviteeLocale": "<script>"}, "inviteeLocale"),
        ({"startTime": "2026-03-16 14:00"}, "UTC"),
        ({"startTime": "yesterday"}, "startTime"),
        ({"endTime": START}, "endTime"),
        ({"inviteeNotes": "n" * 5001}, "too long"),
        ({"customFields": {"k": "v" * 2001}}, "too long"),
        ({"customFields": {f"k{i}": "v" for i in range(51)}}, "too many"),
        ({"customFields": {"k": {"nested": 1}}}, "customFields.k"),
        ({"source": "Spam"}, "source"),
        ({"honeypotValue": "I am a bot"}, "honeypotValue"),
        ({"inviteeName": 42}, "inviteeName"),
        ({"customFields": ["a"]}, "customFields"),
    ],
)
def test_garbage_in_a_field_is_a_400_naming_it(client, settings, overrides, needle):
    response = client.post(f"{BASE}/demo/30min/book", json=booking_body(START, END, **overrides))
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]
    assert count_bookings(settings) == 0


def test_end_time_must_match_the_duration(client):
    start, _ = demo_slot()
    _, long_end = demo_slot(minutes=60)
    response = client.post(f"{BASE}/demo/30min/book", json=booking_body(start, long_end))
    assert response.status_code == 400
    assert "30 minutes" in response.json()["error"]


@pytest.mark.parametrize(
    "start_end",
    [
        demo_slot(hour=10, minute=7),  # not on the slot grid
        demo_slot(hour=3),  # outside working hours
        demo_slot(next_weekday(days_ahead=400)),  # beyond the booking window
        ("2020-01-06T09:00:00Z", "2020-01-06T09:30:00Z"),  # in the past
    ],
)
def test_a_time_that_is_not_a_slot_is_refused(client, settings, start_end):
    response = client.post(f"{BASE}/demo/30min/book", json=booking_body(*start_end))
    assert response.status_code == 400
    assert "available" in response.json()["error"]
    assert count_bookings(settings) == 0


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[]", b"null", b'{"startTime": ', b"\xff\xfe", b'"string"', b"{}"],
)
def test_malformed_bodies_are_400(client, raw):
    response = client.post(
        f"{BASE}/demo/30min/book", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]


def test_missing_required_field_is_named(client):
    body = booking_body(START, END)
    del body["inviteeEmail"]
    response = client.post(f"{BASE}/demo/30min/book", json=body)
    assert response.status_code == 400
    assert "inviteeEmail" in response.json()["error"]


def test_oversized_body_is_refused(client):
    body = booking_body(START, END, inviteeNotes="x" * 100_000)
    response = client.post(f"{BASE}/demo/30min/book", json=body)
    assert response.status_code == 413
    assert response.json()["error"]


def test_select_answers_must_be_offered_options(client, settings):
    start, end = demo_slot(minutes=15)
    response = client.post(
        f"{BASE}/demo/intro/book", json=booking_body(start, end, customFields={"company": ""})
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Company is required."}


def test_rate_limit_gives_429_after_the_limit(tmp_path):
    from litestar.testing import TestClient

    from app.main import create_app
    from support import make_settings, prepare_database

    settings = make_settings(tmp_path, book_rate_limit="15/minute")
    prepare_database(settings.database_url)
    with TestClient(app=create_app(settings)) as client:
        codes = [client.post(f"{BASE}/demo/30min/book", json={}).status_code for _ in range(16)]
    assert codes[:15] == [400] * 15
    assert codes[15] == 429
