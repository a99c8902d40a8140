"""After a booking: emailed links, their pages (GET shows, POST acts), the JSON routes, approval.

The links are read out of the emails in the outbox, as a guest would: the booking service records an
event there, which the worker (here ``expand_outbox``) turns into the emails.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app import clock
from app.db.models import Booking
from app.notify.email import when
from support import book, demo_slot, next_weekday, outbox, with_session

BASE = "/api/public/scheduling"
LINK = re.compile(
    r"http://testserver(/booking/[A-Za-z0-9_.\-]+/(?:cancel|reschedule|confirm|decline))"
)


def booking_row(settings, uid: str) -> Booking:
    async def work(session):
        return (await session.scalars(select(Booking).where(Booking.uid == uid))).one()

    return with_session(settings.database_url, work)


def emails_to(settings, address: str, trigger: str | None = None) -> list[dict[str, Any]]:
    return [
        m.payload
        for m in outbox(settings)
        if m.kind == "email"
        and m.payload["to"] == address
        and (trigger is None or m.payload["trigger"] == trigger)
    ]


def links(payload: dict[str, Any]) -> dict[str, str]:
    found = {path.rsplit("/", 1)[1]: path for path in LINK.findall(payload["text"])}
    assert set(found) <= {"cancel", "reschedule", "confirm", "decline"}
    return found


def test_booking_queues_guest_and_host_emails_with_links(client, settings):
    created = book(client, inviteeLocale="de", inviteeTimezone="Europe/Berlin")
    [guest] = emails_to(settings, "alex@example.com", "BOOKING_CREATED")
    assert set(links(guest)) == {"cancel", "reschedule"}
    assert guest["subject"].startswith("Bestätigt: ")
    assert "Mitteleuropäische" in guest["text"] and "10:00–10:30" in guest["text"]
    assert "BEGIN:VCALENDAR" in guest["ics"] and guest["icsMethod"] == "REQUEST"
    host_mails = [m for m in outbox(settings) if m.payload.get("to") != "alex@example.com"]
    assert len(host_mails) == 1 and host_mails[0].booking_uid == created["id"]
    assert links(host_mails[0].payload) == {}


def test_cancel_page_shows_then_cancels_once(client, settings):
    created = book(client)
    cancel = links(emails_to(settings, "alex@example.com")[0])["cancel"]

    page = client.get(cancel)
    assert page.status_code == 200
    assert "Cancel booking" in page.text and "Alex Johnson" in page.text
    assert booking_row(settings, created["id"]).status == "Confirmed"  # GET changed nothing

    done = client.post(cancel, data={"reason": "Something came up"})
    assert done.status_code == 200 and "has been cancelled" in done.text
    row = booking_row(settings, created["id"])
    assert (row.status, row.cancellation_reason) == ("Cancelled", "Something came up")
    [notice] = emails_to(settings, "alex@example.com", "BOOKING_CANCELLED")
    assert notice["icsMethod"] == "CANCEL" and links(notice) == {}

    again = client.post(cancel, data={})
    assert again.status_code == 409 and "already been cancelled" in again.text
    assert client.get(cancel).status_code == 409

    # The slot is free at once: the same time can be booked again.
    book(client, inviteeEmail="other@example.com")


def test_tampered_and_expired_links_get_their_pages(client, settings):
    book(client)
    cancel = links(emails_to(settings, "alex@example.com")[0])["cancel"]
    token = cancel.split("/")[2]
    tampered = cancel.replace(token, token[:-3] + ("xyz" if token[-3:] != "xyz" else "abc"))
    page = client.get(tampered)
    assert page.status_code == 404 and "This link does not work" in page.text
    assert client.post(tampered, data={}).status_code == 404
    assert client.get(cancel.replace("/cancel", "/confirm")).status_code == 404  # wrong purpose

    clock.set_offset(timedelta(days=30))
    page = client.get(cancel)
    assert page.status_code == 410 and "expired" in page.text
    assert client.post(f"{BASE}/bookings/{token}/cancel", json={}).json() == {
        "error": "This link has expired: the meeting has already started."
    }


def test_json_cancel_and_errors(client, settings):
    created = book(client)
    token = links(emails_to(settings, "alex@example.com")[0])["cancel"].split("/")[2]
    assert client.post(f"{BASE}/bookings/nonsense/cancel").status_code == 404
    response = client.post(f"{BASE}/bookings/{token}/cancel", json={"cancellationReason": "Sick"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == created["id"] and response.json()["status"] == "Cancelled"
    again = client.post(f"{BASE}/bookings/{token}/cancel")
    assert again.status_code == 409
    assert again.json() == {"error": "This booking has already been cancelled."}


def test_json_reschedule_moves_the_booking_and_old_links_die(client, settings):
    created = book(client, hour=10)
    mail = emails_to(settings, "alex@example.com")[0]
    reschedule_token = links(mail)["reschedule"].split("/")[2]
    cancel_link = links(mail)["cancel"]

    page = client.get(links(mail)["reschedule"])
    assert page.status_code == 200
    assert f'href="/demo/30min?reschedule={reschedule_token}&amp;locale=en"' in page.text

    start, end = demo_slot(next_weekday(), 11)
    bad = client.post(f"{BASE}/bookings/{reschedule_token}/reschedule", json={"startTime": "x"})
    assert bad.status_code == 400
    moved = client.post(
        f"{BASE}/bookings/{reschedule_token}/reschedule",
        json={"startTime": start, "endTime": end},
    )
    assert moved.status_code == 201, moved.text
    new = moved.json()
    assert (new["startTime"], new["rescheduledFromUid"]) == (start, created["id"])
    assert booking_row(settings, created["id"]).status == "Rescheduled"

    [notice] = emails_to(settings, "alex@example.com", "BOOKING_RESCHEDULED")
    row = booking_row(settings, new["id"])
    assert when(row.start, row.end, "America/New_York", "en") in notice["text"]
    assert "Previously" in notice["text"]
    assert client.post(cancel_link, data={}).status_code == 409  # old links are spent
    again = client.post(f"{BASE}/bookings/{reschedule_token}/reschedule", json={"startTime": start})
    assert again.status_code == 409
    assert "moved to another time" in again.json()["error"]
    # The old time is free again, the new one is held.
    book(client, hour=10, inviteeEmail="other@example.com")


def test_reschedule_onto_a_taken_slot_keeps_the_old_booking(client, settings):
    created = book(client, hour=10)
    book(client, hour=11, inviteeEmail="other@example.com")
    token = links(emails_to(settings, "alex@example.com")[0])["reschedule"].split("/")[2]
    start, end = demo_slot(next_weekday(), 11)
    response = client.post(
        f"{BASE}/bookings/{token}/reschedule", json={"startTime": start, "endTime": end}
    )
    assert response.status_code == 400 and "no longer available" in response.json()["error"]
    assert booking_row(settings, created["id"]).status == "Confirmed"


def test_cancelled_booking_cannot_be_rescheduled_with_an_old_link(client, settings):
    book(client)
    mail = emails_to(settings, "alex@example.com")[0]
    assert client.post(links(mail)["cancel"], data={}).status_code == 200
    token = links(mail)["reschedule"].split("/")[2]
    start, end = demo_slot(next_weekday(), 11)
    response = client.post(
        f"{BASE}/bookings/{token}/reschedule", json={"startTime": start, "endTime": end}
    )
    assert response.status_code == 409
    assert client.get(links(mail)["reschedule"]).status_code == 409


def test_host_confirms_a_booking_that_needs_approval(client, settings):
    created = book(client, event="intro")
    assert created["status"] == "PendingApproval"
    [pending] = emails_to(settings, "alex@example.com", "BOOKING_REQUESTED")
    assert "will confirm or decline it" in pending["text"]
    [request] = [
        m.payload
        for m in outbox(settings)
        if m.payload["trigger"] == "BOOKING_REQUESTED" and m.payload["to"] != "alex@example.com"
    ]
    host_links = links(request)
    assert set(host_links) == {"confirm", "decline"}

    page = client.get(host_links["confirm"])
    assert page.status_code == 200 and "Confirm booking" in page.text
    done = client.post(host_links["confirm"], data={})
    assert done.status_code == 200 and "is confirmed" in done.text
    assert booking_row(settings, created["id"]).status == "Confirmed"
    [confirmed] = emails_to(settings, "alex@example.com", "BOOKING_CONFIRMED")
    assert confirmed["icsMethod"] == "REQUEST" and "SEQUENCE:1" in confirmed["ics"]
    # The decline link of the same email is spent now.
    assert client.post(host_links["decline"], data={}).status_code == 409
    # The guest's cancel link from the "requested" email is out of date; the newer one works.
    old_cancel = links(pending)["cancel"]
    stale = client.post(old_cancel, data={})
    assert stale.status_code == 409 and "out of date" in stale.text
    assert booking_row(settings, created["id"]).status == "Confirmed"
    assert client.post(links(confirmed)["cancel"], data={}).status_code == 200


def test_host_declines_with_a_reason_and_the_slot_is_free(client, settings):
    created = book(client, event="intro")
    [request] = [
        m.payload
        for m in outbox(settings)
        if m.payload["trigger"] == "BOOKING_REQUESTED" and m.payload["to"] != "alex@example.com"
    ]
    decline = links(request)["decline"]
    assert 'name="reason"' in client.get(decline).text
    done = client.post(decline, data={"reason": "Fully booked that week"})
    assert done.status_code == 200 and "declined" in done.text
    row = booking_row(settings, created["id"])
    assert (row.status, row.decline_reason) == ("Declined", "Fully booked that week")
    [notice] = emails_to(settings, "alex@example.com", "BOOKING_DECLINED")
    assert "Fully booked that week" in notice["text"] and notice["icsMethod"] == "CANCEL"
    book(client, event="intro", inviteeEmail="other@example.com")


def test_rescheduling_a_confirmed_approval_booking_goes_back_to_pending(client, settings):
    book(client, event="intro")
    [request] = [
        m.payload
        for m in outbox(settings)
        if m.payload["trigger"] == "BOOKING_REQUESTED" and m.payload["to"] != "alex@example.com"
    ]
    assert client.post(links(request)["confirm"], data={}).status_code == 200
    [confirmed] = emails_to(settings, "alex@example.com", "BOOKING_CONFIRMED")
    token = links(confirmed)["reschedule"].split("/")[2]
    start, end = demo_slot(next_weekday(), 11, minutes=15)
    moved = client.post(
        f"{BASE}/bookings/{token}/reschedule", json={"startTime": start, "endTime": end}
    )
    assert moved.status_code == 201, moved.text
    assert moved.json()["status"] == "PendingApproval"


def test_the_booking_response_gives_api_users_the_tokens(client, settings):
    created = book(client)
    assert created["cancelUrl"] == f"http://testserver/booking/{created['cancelToken']}/cancel"
    assert created["rescheduleUrl"].endswith(f"/booking/{created['rescheduleToken']}/reschedule")
    start, end = demo_slot(next_weekday(), 12)
    moved = client.post(
        f"{BASE}/bookings/{created['rescheduleToken']}/reschedule",
        json={"startTime": start, "endTime": end},
    ).json()
    assert moved["cancelToken"] != created["cancelToken"]
    cancelled = client.post(f"{BASE}/bookings/{moved['cancelToken']}/cancel")
    assert cancelled.status_code == 200 and "cancelToken" not in cancelled.json()
    assert cancelled.json()["status"] == "Cancelled"
