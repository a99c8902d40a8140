"""/v2/bookings: booking by API goes through the same service, lifecycle, filters, ownership."""

from __future__ import annotations

from datetime import timedelta

import host_api_support
from host_api_support import ATTENDEE

from app import clock
from support import booking_body, demo_slot, next_weekday, outbox, with_session

# The shared fixtures (API keys of the demo host and of a second host).
demo_headers = host_api_support.demo_headers
other_headers = host_api_support.other_headers

PUBLIC = "/api/public/scheduling/demo"


def event_type_id(client, headers, slug="30min"):
    listed = client.get("/v2/event-types", headers=headers).json()["data"]
    return next(e["id"] for e in listed if e["slug"] == slug)


def book(client, headers, at, **overrides):
    body = {"start": at, "attendee": ATTENDEE, **overrides}
    if "eventTypeId" not in body:
        body["eventTypeId"] = event_type_id(client, headers)
    return client.post("/v2/bookings", json=body, headers=headers)


def book_intro(client, headers, hour=10):
    start, _ = demo_slot(hour=hour, minutes=15)
    body = {
        "start": start,
        "eventTypeSlug": "intro",
        "username": "demo",
        "attendee": ATTENDEE,
        "bookingFieldsResponses": {"company": "Acme"},
    }
    response = client.post("/v2/bookings", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def outbox_triggers(settings, uid):
    """The (kind, trigger) of the emails and webhook calls queued for ``uid``."""
    return sorted((row.kind, row.payload["trigger"]) for row in outbox(settings, uid=uid))


def test_booking_by_api_has_cal_shape_and_takes_the_public_slot(client, demo_headers):
    day = next_weekday()
    start, end = demo_slot(day, 11)
    response = book(
        client,
        demo_headers,
        start,
        guests=["sam@example.com"],
        metadata={"crm": "42"},
        attendee={**ATTENDEE, "phoneNumber": "+49 30 1234567", "language": "de"},
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["uid"].startswith("bkg_")
    assert data["status"] == "accepted"
    assert (data["start"], data["end"], data["duration"]) == (start, end, 30)
    assert data["eventType"] == {"id": data["eventTypeId"], "slug": "30min"}
    assert data["hosts"][0]["username"] == "demo"
    assert data["attendees"][0]["email"] == "alex@example.com"
    assert data["attendees"][0]["phoneNumber"] == "+49301234567"
    assert data["attendees"][0]["language"] == "de"
    assert data["guests"] == ["sam@example.com"]
    assert data["metadata"] == {"crm": "42"}
    assert data["rescheduledFromUid"] is None
    assert data["icsUid"] == f"{data['uid']}@booking-widget"
    params = {"dateFrom": day.isoformat(), "dateTo": day.isoformat(), "timezone": "UTC"}
    public = client.get(f"{PUBLIC}/30min/slots", params=params).json()
    assert start not in [s["startTime"] for s in public[0]["slots"]]
    taken = client.post(f"{PUBLIC}/30min/book", json=booking_body(start, end))
    assert taken.status_code == 400
    fetched = client.get(f"/v2/bookings/{data['uid']}", headers=demo_headers).json()["data"]
    assert fetched == data


def test_api_and_public_bookings_queue_the_same_notifications(client, settings, demo_headers):
    hook = {"subscriberUrl": "https://example.com/hook", "triggers": ["BOOKING_CREATED"]}
    assert client.post("/v2/webhooks", json=hook, headers=demo_headers).status_code == 201
    api_start, _ = demo_slot(hour=9)
    api_uid = book(client, demo_headers, api_start).json()["data"]["uid"]
    start, end = demo_slot(hour=13)
    public_uid = client.post(f"{PUBLIC}/30min/book", json=booking_body(start, end)).json()["id"]
    api_rows = outbox_triggers(settings, api_uid)
    assert ("webhook", "BOOKING_CREATED") in api_rows
    assert api_rows == outbox_triggers(settings, public_uid)


def test_the_same_slot_cannot_be_booked_twice(client, demo_headers):
    start, _ = demo_slot(hour=14)
    assert book(client, demo_headers, start).status_code == 201
    again = book(client, demo_headers, start, attendee={**ATTENDEE, "email": "b@example.com"})
    assert again.status_code == 400
    assert again.json() == {
        "status": "error",
        "message": "The selected time slot is no longer available.",
    }


def test_bad_booking_requests_are_400(client, demo_headers):
    start, _ = demo_slot(hour=15)
    cases = [
        {"start": "2026-13-01T10:00:00Z"},
        {"start": start.replace("Z", "")},
        {"start": "2020-01-06T09:00:00Z"},
        {"attendee": {**ATTENDEE, "email": "not-an-email"}},
        {"attendee": {**ATTENDEE, "timeZone": "Nowhere/Land"}},
        {"attendee": {**ATTENDEE, "name": ""}},
        {"attendee": {**ATTENDEE, "language": "not a language"}},
        {"attendee": {"name": "No Email"}},
        {"guests": ["nope"]},
        {"lengthInMinutes": 45},
        {"metadata": {"nested": {"a": 1}}},
        {"eventTypeId": None},
    ]
    for overrides in cases:
        response = book(client, demo_headers, start, **overrides)
        assert response.status_code == 400, (overrides, response.text)
        assert response.json()["status"] == "error"
    intro_without_answer = client.post(
        "/v2/bookings",
        json={"start": start, "eventTypeSlug": "intro", "attendee": ATTENDEE},
        headers=demo_headers,
    )
    assert intro_without_answer.status_code == 400
    assert "Company" in intro_without_answer.json()["message"]


def test_another_hosts_event_types_cannot_be_booked(client, demo_headers, other_headers):
    start, _ = demo_slot(hour=15)
    demo_id = event_type_id(client, demo_headers)
    response = book(client, other_headers, start, eventTypeId=demo_id)
    assert response.status_code == 404
    by_slug = {"start": start, "eventTypeSlug": "30min", "username": "demo", "attendee": ATTENDEE}
    assert client.post("/v2/bookings", json=by_slug, headers=other_headers).status_code == 404


def test_cancel_frees_the_slot_and_only_once(client, demo_headers):
    day = next_weekday()
    start, _ = demo_slot(day, 12)
    uid = book(client, demo_headers, start).json()["data"]["uid"]
    response = client.post(
        f"/v2/bookings/{uid}/cancel",
        json={"cancellationReason": "Schedule conflict"},
        headers=demo_headers,
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["status"], data["cancellationReason"]) == ("cancelled", "Schedule conflict")
    again = client.post(f"/v2/bookings/{uid}/cancel", json={}, headers=demo_headers)
    assert again.status_code == 409
    assert book(client, demo_headers, start).status_code == 201


def test_reschedule_answers_the_new_booking(client, demo_headers):
    start, _ = demo_slot(hour=10)
    new_start, _ = demo_slot(hour=16)
    old = book(client, demo_headers, start).json()["data"]
    response = client.post(
        f"/v2/bookings/{old['uid']}/reschedule",
        json={"start": new_start, "reschedulingReason": "Conflict with another meeting"},
        headers=demo_headers,
    )
    assert response.status_code == 201, response.text
    new = response.json()["data"]
    assert new["uid"] != old["uid"]
    assert new["rescheduledFromUid"] == old["uid"]
    assert new["start"] == new_start
    assert new["status"] == "accepted"
    assert new["reschedulingReason"] == "Conflict with another meeting"
    assert new["icsUid"] == old["icsUid"]
    moved = client.get(f"/v2/bookings/{old['uid']}", headers=demo_headers).json()["data"]
    assert (moved["status"], moved["rescheduledToUid"]) == ("cancelled", new["uid"])
    taken = client.post(
        f"/v2/bookings/{new['uid']}/reschedule", json={"start": "soon"}, headers=demo_headers
    )
    assert taken.status_code == 400
    assert (
        client.post(
            f"/v2/bookings/{old['uid']}/reschedule", json={"start": start}, headers=demo_headers
        ).status_code
        == 409
    )


def test_confirm_and_decline_pending_bookings(client, demo_headers):
    pending = book_intro(client, demo_headers, hour=10)
    assert pending["status"] == "pending"
    confirmed = client.post(f"/v2/bookings/{pending['uid']}/confirm", headers=demo_headers)
    assert confirmed.status_code == 200
    assert confirmed.json()["data"]["status"] == "accepted"
    again = client.post(f"/v2/bookings/{pending['uid']}/confirm", headers=demo_headers)
    assert again.status_code == 409
    other = book_intro(client, demo_headers, hour=11)
    declined = client.post(
        f"/v2/bookings/{other['uid']}/decline",
        json={"reason": "Fully booked"},
        headers=demo_headers,
    )
    assert declined.status_code == 200
    assert declined.json()["data"]["status"] == "rejected"
    assert declined.json()["data"]["rejectionReason"] == "Fully booked"
    accepted = book(client, demo_headers, demo_slot(hour=15)[0]).json()["data"]
    assert (
        client.post(f"/v2/bookings/{accepted['uid']}/decline", headers=demo_headers).status_code
        == 409
    )


def test_another_hosts_booking_is_404(client, demo_headers, other_headers):
    uid = book(client, demo_headers, demo_slot(hour=9)[0]).json()["data"]["uid"]
    base = f"/v2/bookings/{uid}"
    assert client.get(base, headers=other_headers).status_code == 404
    for action, body in [
        ("cancel", {}),
        ("confirm", None),
        ("decline", {}),
        ("reschedule", {"start": demo_slot(hour=12)[0]}),
    ]:
        response = client.post(f"{base}/{action}", json=body, headers=other_headers)
        assert response.status_code == 404, action
        assert response.json() == {"status": "error", "message": "Booking not found."}
    assert client.get(base, headers=demo_headers).json()["data"]["status"] == "accepted"
    assert client.get("/v2/bookings/bkg_nothing", headers=demo_headers).status_code == 404


def test_list_filters_and_pagination(client, demo_headers, other_headers):
    day = next_weekday()
    uids = [
        book(
            client, demo_headers, demo_slot(day, hour)[0], attendee={**ATTENDEE, "email": email}
        ).json()["data"]["uid"]
        for hour, email in [(9, "a@example.com"), (10, "b@example.com"), (11, "a@example.com")]
    ]
    pending = book_intro(client, demo_headers, hour=14)
    client.post(f"/v2/bookings/{uids[1]}/cancel", json={}, headers=demo_headers)

    def listed(**params):
        body = client.get("/v2/bookings", params=params, headers=demo_headers).json()
        return [b["uid"] for b in body["data"]], body["pagination"]

    everything, pagination = listed()
    assert everything == [*uids, pending["uid"]]
    assert pagination["totalItems"] == 4
    assert listed(status="upcoming")[0] == [uids[0], uids[2], pending["uid"]]
    assert listed(status="unconfirmed")[0] == [pending["uid"]]
    assert listed(status="cancelled")[0] == [uids[1]]
    assert listed(status="past")[0] == []
    assert listed(status="cancelled,unconfirmed")[0] == [uids[1], pending["uid"]]
    assert listed(attendeeEmail="A@example.com")[0] == [uids[0], uids[2]]
    intro_id = event_type_id(client, demo_headers, "intro")
    assert listed(eventTypeId=intro_id)[0] == [pending["uid"]]
    page, pagination = listed(take=2, skip=1)
    assert page == everything[1:3]
    assert pagination == {
        "totalItems": 4,
        "remainingItems": 1,
        "returnedItems": 2,
        "itemsPerPage": 2,
        "currentPage": 1,
        "totalPages": 2,
        "hasNextPage": True,
        "hasPreviousPage": True,
    }
    assert (
        client.get("/v2/bookings", params={"status": "soon"}, headers=demo_headers).status_code
        == 400
    )
    assert client.get("/v2/bookings", params={"take": 0}, headers=demo_headers).status_code == 400
    assert client.get("/v2/bookings", headers=other_headers).json()["data"] == []
    clock.set_offset(timedelta(days=30))
    assert listed(status="past")[0] == [uids[0], uids[2], pending["uid"]]
    assert listed(status="upcoming")[0] == []


def test_booking_creation_is_rate_limited_like_the_widget(tmp_path):
    from litestar.testing import TestClient

    from app.hosts.service import create_api_key
    from app.main import create_app
    from support import make_settings, prepare_database

    settings = make_settings(tmp_path, book_rate_limit="3/minute")
    prepare_database(settings.database_url)
    headers = host_api_support.auth(
        with_session(settings.database_url, lambda s: create_api_key(s, "demo"))
    )
    with TestClient(app=create_app(settings)) as client:
        codes = [client.post("/v2/bookings", json={}, headers=headers) for _ in range(4)]
        assert [r.status_code for r in codes[:3]] == [400] * 3
        assert codes[3].status_code == 429
        assert codes[3].json()["status"] == "error"
        # Reading is not throttled.
        assert client.get("/v2/bookings", headers=headers).status_code == 200
