"""GET /v2/slots: Cal.com's 2024-09-04 shape, from the same engine as the public API."""

from __future__ import annotations

import host_api_support

from support import demo_slot, next_weekday

# The shared fixtures (API keys of the demo host and of a second host).
demo_headers = host_api_support.demo_headers
other_headers = host_api_support.other_headers


def slots(client, headers, **params):
    return client.get("/v2/slots", params=params, headers=headers)


def test_slots_are_keyed_by_date_with_local_start_times(client, demo_headers):
    day = next_weekday()
    event_type = client.get("/v2/event-types", headers=demo_headers).json()["data"][0]
    response = slots(
        client,
        demo_headers,
        start=day.isoformat(),
        end=day.isoformat(),
        eventTypeId=event_type["id"],
        timeZone="Europe/Berlin",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    assert list(body["data"]) == [day.isoformat()]
    starts = [s["start"] for s in body["data"][day.isoformat()]]
    assert len(starts) == 16
    assert starts[0].startswith(f"{day.isoformat()}T09:00:00.000+0")
    assert all(set(s) == {"start"} for s in body["data"][day.isoformat()])


def test_range_format_utc_default_and_the_public_api_agree(client, demo_headers):
    day = next_weekday()
    body = slots(
        client,
        demo_headers,
        start=day.isoformat(),
        end=day.isoformat(),
        eventTypeSlug="30min",
        username="demo",
        slotFormat="range",
    ).json()
    first = body["data"][day.isoformat()][0]
    start, end = demo_slot(day, 9)
    assert first == {  # UTC (the default zone) written with Z, as Cal.com's Luxon does
        "start": start.replace("Z", ".000Z"),
        "end": end.replace("Z", ".000Z"),
    }
    public = client.get(
        "/api/public/scheduling/demo/30min/slots",
        params={"dateFrom": day.isoformat(), "dateTo": day.isoformat(), "timezone": "UTC"},
    ).json()
    assert len(public[0]["slots"]) == len(body["data"][day.isoformat()])


def test_instants_bound_the_window(client, demo_headers):
    day = next_weekday()
    start, _ = demo_slot(day, 10)
    end, _ = demo_slot(day, 11)
    body = slots(client, demo_headers, start=start, end=end, eventTypeSlug="30min").json()
    assert len(body["data"][day.isoformat()]) == 2


def test_bad_slot_queries(client, demo_headers, other_headers):
    day = next_weekday().isoformat()
    assert slots(client, demo_headers, start=day, end=day).status_code == 400
    bad_zone = slots(client, demo_headers, start=day, end=day, eventTypeSlug="30min", timeZone="X")
    assert bad_zone.status_code == 400
    assert "timeZone" in bad_zone.json()["message"]
    backwards = slots(client, demo_headers, start=day, end="2020-01-01", eventTypeSlug="30min")
    assert backwards.status_code == 400
    assert (
        slots(client, demo_headers, start="soon", end=day, eventTypeSlug="30min").status_code == 400
    )
    too_long = slots(
        client, demo_headers, start="2030-01-01", end="2030-06-01", eventTypeSlug="30min"
    )
    assert too_long.status_code == 400
    assert slots(client, demo_headers, start=day, end=day, eventTypeSlug="nope").status_code == 404
    foreign = slots(client, demo_headers, start=day, end=day, eventTypeSlug="30min", username="x")
    assert foreign.status_code == 404
    # Slots are public (as on Cal.com): any key, or none, reads any event type's.
    assert slots(client, other_headers, start=day, end=day, eventTypeId=1).status_code == 200
    assert slots(client, {}, start=day, end=day, eventTypeId=1).status_code == 200
    assert slots(client, {}, start=day, end=day, eventTypeSlug="30min").status_code == 400
    assert slots(client, {}, start=day, end=day, eventTypeId=999_999).status_code == 404
    assert (
        slots(client, demo_headers, start=day, end=day, eventTypeId=1, slotFormat="x").status_code
        == 400
    )
