"""/v2/event-types: Cal.com's names, checks, slug uniqueness, ownership."""

from __future__ import annotations

import host_api_support

from support import demo_slot, next_weekday

# The shared fixtures (API keys of the demo host and of a second host).
demo_headers = host_api_support.demo_headers
other_headers = host_api_support.other_headers

NEW = {
    "title": "Deep dive",
    "slug": "deep-dive",
    "lengthInMinutes": 60,
    "description": "An hour on your project.",
    "locations": [{"type": "link", "link": "https://meet.example.com/dana"}],
    "bookingFields": [
        {"type": "text", "slug": "company", "label": "Company", "required": True},
        {"type": "select", "slug": "size", "label": "Team size", "options": ["1-10", "11+"]},
        {"type": "phone", "slug": "attendeePhoneNumber", "required": True},
    ],
    "slotInterval": 30,
    "minimumBookingNotice": 120,
    "beforeEventBuffer": 10,
    "afterEventBuffer": 5,
    "bookingWindow": {"type": "calendarDays", "value": 30},
    "requiresConfirmation": True,
    "hidden": True,
}


def create(client, headers, **overrides):
    return client.post("/v2/event-types", json={**NEW, **overrides}, headers=headers)


def test_list_shows_the_hosts_event_types(client, demo_headers, other_headers):
    body = client.get("/v2/event-types", headers=demo_headers).json()
    assert body["status"] == "success"
    assert [e["slug"] for e in body["data"]] == ["30min", "intro"]
    first = body["data"][0]
    assert first["lengthInMinutes"] == 30
    assert first["bookingWindow"] == {"type": "calendarDays", "value": 60, "rolling": False}
    assert client.get("/v2/event-types", headers=other_headers).json()["data"] == []


def test_create_answers_every_field_back(client, demo_headers):
    response = create(client, demo_headers)
    assert response.status_code == 201
    data = response.json()["data"]
    assert isinstance(data["id"], int)
    skipped = ("bookingFields", "bookingWindow", "locations")
    expected = {k: v for k, v in NEW.items() if k not in skipped}
    assert {k: data[k] for k in expected} == expected
    assert data["locations"] == [{**NEW["locations"][0], "public": True}]
    assert data["bookingWindow"]["value"] == 30
    assert data["confirmationPolicy"] == {
        "type": "always",
        "blockUnconfirmedBookingsInBooker": True,
    }
    custom = [f for f in data["bookingFields"] if not f["isDefault"]]
    assert [(f["type"], f["slug"], f["required"]) for f in custom] == [
        ("text", "company", True),
        ("select", "size", False),
        ("phone", "attendeePhoneNumber", True),
    ]
    defaults = [f["slug"] for f in data["bookingFields"] if f["isDefault"]]
    assert defaults == ["name", "email", "notes", "guests"]
    fetched = client.get(f"/v2/event-types/{data['id']}", headers=demo_headers).json()["data"]
    assert fetched == data


def test_created_event_type_is_bookable_on_the_public_api(client, demo_headers):
    create(client, demo_headers, hidden=False, requiresConfirmation=False)
    profile = client.get("/api/public/scheduling/demo").json()
    assert "deep-dive" in {e["slug"] for e in profile["eventTypes"]}


def test_slugs_are_unique_per_host_only(client, demo_headers, other_headers):
    assert create(client, demo_headers).status_code == 201
    again = create(client, demo_headers, title="Other")
    assert again.status_code == 400
    assert "deep-dive" in again.json()["message"]
    assert create(client, other_headers).status_code == 201


