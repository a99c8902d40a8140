"""The public scheduling API, held to seeds 000 and 001."""

from __future__ import annotations

from support import booking_body, demo_slot, next_weekday

BASE = "/api/public/scheduling"


def test_profile_lists_visible_event_types_with_branding(client):
    response = client.get(f"{BASE}/demo")
    assert response.status_code == 200
    profile = response.json()
    assert profile["slug"] == "demo"
    assert profile["branding"]["color"].startswith("#")
    assert {e["slug"] for e in profile["eventTypes"]} == {"30min", "intro"}


def test_slots_are_grouped_by_the_guests_date(client):
    day = next_weekday()
    response = client.get(
        f"{BASE}/demo/30min/slots",
        params={
            "dateFrom": day.isoformat(),
            "dateTo": day.isoformat(),
            "timezone": "Europe/Berlin",
        },
    )
    assert response.status_code == 200
    [group] = response.json()
    assert group["date"] == day.isoformat()
    assert len(group["slots"]) == 16
    assert group["slots"][0] == dict(zip(("startTime", "endTime"), demo_slot(day, 9), strict=True))


def test_seed_python_example_books_the_first_slot(client):
    day = next_weekday()
    slots = client.get(
        f"{BASE}/demo/30min/slots",
        params={
            "dateFrom": day.isoformat(),
            "dateTo": day.isoformat(),
            "timezone": "America/New_York",
        },
    ).json()
    first = slots[0]["slots"][0]
    response = client.post(
        f"{BASE}/demo/30min/book", json=booking_body(first["startTime"], first["endTime"])
    )
    assert response.status_code == 201
    booking = response.json()
    assert booking["id"].startswith("bkg_")
    assert booking["eventTypeId"].startswith("evt_")
    assert booking["status"] == "Confirmed"
    assert booking["invitee"] == {
        "name": "Alex Johnson",
        "email": "alex@example.com",
        "phone": None,
        "timezone": "America/New_York",
    }
    assert booking["createdAt"].endswith("Z")


def test_the_same_slot_cannot_be_booked_twice(client):
    start, end = demo_slot()
    assert client.post(f"{BASE}/demo/30min/book", json=booking_body(start, end)).status_code == 201
    second = client.post(
        f"{BASE}/demo/30min/book", json=booking_body(start, end, inviteeEmail="b@example.com")
    )
    assert second.status_code == 400
    assert second.json() == {"error": "The selected time slot is no longer available."}


def test_a_booked_slot_disappears_from_the_slots(client):
    day = next_weekday()
    start, end = demo_slot(day, 11)
    client.post(f"{BASE}/demo/30min/book", json=booking_body(start, end))
    params = {"dateFrom": day.isoformat(), "dateTo": day.isoformat(), "timezone": "UTC"}
    starts = [
        s["startTime"]
        for s in client.get(f"{BASE}/demo/30min/slots", params=params).json()[0]["slots"]
    ]
    assert start not in starts
    assert len(starts) == 15


def test_approval_event_type_books_as_pending(client):
    start, end = demo_slot(minutes=15)
    body = booking_body(start, end, customFields={"company": "Acme Inc."})
    response = client.post(f"{BASE}/demo/intro/book", json=body)
    assert response.status_code == 201
    assert response.json()["status"] == "PendingApproval"


def test_an_event_type_that_requires_authentication_is_not_booked_by_guests(client, settings):
    """Cal.com's bookingRequiresAuthentication: only its host books it (``/v2`` with the key)."""
    from sqlalchemy import update

    from app.db.models import EventType
    from support import with_session

    async def require_auth(session):  # type: ignore[no-untyped-def]
        await session.execute(
            update(EventType).where(EventType.slug == "30min").values(booking_requires_auth=True)
        )
        await session.commit()

    with_session(settings.database_url, require_auth)
    slot = demo_slot(next_weekday(3), 10)
    answer = client.post(BASE + "/demo/30min/book", json=booking_body(*slot))
    assert answer.status_code == 403
    assert answer.json()["error"] == "This event type can only be booked by its host."
