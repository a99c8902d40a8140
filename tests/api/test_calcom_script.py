"""A script written from Cal.com's API v2 documentation, run against a live server as it would run
against api.cal.com: only the base URL (and the key) differ. Every answer is checked against
Cal.com's OpenAPI document by tests/calcom_contract.py: the target is no mismatch at all.

Mark-absent comes after the meeting: that call goes to a second server on the same database whose
clock is three weeks ahead (``later``)."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime

import httpx

from app.hosts.service import create_api_key
from support import live_server, make_settings, prepare_database, with_session

pytest_plugins = ("receivers",)
SECRET = "whsec-script-0123456789abcdef"
ATTENDEE = {"name": "John Doe", "email": "john.doe@example.com", "timeZone": "America/New_York"}


def utc(local: str) -> str:
    return datetime.fromisoformat(local).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cal_script(base: str, later: str, key: str, hook_url: str) -> dict:
    """What a Cal.com integrator writes from the docs (seed 003), step by step."""
    auth = {"Authorization": f"Bearer {key}"}
    v = lambda version: {"cal-api-version": version}  # noqa: E731
    api = httpx.Client(base_url=base, timeout=30)
    seen: dict = {}

    me = api.get("/v2/me", headers=auth).json()["data"]
    schedule = api.post(
        "/v2/schedules",
        headers={**auth, **v("2024-06-11")},
        json={
            "name": "Working Hours",
            "timeZone": "America/New_York",
            "isDefault": True,
            "availability": [{"days": [1, 2, 3, 4, 5], "startTime": "09:00", "endTime": "17:00"}],
        },
    ).json()["data"]
    meeting = api.post(
        "/v2/event-types",
        headers={**auth, **v("2024-06-14")},
        json={
            "title": "30 Minute Meeting",
            "slug": "30min-meeting",
            "lengthInMinutes": 30,
            "locations": [{"type": "integration", "integration": "cal-video"}],
            "scheduleId": schedule["id"],
        },
    ).json()["data"]
    approval = api.post(
        "/v2/event-types",
        headers={**auth, **v("2024-06-14")},
        json={
            "title": "Approval call",
            "slug": "approval-call",
            "lengthInMinutes": 30,
            "scheduleId": schedule["id"],
            "confirmationPolicy": {"type": "always", "blockUnconfirmedBookingsInBooker": True},
        },
    ).json()["data"]
    hook = api.post(
        "/v2/webhooks",
        headers=auth,
        json={
            "subscriberUrl": hook_url,
            "triggers": [
                "BOOKING_CREATED",
                "BOOKING_RESCHEDULED",
                "BOOKING_CANCELLED",
                "BOOKING_REQUESTED",
                "BOOKING_REJECTED",
                "BOOKING_NO_SHOW_UPDATED",
            ],
            "active": True,
            "secret": SECRET,
        },
    ).json()["data"]

    # Slots, both formats, without a key (as a booking front end does).
    day = datetime.now(UTC).date().toordinal() + 7
    first, last = (datetime.fromordinal(d).date().isoformat() for d in (day, day + 6))
    query = {
        "start": first,
        "end": last,
        "eventTypeId": meeting["id"],
        "timeZone": "America/New_York",
    }
    times = api.get("/v2/slots", params=query, headers=v("2024-09-04")).json()["data"]
    ranges = api.get(
        "/v2/slots", params={**query, "format": "range"}, headers=v("2024-09-04")
    ).json()["data"]
    starts = [slot["start"] for day_slots in times.values() for slot in day_slots]
    seen["slot_days"], seen["ranged"] = (
        len(times),
        all("end" in s for d in ranges.values() for s in d),
    )

    def book(event: dict, at: str, **extra) -> dict:
        response = api.post(
            "/v2/bookings",
            headers=v("2024-08-13"),
            json={"start": utc(at), "eventTypeId": event["id"], "attendee": ATTENDEE, **extra},
        )
        assert response.status_code == 201, response.text
        return response.json()["data"]

    kept = book(meeting, starts[0], metadata={"source": "script"})
    dropped = book(meeting, starts[2])
    accepted = book(approval, starts[4])
    refused = book(approval, starts[6])

    listed = {}
    for name, params in {
        "upcoming": {"status": "upcoming"},
        "two statuses": {"status": "upcoming,unconfirmed"},
        "attendeeEmail": {"attendeeEmail": ATTENDEE["email"]},
        "attendeeName": {"attendeeName": ATTENDEE["name"]},
        "bookingUid": {"bookingUid": kept["uid"]},
        "eventTypeIds": {"eventTypeIds": f"{meeting['id']},{approval['id']}"},
        "eventTypeId": {"eventTypeId": approval["id"]},
        "afterStart": {"afterStart": kept["start"]},
        "beforeEnd": {"beforeEnd": kept["end"]},
        "afterCreatedAt": {"afterCreatedAt": first},
        "beforeCreatedAt": {"beforeCreatedAt": last},
        "afterUpdatedAt": {"afterUpdatedAt": "2020-01-01"},
        "beforeUpdatedAt": {"beforeUpdatedAt": "2099-01-01"},
        "sortStart": {"sortStart": "desc"},
        "sortEnd": {"sortEnd": "asc"},
        "sortCreated": {"sortCreated": "desc"},
        "sortUpdatedAt": {"sortUpdatedAt": "asc"},
        "take": {"take": 2, "skip": 1},
    }.items():
        answer = api.get("/v2/bookings", params=params, headers={**auth, **v("2024-08-13")})
        listed[name] = [b["uid"] for b in answer.json()["data"]]
    seen["listed"] = listed

    moved = api.post(
        f"/v2/bookings/{kept['uid']}/reschedule",
        headers={**auth, **v("2024-08-13")},
        json={"start": utc(starts[8]), "reschedulingReason": "Conflict with another meeting"},
    ).json()["data"]
    cancelled = api.post(
        f"/v2/bookings/{dropped['uid']}/cancel",
        headers={**auth, **v("2024-08-13")},
        json={"cancellationReason": "Schedule conflict"},
    ).json()["data"]
    confirmed = api.post(
        f"/v2/bookings/{accepted['uid']}/confirm", headers={**auth, **v("2024-08-13")}
    ).json()["data"]
    declined = api.post(
        f"/v2/bookings/{refused['uid']}/decline",
        headers={**auth, **v("2024-08-13")},
        json={"reason": "Fully booked"},
    ).json()["data"]
    fetched = api.get(f"/v2/bookings/{moved['uid']}", headers={**auth, **v("2024-08-13")})
    links = api.get(f"/v2/bookings/{moved['uid']}/calendar-links", headers=auth).json()["data"]
    refs = api.get(f"/v2/bookings/{moved['uid']}/references", headers=auth).json()["data"]

    with httpx.Client(base_url=later, timeout=30) as after:
        absent = after.post(
            f"/v2/bookings/{moved['uid']}/mark-absent",
            headers={**auth, **v("2024-08-13")},
            json={"host": False, "attendees": [{"email": ATTENDEE["email"], "absent": True}]},
        ).json()["data"]
    seen.update(
        me=me,
        uids={"kept": kept["uid"], "dropped": dropped["uid"], "accepted": accepted["uid"]},
        statuses=[kept["status"], accepted["status"], moved["status"], cancelled["status"]],
        decisions=[confirmed["status"], declined["status"]],
        fetched=fetched.json()["data"]["uid"] == moved["uid"],
        links=[link["label"] for link in links],
        references=refs,
        absent=[a["absent"] for a in absent["attendees"]],
        hook=hook,
        moved=moved,
    )
    api.close()
    return seen


def test_a_script_written_from_cal_com_docs_runs_unchanged(tmp_path, receiver, calcom_contract):
    settings = make_settings(tmp_path, run_worker=True, allow_private_urls=True)
    prepare_database(settings.database_url)
    key = with_session(settings.database_url, lambda s: create_api_key(s, "demo"))
    with live_server(settings) as base, live_server(settings, clock_shift=21 * 86400) as later:
        seen = cal_script(base, later, key, receiver.url)
        deadline = time.monotonic() + 60
        # At least once: a delivery may come twice (the second server's clock runs three weeks
        # ahead, so its worker sees the first one's leases as expired); receivers dedupe on the
        # delivery id, as the README tells them to.
        while len(set(receiver.delivery_ids())) < 9 and time.monotonic() < deadline:
            time.sleep(0.2)
    assert seen["me"]["username"] == "demo"
    assert seen["slot_days"] == 5 and seen["ranged"]
    assert seen["statuses"] == ["accepted", "pending", "accepted", "cancelled"]
    assert seen["decisions"] == ["accepted", "rejected"]
    assert seen["listed"]["bookingUid"] == [seen["uids"]["kept"]]
    assert seen["listed"]["eventTypeId"] == [
        seen["uids"]["accepted"],
        *seen["listed"]["eventTypeId"][1:],
    ]
    assert len(seen["listed"]["take"]) == 2
    assert seen["fetched"] and seen["references"] == [] and seen["absent"] == [True]
    assert seen["links"][0] == "Google Calendar"
    unique = {hook.headers["x-booking-delivery"]: hook for hook in receiver.hooks}
    triggers = sorted(hook.json["triggerEvent"] for hook in unique.values())
    assert triggers == sorted(
        [
            "BOOKING_CREATED",
            "BOOKING_CREATED",
            "BOOKING_REQUESTED",
            "BOOKING_REQUESTED",
            "BOOKING_RESCHEDULED",
            "BOOKING_CANCELLED",
            "BOOKING_CREATED",  # the approval, as Cal.com announces it
            "BOOKING_REJECTED",
            "BOOKING_NO_SHOW_UPDATED",
        ]
    )
    for hook in receiver.hooks:  # what a Cal.com receiver checks
        digest = hmac.new(SECRET.encode(), hook.body.encode(), hashlib.sha256).hexdigest()
        assert hmac.compare_digest(hook.headers["x-cal-signature-256"], digest)
    assert calcom_contract.checked >= 35 and calcom_contract.mismatches == []
