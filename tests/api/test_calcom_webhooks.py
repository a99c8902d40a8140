"""Webhooks as Cal.com sends them: its trigger names (ours kept as aliases), its payload fields and
status words, X-Cal-Signature-256 beside our own signature, payload templates, and webhooks of
one event type (/v2/event-types/{id}/webhooks)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import host_api_support
import pytest
from host_api_support import ATTENDEE

from app import clock
from app.notify.webhooks import NO_SECRET, cal_signature, fill_template, verify
from support import demo_slot, next_weekday

pytest_plugins = ("receivers",)
demo_headers = host_api_support.demo_headers
other_headers = host_api_support.other_headers
SECRET = "whsec-calcom-parity-0123456789"


@pytest.fixture
def settings(settings):
    """The receivers listen on 127.0.0.1: let the server call private addresses."""
    return dataclasses.replace(settings, allow_private_urls=True)


def subscribe(client, headers, url, triggers=None, path="/v2/webhooks", **extra):
    body = {"subscriberUrl": url, "active": True, "secret": SECRET, **extra}
    if triggers is not None:
        body["triggers"] = triggers
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def book(client, headers, hour, event="30min", **extra):
    minutes = 15 if event == "intro" else 30
    start, _ = demo_slot(next_weekday(), hour, minutes=minutes)
    body = {"start": start, "eventTypeSlug": event, "username": "demo", "attendee": ATTENDEE}
    if event == "intro":
        body["bookingFieldsResponses"] = {"company": "Acme"}
    response = client.post("/v2/bookings", json={**body, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def by_trigger(receiver):
    return [(hook.json["triggerEvent"], hook) for hook in receiver.hooks]


def test_a_booking_is_sent_in_cal_com_shape_with_both_signatures(
    client, settings, demo_headers, receiver, drain
):
    subscribe(client, demo_headers, receiver.url, ["BOOKING_CREATED"])
    booked = book(client, demo_headers, 9, guests=["sam@example.com"])
    drain(settings)
    [hook] = receiver.hooks
    digest = hmac.new(SECRET.encode(), hook.body.encode(), hashlib.sha256).hexdigest()
    assert hook.headers["x-cal-signature-256"] == digest
    assert hook.headers["x-cal-webhook-version"] == "2021-10-20"
    now = int(clock.utcnow().timestamp())
    assert verify(SECRET, hook.headers["x-booking-signature"], hook.body, now)
    body = hook.json
    assert set(body) == {"triggerEvent", "createdAt", "payload"}
    assert body["createdAt"].endswith("Z") and len(body["createdAt"]) == 24
    payload = body["payload"]
    assert payload["status"] == "ACCEPTED" and payload["uid"] == booked["uid"]
    assert payload["bookingId"] == booked["id"] and payload["eventTypeId"] == booked["eventTypeId"]
    assert payload["type"] == "30min" and payload["length"] == 30
    assert payload["title"] == booked["title"] and payload["eventTitle"] == "30 minute meeting"
    assert payload["startTime"] == booked["start"] and payload["endTime"] == booked["end"]
    assert payload["organizer"]["email"] == "demo@example.com"
    assert payload["organizer"]["username"] == "demo"
    start = datetime.fromisoformat(booked["start"].replace("Z", "+00:00"))
    berlin = start.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin")).utcoffset()
    assert payload["organizer"]["utcOffset"] == berlin.total_seconds() // 60
    first, guest = payload["attendees"]
    assert (first["name"], first["firstName"], first["lastName"]) == (
        "Alex Johnson",
        "Alex",
        "Johnson",
    )
    assert first["language"] == {"locale": "en"} and guest["email"] == "sam@example.com"
    assert payload["responses"]["name"] == {"label": "your_name", "value": "Alex Johnson"}
    assert payload["responses"]["guests"]["value"] == ["sam@example.com"]
    assert payload["iCalUID"] == booked["icsUid"]


def test_cal_com_names_and_ours_each_get_one_call_under_their_name(
    client, settings, demo_headers, receiver, drain
):
    subscribe(client, demo_headers, f"{receiver.url}?cal", ["BOOKING_CREATED", "BOOKING_REJECTED"])
    subscribe(
        client, demo_headers, f"{receiver.url}?ours", ["BOOKING_CONFIRMED", "BOOKING_DECLINED"]
    )
    subscribe(
        client, demo_headers, f"{receiver.url}?both", ["BOOKING_CREATED", "BOOKING_CONFIRMED"]
    )
    accepted = book(client, demo_headers, 9, "intro")
    refused = book(client, demo_headers, 11, "intro")
    client.post(f"/v2/bookings/{accepted['uid']}/confirm", headers=demo_headers)
    client.post(
        f"/v2/bookings/{refused['uid']}/decline", json={"reason": "Full"}, headers=demo_headers
    )
    drain(settings)
    calls = sorted(
        (hook.path.split("?")[1], hook.json["triggerEvent"], hook.json["payload"]["status"])
        for hook in receiver.hooks
    )
    assert calls == [
        ("both", "BOOKING_CONFIRMED", "ACCEPTED"),  # one call, under the name it chose first
        ("cal", "BOOKING_CREATED", "ACCEPTED"),  # Cal.com announces an accepted request so
        ("cal", "BOOKING_REJECTED", "REJECTED"),
        ("ours", "BOOKING_CONFIRMED", "ACCEPTED"),
        ("ours", "BOOKING_DECLINED", "REJECTED"),
    ]
    rejected = next(h for h in receiver.hooks if h.json["triggerEvent"] == "BOOKING_REJECTED")
    assert rejected.json["payload"]["rejectionReason"] == "Full"


def test_reschedule_cancel_and_no_show_payloads(client, settings, demo_headers, receiver, drain):
    subscribe(
        client,
        demo_headers,
        receiver.url,
        ["BOOKING_RESCHEDULED", "BOOKING_CANCELLED", "BOOKING_NO_SHOW_UPDATED"],
    )
    old = book(client, demo_headers, 9)
    start, _ = demo_slot(next_weekday(), 12)
    new = client.post(
        f"/v2/bookings/{old['uid']}/reschedule",
        json={"start": start, "reschedulingReason": "Clash"},
        headers=demo_headers,
    ).json()["data"]
    drain(settings)
    [moved] = [h.json["payload"] for h in receiver.hooks]
    assert (moved["uid"], moved["rescheduleUid"]) == (new["uid"], old["uid"])
    assert moved["rescheduleStartTime"] == old["start"] and moved["startTime"] == new["start"]
    assert moved["iCalUID"] == old["icsUid"]  # one calendar event across the move
    clock.set_offset(
        datetime.fromisoformat(new["start"].replace("Z", "+00:00"))
        - datetime.now(UTC)
        + timedelta(minutes=1)
    )
    marked = client.post(
        f"/v2/bookings/{new['uid']}/mark-absent",
        json={"host": False, "attendees": [{"email": "alex@example.com", "absent": True}]},
        headers=demo_headers,
    )
    assert marked.status_code == 200, marked.text
    client.post(
        f"/v2/bookings/{new['uid']}/cancel",
        json={"cancellationReason": "Never came"},
        headers=demo_headers,
    )
    drain(settings)
    no_show, cancelled = [h.json for h in receiver.hooks[1:]]
    assert no_show["triggerEvent"] == "BOOKING_NO_SHOW_UPDATED"
    assert no_show["payload"]["bookingUid"] == new["uid"]
    assert no_show["payload"]["bookingId"] == new["id"]
    assert no_show["payload"]["attendees"] == [{"email": "alex@example.com", "noShow": True}]
    assert "alex@example.com" in no_show["payload"]["message"]
    assert cancelled["payload"]["status"] == "CANCELLED"
    assert cancelled["payload"]["cancellationReason"] == "Never came"


def test_a_payload_template_is_filled_in(client, settings, demo_headers, receiver, drain):
    json_template = (
        '{"who": "{{attendees.0.name}}", "event": "{{triggerEvent}}", '
        '"title": "{{title}}", "missing": "{{nothing.here}}"}'
    )
    subscribe(
        client, demo_headers, receiver.url, ["BOOKING_CREATED"], payloadTemplate=json_template
    )
    form = "name={{attendees.0.name}}&what={{triggerEvent}}&host={{organizer.email}}"
    subscribe(
        client, demo_headers, f"{receiver.url}?form", ["BOOKING_CREATED"], payloadTemplate=form
    )
    booked = book(client, demo_headers, 9, attendee={**ATTENDEE, "name": "Alex & Co <AJ>"})
    drain(settings)
    as_json = next(h for h in receiver.hooks if "?form" not in h.path)
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json == {  # values HTML-escaped, as Handlebars does
        "who": "Alex &amp; Co &lt;AJ&gt;",
        "event": "BOOKING_CREATED",
        "title": booked["title"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
        "missing": "",
    }
    digest = hmac.new(SECRET.encode(), as_json.body.encode(), hashlib.sha256).hexdigest()
    assert as_json.headers["x-cal-signature-256"] == digest
    as_form = next(h for h in receiver.hooks if "?form" in h.path)
    assert as_form.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(as_form.body)["what"] == ["BOOKING_CREATED"]
    assert parse_qs(as_form.body)["host"] == ["demo@example.com"]
    listed = client.get("/v2/webhooks", headers=demo_headers).json()["data"]
    assert {w["payloadTemplate"] for w in listed} == {json_template, form}
    cleared = client.patch(
        f"/v2/webhooks/{listed[0]['id']}", json={"payloadTemplate": None}, headers=demo_headers
    )
    assert cleared.json()["data"]["payloadTemplate"] == ""


def test_handlebars_like_templates():
    data = {"a": {"b": [1, {"c": "x<y"}]}, "t": True, "n": None, "l": ["p", "q"], "o": {}}
    assert fill_template("{{a.b.1.c}}|{{{a.b.1.c}}}", data) == "x&lt;y|x<y"
    assert fill_template("{{t}} {{n}} {{l}} {{o}} {{nope}}", data) == "true  p,q [object Object] "
    assert cal_signature("", "body") == NO_SECRET


def test_triggers_cal_com_never_sends_here_are_refused(client, demo_headers):
    for triggers in (["BOOKING_PAID"], ["FORM_SUBMITTED", "BOOKING_CREATED"], ["NOPE"], []):
        body = {"subscriberUrl": "https://example.com/h", "active": True, "triggers": triggers}
        response = client.post("/v2/webhooks", json=body, headers=demo_headers)
        assert response.status_code == 400, triggers


def test_a_secret_is_generated_when_none_is_given(client, demo_headers):
    body = {"subscriberUrl": "https://example.com/h", "active": True}
    data = client.post("/v2/webhooks", json=body, headers=demo_headers).json()["data"]
    assert data["secret"].startswith("whsec_") and len(data["secret"]) > 30
    again = client.get(f"/v2/webhooks/{data['id']}", headers=demo_headers).json()["data"]
    assert again["secret"].startswith("…") and again["secret"] != data["secret"]


def test_event_type_webhooks_hear_only_their_event_type(
    client, settings, demo_headers, other_headers, receiver, drain
):
    base = "/v2/event-types/2/webhooks"  # intro
    hook = subscribe(
        client, demo_headers, receiver.url, ["BOOKING_REQUESTED", "BOOKING_CREATED"], path=base
    )
    assert hook["eventTypeId"] == 2 and "userId" not in hook
    assert client.get("/v2/webhooks", headers=demo_headers).json()["data"] == []
    assert [w["id"] for w in client.get(base, headers=demo_headers).json()["data"]] == [hook["id"]]
    book(client, demo_headers, 9)  # 30min: not this event type's
    intro = book(client, demo_headers, 11, "intro")
    drain(settings)
    assert [(h.json["triggerEvent"], h.json["payload"]["uid"]) for h in receiver.hooks] == [
        ("BOOKING_REQUESTED", intro["uid"])
    ]
    one = f"{base}/{hook['id']}"
    assert client.get(one, headers=demo_headers).json()["data"]["id"] == hook["id"]
    patched = client.patch(one, json={"active": False}, headers=demo_headers).json()["data"]
    assert patched["active"] is False
    assert client.get(f"/v2/webhooks/{hook['id']}", headers=demo_headers).status_code == 404
    assert (
        client.get(f"/v2/event-types/1/webhooks/{hook['id']}", headers=demo_headers).status_code
        == 404
    )
    assert client.get(base, headers=other_headers).status_code == 404
    assert (
        client.post(
            base, json={"subscriberUrl": "https://example.com/h"}, headers=other_headers
        ).status_code
        == 404
    )
    deleted = client.delete(one, headers=demo_headers)
    assert deleted.status_code == 200 and deleted.json()["data"]["id"] == hook["id"]
    subscribe(client, demo_headers, receiver.url, path=base)
    subscribe(client, demo_headers, receiver.url, path=base)
    emptied = client.delete(base, headers=demo_headers)
    assert emptied.status_code == 200 and emptied.json()["data"] == "2 webhooks deleted"
    assert client.get(base, headers=demo_headers).json()["data"] == []