def test_bad_input_is_400_with_a_message(client, demo_headers):
    cases = [
        {"slug": "Not A Slug!"},
        {"lengthInMinutes": 0},
        {"lengthInMinutes": "thirty"},
        {"locations": [{"type": "carrier-pigeon"}]},
        {"locations": [{"type": "address"}]},
        {"locations": [{"type": "integration", "integration": "skype"}]},
        {"bookingFields": [{"type": "select", "slug": "x", "label": "X"}]},
        {"bookingFields": [{"type": "radio", "slug": "x"}]},
        {"bookingWindow": {"type": "businessDays", "value": 5}},
        {"title": ""},
    ]
    for overrides in cases:
        response = create(client, demo_headers, **overrides)
        assert response.status_code == 400, overrides
        assert response.json()["status"] == "error"
        assert response.json()["message"], overrides
    missing = client.post("/v2/event-types", json={"title": "x"}, headers=demo_headers)
    assert missing.status_code == 400
    assert "slug" in missing.json()["message"]
    broken = client.post(
        "/v2/event-types",
        content=b"{not json",
        headers={**demo_headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400


def test_patch_changes_only_what_is_sent(client, demo_headers):
    created = create(client, demo_headers).json()["data"]
    url = f"/v2/event-types/{created['id']}"
    response = client.patch(
        url,
        json={"title": "Deeper dive", "slotInterval": None, "bookingWindow": {"disabled": True}},
        headers=demo_headers,
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["title"] == "Deeper dive"
    assert data["slotInterval"] is None
    assert data["bookingWindow"] == {"disabled": True}
    assert data["slug"] == "deep-dive"
    assert data["lengthInMinutes"] == 60
    assert data["locations"] == created["locations"]
    clash = client.patch(url, json={"slug": "30min"}, headers=demo_headers)
    assert clash.status_code == 400


def test_schedule_id_must_be_the_hosts(client, demo_headers, other_headers):
    other_schedule = client.get("/v2/schedules/default", headers=other_headers).json()["data"]
    response = create(client, demo_headers, scheduleId=other_schedule["id"])
    assert response.status_code == 404
    own = client.get("/v2/schedules/default", headers=demo_headers).json()["data"]
    assert (
        create(client, demo_headers, scheduleId=own["id"]).json()["data"]["scheduleId"] == own["id"]
    )


def test_delete_then_gone(client, demo_headers):
    created = create(client, demo_headers).json()["data"]
    url = f"/v2/event-types/{created['id']}"
    response = client.delete(url, headers=demo_headers)
    assert response.status_code == 200
    assert response.json()["data"] == {
        "id": response.json()["data"]["id"],
        "lengthInMinutes": response.json()["data"]["lengthInMinutes"],
        "title": response.json()["data"]["title"],
        "slug": response.json()["data"]["slug"],
    }
    assert client.get(url, headers=demo_headers).status_code == 404
    assert client.delete(url, headers=demo_headers).status_code == 404
    assert create(client, demo_headers).status_code == 201


def test_another_hosts_event_type_is_404(client, demo_headers, other_headers):
    demo_id = client.get("/v2/event-types", headers=demo_headers).json()["data"][0]["id"]
    url = f"/v2/event-types/{demo_id}"
    assert client.get(url, headers=other_headers).status_code == 404
    assert client.patch(url, json={"title": "Mine"}, headers=other_headers).status_code == 404
    assert client.delete(url, headers=other_headers).status_code == 404
    assert client.get(url, headers=demo_headers).json()["data"]["title"] == "30 minute meeting"
    assert client.get("/v2/event-types/999999", headers=demo_headers).status_code == 404
    assert client.get("/v2/event-types/99999999999999", headers=demo_headers).status_code == 400


def test_event_type_with_bookings_is_kept_for_them(client, demo_headers):
    created = create(client, demo_headers, requiresConfirmation=False, bookingFields=[]).json()[
        "data"
    ]
    url = f"/v2/event-types/{created['id']}"
    client.patch(url, json={"lengthInMinutes": 30, "slotInterval": None}, headers=demo_headers)
    start, _ = demo_slot(hour=10)
    body = {
        "start": start,
        "eventTypeId": created["id"],
        "attendee": {"name": "Al", "email": "al@example.com", "timeZone": "UTC"},
    }
    booking = client.post("/v2/bookings", json=body, headers=demo_headers).json()["data"]
    refused = client.delete(url, headers=demo_headers)
    assert refused.status_code == 400
    assert "upcoming bookings" in refused.json()["message"]
    client.post(f"/v2/bookings/{booking['uid']}/cancel", json={}, headers=demo_headers)
    assert client.delete(url, headers=demo_headers).status_code == 200
    assert client.get(url, headers=demo_headers).status_code == 404
    kept = client.get(f"/v2/bookings/{booking['uid']}", headers=demo_headers).json()["data"]
    assert kept["eventTypeId"] == created["id"]
    assert create(client, demo_headers).status_code == 201


def test_patched_rules_change_the_slots(client, demo_headers):
    day = next_weekday().isoformat()
    event_type = client.get("/v2/event-types", headers=demo_headers).json()["data"][0]
    params = {"start": day, "end": day, "eventTypeId": event_type["id"]}

    def count():
        data = client.get("/v2/slots", params=params, headers=demo_headers).json()["data"]
        return len(data.get(day, []))

    assert count() == 16
    url = f"/v2/event-types/{event_type['id']}"
    client.patch(url, json={"slotInterval": 60}, headers=demo_headers)
    assert count() == 8
    client.patch(url, json={"lengthInMinutes": 90, "slotInterval": None}, headers=demo_headers)
    assert count() == 5  # 09:00, 10:30, 12:00, 13:30, 15:00
