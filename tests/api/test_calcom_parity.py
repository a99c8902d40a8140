"""Cal.com API v2 parity (issue 13): what a client written from Cal.com's documentation relies on.

Every answer here is also checked against Cal.com's OpenAPI document by tests/calcom_contract.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import calcom_contract
import host_api_support
import pytest
from host_api_support import ATTENDEE, auth
from litestar.testing import TestClient
from receivers import drain_outbox
from test_captcha import set_captcha, solve

from app import clock
from app.db.models import EVENT_KIND
from app.hosts.service import create_api_key
from app.main import create_app
from app.notify.timed import is_timed
from support import (
    demo_slot,
    make_settings,
    next_weekday,
    outbox,
    prepare_database,
    subscribe,
    with_session,
)

pytest_plugins = ("receivers",)

demo_headers = host_api_support.demo_headers
other_headers = host_api_support.other_headers


def book(client, headers, hour, *, event="30min", day=None, **body):
    minutes = 15 if event == "intro" else 30
    start, _ = demo_slot(day or next_weekday(), hour, minutes=minutes)
    payload = {"start": start, "eventTypeSlug": event, "username": "demo", "attendee": ATTENDEE}
    if event == "intro":
        payload["bookingFieldsResponses"] = {"company": "Acme"}
    response = client.post("/v2/bookings", json={**payload, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def uids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [b["uid"] for b in response.json()["data"]]


# The contract check itself ------------------------------------------------------------------


def test_the_contract_check_catches_a_wrong_answer_and_lists_its_corrections():
    assert calcom_contract.problems("get", "/v2/me", 200, b'{"status":"success","data":{}}')
    good = b'{"status":"success","data":{"2030-01-07":[{"start":"2030-01-07T09:00:00.000Z"}]}}'
    assert calcom_contract.problems("get", "/v2/slots", 200, good) == []
    ranged = good.replace(b'Z"}', b'Z","end":"2030-01-07T09:30:00.000Z"}')
    assert calcom_contract.problems("get", "/v2/slots", 200, ranged) == []
    assert calcom_contract.problems("post", "/v2/bookings", 200, b"{}")  # documented: 201
    assert calcom_contract.problems("get", "/v2/invented", 200, b"{}")
    assert calcom_contract.problems("get", "/v2/me", 404, b'{"status":"error"}')
    calcom_contract.document()
    assert len(calcom_contract.CORRECTIONS) >= 9


def test_every_v2_operation_we_serve_is_one_of_cal_com(client):
    ours = client.get("/schema/openapi.json").json()["paths"]
    for path, item in ours.items():
        if not path.startswith("/v2/"):
            continue
        concrete = path.replace("{", "").replace("}", "").replace(":int", "").replace(":str", "")
        concrete = "/".join("1" if "_id" in p or p == "uid" else p for p in concrete.split("/"))
        for method in item:
            if method in ("get", "post", "patch", "delete"):
                found = calcom_contract.find_operation(method, concrete)
                assert found is not None, f"{method.upper()} {path} is not in Cal.com's API"


# Errors --------------------------------------------------------------------------------------


def test_errors_have_both_shapes(client, demo_headers):
    missing = client.get("/v2/bookings/bkg_nothing?x=1", headers=demo_headers)
    body = missing.json()
    assert missing.status_code == 404
    assert body["status"] == "error" and body["message"] == body["error"]["message"]
    assert body["error"]["code"] == "NotFoundException"
    assert body["path"] == "/v2/bookings/bkg_nothing?x=1"
    stamp = datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
    assert abs(stamp - datetime.now(UTC)) < timedelta(minutes=1)
    bad = client.post("/v2/event-types", json={"title": 1}, headers=demo_headers)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "BadRequestException"
    assert bad.json()["error"]["details"]["fields"]


def test_state_conflicts_answer_400_as_cal_com_does(client, demo_headers):
    uid = book(client, demo_headers, 9)["uid"]
    assert client.post(f"/v2/bookings/{uid}/cancel", json={}, headers=demo_headers).status_code
    twice = client.post(f"/v2/bookings/{uid}/cancel", json={}, headers=demo_headers)
    assert twice.status_code == 400
    assert twice.json()["message"] == "This booking has already been cancelled."
    again = client.post(
        "/v2/event-types",
        json={"title": "Again", "slug": "30min", "lengthInMinutes": 30},
        headers=demo_headers,
    )
    assert again.status_code == 400


# GET /v2/bookings: every filter, both array spellings ----------------------------------------


@pytest.fixture
def three_bookings(client, demo_headers):
    """A confirmed 30min with a guest, a pending intro, a cancelled 30min; made ten seconds
    apart (the third cancelled ten seconds after it was made), so their times differ."""
    first = book(client, demo_headers, 9, guests=["sam@example.com"])
    clock.set_offset(timedelta(seconds=10))
    second = book(
        client,
        demo_headers,
        11,
        event="intro",
        attendee={**ATTENDEE, "name": "Bea Other", "email": "bea@example.com"},
    )
    clock.set_offset(timedelta(seconds=20))
    third = book(client, demo_headers, 13, day=next_weekday(10))
    clock.set_offset(timedelta(seconds=30))
    client.post(f"/v2/bookings/{third['uid']}/cancel", json={}, headers=demo_headers)
    clock.set_offset(timedelta(0))
    return first, second, third


def test_every_bookings_filter_is_applied(client, demo_headers, three_bookings):
    first, second, third = (b["uid"] for b in three_bookings)

    def listed(query: str) -> list[str]:
        return uids(client.get(f"/v2/bookings?{query}", headers=demo_headers))

    assert listed("") == [first, second, third]
    assert listed("status=upcoming") == [first, second]
    assert listed("status=unconfirmed") == [second]
    assert listed("status=cancelled") == [third]
    assert listed("status=upcoming,cancelled") == [first, second, third]
    assert listed("status=unconfirmed&status=cancelled") == [second, third]
    assert listed("status[]=unconfirmed&status[]=cancelled") == [second, third]
    assert listed("status=past") == [] and listed("status=recurring") == []
    assert listed("attendeeEmail=BEA@example.com") == [second]
    assert listed("attendeeEmail=sam@example.com") == [first]  # a guest is an attendee
    assert listed("attendeeName=Bea%20Other") == [second]
    assert listed("attendeeName=Bea") == []  # exact, as on Cal.com
    assert listed(f"bookingUid={third}") == [third]
    intro = three_bookings[1]["eventTypeId"]
    thirty = three_bookings[0]["eventTypeId"]
    assert listed(f"eventTypeIds={intro}") == [second]
    assert listed(f"eventTypeIds={intro},{thirty}") == [first, second, third]
    assert listed(f"eventTypeIds={intro}&eventTypeIds={thirty}") == [first, second, third]
    assert listed(f"eventTypeId={thirty}") == [first, third]
    second_start = three_bookings[1]["start"]
    assert listed(f"afterStart={second_start}") == [second, third]
    assert listed(f"beforeEnd={three_bookings[1]['end']}") == [first, second]
    assert listed(f"afterStart={next_weekday(10).isoformat()}") == [third]
    created = datetime.fromisoformat(three_bookings[1]["createdAt"].replace("Z", "+00:00"))
    assert listed(f"afterCreatedAt={created.isoformat()}") == [second, third]
    # Answers give whole seconds; the row has its microseconds.
    assert listed(f"beforeCreatedAt={(created + timedelta(seconds=1)).isoformat()}") == [
        first,
        second,
    ]
    made = datetime.fromisoformat(three_bookings[2]["createdAt"].replace("Z", "+00:00"))
    assert listed(f"afterUpdatedAt={(made + timedelta(seconds=1)).isoformat()}") == [third]
    assert listed(f"beforeUpdatedAt={(made - timedelta(seconds=1)).isoformat()}") == [
        first,
        second,
    ]
    assert listed("sortStart=desc") == [third, second, first]
    assert listed("sortCreated=desc") == [third, second, first]
    assert listed("sortEnd=asc") == [first, second, third]
    assert listed("status=upcoming&sortStart=desc&take=1") == [second]
    page = client.get("/v2/bookings?take=2&skip=1", headers=demo_headers).json()
    assert [b["uid"] for b in page["data"]] == [second, third]
    assert page["pagination"]["totalItems"] == 3 and page["pagination"]["hasPreviousPage"]


@pytest.mark.parametrize(
    "query",
    [
        "status=soon",
        "teamId=1",
        "teamsIds=1,2",
        "eventTypeIds=abc",
        "afterStart=yesterday",
        "sortStart=up",
        "attendeEmail=typo@example.com",
        "take=0",
    ],
)
def test_a_filter_we_cannot_honour_is_400(client, demo_headers, query):
    response = client.get(f"/v2/bookings?{query}", headers=demo_headers)
    assert response.status_code == 400, query
    assert response.json()["error"]["code"] == "BadRequestException"


# Event types and slots -------------------------------------------------------------------------


def test_event_types_by_username_and_slug_are_public(client, demo_headers, other_headers):
    client.patch("/v2/event-types/2", json={"hidden": True}, headers=demo_headers)
    public = client.get("/v2/event-types?username=demo").json()["data"]
    assert [e["slug"] for e in public] == ["30min"]  # the hidden one is not listed
    assert public[0]["users"][0]["username"] == "demo"
    own = client.get("/v2/event-types?username=demo", headers=demo_headers).json()["data"]
    assert [e["slug"] for e in own] == ["30min", "intro"]
    one = client.get("/v2/event-types?username=demo&eventSlug=30min").json()["data"]
    assert [e["slug"] for e in one] == ["30min"]
    assert client.get("/v2/event-types?username=nobody").status_code == 404
    for query in ("eventSlug=30min", "usernames=demo,other", "orgSlug=acme", ""):
        assert client.get(f"/v2/event-types?{query}").status_code == 400, query


def test_slots_honour_every_parameter(client, demo_headers):
    day = next_weekday().isoformat()
    base = f"/v2/slots?eventTypeSlug=30min&username=demo&start={day}&end={day}"
    times = client.get(f"{base}&timeZone=Europe/Berlin").json()["data"][day]
    assert times[0] == {"start": f"{day}T09:00:00.000+01:00"} or times[0]["start"].endswith(
        "+02:00"
    )
    ranged = client.get(f"{base}&format=range").json()["data"][day]
    assert all(set(slot) == {"start", "end"} for slot in ranged)
    assert client.get(f"{base}&duration=30").status_code == 200
    for extra in ("duration=45", "usernames=demo,other", "teamSlug=t", "format=list", "nope=1"):
        assert client.get(f"{base}&{extra}").status_code == 400, extra
    taken = book(client, demo_headers, 10)
    offered = {s["start"] for s in client.get(f"{base}&format=range").json()["data"][day]}
    mine = datetime.fromisoformat(taken["start"].replace("Z", "+00:00"))
    as_slot = mine.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert not any(s.startswith(as_slot[:16]) for s in offered)
    again = client.get(f"{base}&timeZone=UTC&bookingUidToReschedule={taken['uid']}")
    assert f"{as_slot[:19]}.000Z" in {s["start"] for s in again.json()["data"][day]}
    assert client.get(f"{base}&bookingUidToReschedule=bkg_nothing").status_code == 404


# Public booking ---------------------------------------------------------------------------------


def test_a_guest_books_without_a_key_and_the_hosts_captcha_applies(client, settings, demo_headers):
    booked = book(client, {}, 9)
    assert booked["status"] == "accepted" and booked["hosts"][0]["username"] == "demo"
    set_captcha(settings, True)
    start, _ = demo_slot(hour=10)
    body = {"start": start, "eventTypeSlug": "30min", "username": "demo", "attendee": ATTENDEE}
    refused = client.post("/v2/bookings", json=body)
    assert refused.status_code == 400 and "captchaToken" in refused.json()["message"]
    token = solve(client.get("/api/public/scheduling/demo/captcha-challenge").json())
    assert client.post("/v2/bookings", json={**body, "captchaToken": token}).status_code == 201
    start, _ = demo_slot(hour=11)
    as_host = client.post("/v2/bookings", json={**body, "start": start}, headers=demo_headers)
    assert as_host.status_code == 201  # the host's key books as the host: no CAPTCHA


def test_booking_options_we_cannot_honour_are_400(client, demo_headers):
    start, _ = demo_slot(hour=12)
    body = {"start": start, "eventTypeSlug": "30min", "username": "demo", "attendee": ATTENDEE}
    phone = {"locations": [{"type": "attendeePhone"}]}
    assert client.patch("/v2/event-types/1", json=phone, headers=demo_headers).status_code == 200
    for extra in (
        {"teamSlug": "sales"},
        {"meetingUrl": "https://example.com/m"},
        {"instant": True},
        {"location": {"type": "address"}},  # the event type's is attendeePhone
    ):
        response = client.post("/v2/bookings", json={**body, **extra}, headers=demo_headers)
        assert response.status_code == 400, extra
    client.patch("/v2/event-types/1", json={"disableGuests": True}, headers=demo_headers)
    guests = client.post(
        "/v2/bookings", json={**body, "guests": ["sam@example.com"]}, headers=demo_headers
    )
    assert guests.status_code == 400
    with_phone = {**body, "location": {"type": "attendeePhone", "phone": "+49 30 1234567"}}
    done = client.post("/v2/bookings", json=with_phone, headers=demo_headers)
    assert done.status_code == 201, done.text
    assert done.json()["data"]["attendees"][0]["phoneNumber"] == "+49301234567"


# Event type settings and locations ------------------------------------------------------------


def test_event_type_settings_are_kept_or_refused(client, demo_headers):
    base = {"title": "Talk", "slug": "talk", "lengthInMinutes": 20}
    off = {
        "seats": {"disabled": True},
        "recurrence": {"disabled": True},
        "lockTimeZoneToggleOnBookingPage": False,
        "successRedirectUrl": "",
        "lengthInMinutesOptions": [20],
        "confirmationPolicy": {"disabled": True},
        "bookingLimitsCount": {"day": 3},
        "locations": [{"type": "integration", "integration": "cal-video"}],
    }
    created = client.post("/v2/event-types", json={**base, **off}, headers=demo_headers)
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["bookingLimitsCount"] == {"day": 3}
    assert data["confirmationPolicy"] == {"disabled": True}
    assert data["locations"] == [{"type": "integration", "integration": "cal-video"}]
    for refused in (
        {"seats": {"seatsPerTimeSlot": 4, "showAttendeeInfo": True, "showAvailabilityCount": True}},
        {"recurrence": {"interval": 1, "occurrences": 4, "frequency": "weekly"}},
        {"lengthInMinutesOptions": [20, 40]},
        {"confirmationPolicy": {"type": "time", "blockUnconfirmedBookingsInBooker": True}},
        {"bookingLimitsCount": {"week": 3}},
        {"bookingWindow": {"type": "businessDays", "value": 5}},
        {"locations": [{"type": "integration", "integration": "zoom"}]},
        {"locations": [{"type": "phone", "phone": "+1 555 0100"}]},
        {"customName": "{Event type title} with {Scheduler}"},
        {"hideOrganizerEmail": True},
    ):
        response = client.patch(f"/v2/event-types/{data['id']}", json=refused, headers=demo_headers)
        assert response.status_code == 400, refused
    unchanged = client.get(f"/v2/event-types/{data['id']}", headers=demo_headers).json()["data"]
    assert unchanged == data


def test_locations_map_both_ways(client, demo_headers):
    cases = [
        ([{"type": "address", "address": "1 Main St", "public": True}], None),
        ([{"type": "link", "link": "https://meet.example.com/x", "public": True}], None),
        ([{"type": "attendeePhone"}], None),
        ([{"type": "integration", "integration": "cal-video"}], None),
        ([{"type": "integration", "integration": "jitsi"}], "cal-video"),
    ]
    for index, (locations, alias) in enumerate(cases):
        body = {"title": "L", "slug": f"l{index}", "lengthInMinutes": 30, "locations": locations}
        data = client.post("/v2/event-types", json=body, headers=demo_headers).json()["data"]
        expected = [{**locations[0], "integration": alias}] if alias else locations
        assert data["locations"] == expected


# PATCH /v2/me ------------------------------------------------------------------------------------


def test_patch_me_changes_the_profile(client, demo_headers):
    schedule = client.post(
        "/v2/schedules", json={"name": "Late", "timeZone": "UTC"}, headers=demo_headers
    ).json()["data"]
    body = {
        "name": "Dana D.",
        "timeFormat": 12,
        "weekStart": "Sunday",
        "timeZone": "America/New_York",
        "locale": "de",
        "bio": "Hello",
        "defaultScheduleId": schedule["id"],
        "metadata": {"crm": "7"},
    }
    response = client.patch("/v2/me", json=body, headers=demo_headers)
    assert response.status_code == 200, response.text
    me = client.get("/v2/me", headers=demo_headers).json()["data"]
    assert (me["name"], me["timeFormat"], me["weekStart"]) == ("Dana D.", 12, "Sunday")
    assert (me["timeZone"], me["locale"], me["bio"]) == ("America/New_York", "de", "Hello")
    assert me["defaultScheduleId"] == schedule["id"] and me["organizationId"] is None
    assert me["metadata"] == {"crm": "7"}
    for refused in (
        {"timeFormat": 13},
        {"weekStart": "Someday"},
        {"timeZone": "Mars/Base"},
        {"avatarUrl": "http://example.com/a.png"},
        {"defaultScheduleId": 999},
        {"email": "not-an-email"},
    ):
        assert client.patch("/v2/me", json=refused, headers=demo_headers).status_code in (
            400,
            404,
        ), refused
    assert client.get("/v2/me", headers=demo_headers).json()["data"] == me


# Ids never come back ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_ids_are_never_reused_after_a_delete(request, tmp_path, backend):
    if backend == "postgresql":
        settings = make_settings(
            tmp_path, database_url=request.getfixturevalue("pg_url"), allow_private_urls=True
        )
    else:
        settings = make_settings(tmp_path, allow_private_urls=True)
        prepare_database(settings.database_url)
    headers = auth(with_session(settings.database_url, lambda s: create_api_key(s, "demo")))
    kinds = {
        "/v2/event-types": {"title": "T", "slug": "t", "lengthInMinutes": 30},
        "/v2/schedules": {"name": "S", "timeZone": "UTC"},
        "/v2/webhooks": {"subscriberUrl": "http://127.0.0.1:9/h", "active": True},
    }
    with TestClient(app=create_app(settings)) as client:
        for path, body in kinds.items():
            first = client.post(path, json=body, headers=headers).json()["data"]["id"]
            assert client.delete(f"{path}/{first}", headers=headers).status_code == 200
            second = client.post(path, json=body, headers=headers).json()["data"]["id"]
            assert second > first, path


# Mark absent, calendar links -------------------------------------------------------------------


def test_mark_absent_after_the_start_records_one_no_show_event(client, settings, demo_headers):
    booked = book(client, demo_headers, 9, guests=["sam@example.com"])
    url = f"/v2/bookings/{booked['uid']}/mark-absent"
    early = client.post(url, json={"host": True}, headers=demo_headers)
    assert early.status_code == 400 and "start time" in early.json()["message"]
    start = datetime.fromisoformat(booked["start"].replace("Z", "+00:00"))
    clock.set_offset(start - datetime.now(UTC) + timedelta(minutes=5))
    body = {"host": True, "attendees": [{"email": "SAM@example.com", "absent": True}]}
    marked = client.post(url, json=body, headers=demo_headers)
    assert marked.status_code == 200, marked.text
    data = marked.json()["data"]
    assert data["absentHost"] is True
    assert [(a["email"], a["absent"]) for a in data["attendees"]] == [
        ("alex@example.com", False),
        ("sam@example.com", True),
    ]
    assert client.post(url, json=body, headers=demo_headers).status_code == 200  # no change
    stranger = {"attendees": [{"email": "eve@example.com", "absent": True}]}
    assert client.post(url, json=stranger, headers=demo_headers).status_code == 400
    back = client.post(url, json={"host": False}, headers=demo_headers).json()["data"]
    assert back["absentHost"] is False and back["attendees"][1]["absent"] is True
    triggers = [
        e.payload["trigger"]
        for e in outbox(settings, EVENT_KIND, uid=booked["uid"], expand=False)
        if not is_timed(e.payload)
    ]
    assert triggers == ["BOOKING_CREATED", "BOOKING_NO_SHOW_UPDATED", "BOOKING_NO_SHOW_UPDATED"]
    # No email to anyone for a no-show: only the creation's two.
    assert [m.kind for m in outbox(settings, uid=booked["uid"])] == ["email", "email"]
    cancelled = book(client, demo_headers, 11, day=next_weekday(8))  # ahead of the moved clock
    client.post(f"/v2/bookings/{cancelled['uid']}/cancel", json={}, headers=demo_headers)
    refused = client.post(
        f"/v2/bookings/{cancelled['uid']}/mark-absent", json=body, headers=demo_headers
    )
    assert refused.status_code == 400


def test_calendar_links_open_each_calendar_with_the_booking(client, demo_headers):
    booked = book(client, demo_headers, 9)
    response = client.get(f"/v2/bookings/{booked['uid']}/calendar-links", headers=demo_headers)
    links = {item["label"]: item["link"] for item in response.json()["data"]}
    assert list(links) == [
        "Google Calendar",
        "Microsoft Office",
        "Microsoft Outlook",
        "Yahoo Calendar",
        "ICS",
    ]
    compact = booked["start"].replace("-", "").replace(":", "")
    assert links["Google Calendar"].startswith("https://calendar.google.com/calendar/r/eventedit?")
    assert compact in links["Google Calendar"] and compact in links["Yahoo Calendar"]
    assert "outlook.office.com" in links["Microsoft Office"]
    assert "outlook.live.com" in links["Microsoft Outlook"]
    assert "30%20minute%20meeting%20between" in links["Microsoft Outlook"]
    ics = client.get(links["ICS"].replace("http://testserver", ""))
    assert ics.status_code == 200 and "BEGIN:VEVENT" in ics.text
    other = client.get("/v2/bookings/bkg_nothing/calendar-links", headers=demo_headers)
    assert other.status_code == 404


def test_marking_absent_during_the_meeting_loses_no_meeting_event(tmp_path, receiver):
    """MEETING_STARTED came due, no worker ran yet, then the host marked the guest absent (a new
    version): the start still fires, once, and so does the end (planned again for the change)."""
    settings = make_settings(tmp_path, allow_private_urls=True)
    prepare_database(settings.database_url)
    subscribe(
        settings,
        receiver.url,
        ("MEETING_STARTED", "MEETING_ENDED", "BOOKING_NO_SHOW_UPDATED"),
        secret="whsec-parity-0123456789",
    )
    headers = auth(with_session(settings.database_url, lambda s: create_api_key(s, "demo")))
    with TestClient(app=create_app(settings)) as client:
        booked = book(client, headers, 9)
        start = datetime.fromisoformat(booked["start"].replace("Z", "+00:00"))
        clock.set_offset(start - datetime.now(UTC) + timedelta(minutes=5))
        body = {"attendees": [{"email": "alex@example.com", "absent": True}]}
        url = f"/v2/bookings/{booked['uid']}/mark-absent"
        assert client.post(url, json=body, headers=headers).status_code == 200
    clock.set_offset(start - datetime.now(UTC) + timedelta(hours=1))
    drain_outbox(settings)
    drain_outbox(settings)
    fired = sorted(hook.json["triggerEvent"] for hook in receiver.hooks)
    assert fired == ["BOOKING_NO_SHOW_UPDATED", "MEETING_ENDED", "MEETING_STARTED"]


def test_without_a_calendar_a_booking_has_no_references(client, demo_headers):
    booked = book(client, demo_headers, 9)
    response = client.get(f"/v2/bookings/{booked['uid']}/references", headers=demo_headers)
    assert response.status_code == 200 and response.json()["data"] == []
    missing = client.get("/v2/bookings/bkg_nothing/references", headers=demo_headers)
    assert missing.status_code == 404
