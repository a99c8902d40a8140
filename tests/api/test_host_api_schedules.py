"""/v2/schedules: day names, HH:MM times, overrides, the default schedule, ownership."""

from __future__ import annotations

import host_api_support

from support import next_weekday

# The shared fixtures (API keys of the demo host and of a second host).
demo_headers = host_api_support.demo_headers
other_headers = host_api_support.other_headers

EVENINGS = {
    "name": "Evenings",
    "timeZone": "America/New_York",
    "availability": [
        {"days": ["Monday", "tuesday"], "startTime": "17:00", "endTime": "19:00"},
        {"days": [3], "startTime": "18:00", "endTime": "24:00"},
    ],
    "overrides": [
        {"date": "2030-05-20", "startTime": "10:00", "endTime": "12:00"},
        {"date": "2030-05-21", "startTime": "00:00", "endTime": "00:00"},
    ],
}


def test_default_schedule_is_mondays_to_fridays(client, demo_headers):
    response = client.get("/v2/schedules/default", headers=demo_headers)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["isDefault"] is True
    assert data["timeZone"] == "Europe/Berlin"
    assert data["availability"] == [
        {
            "days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
            "startTime": "09:00",
            "endTime": "17:00",
        }
    ]
    listed = client.get("/v2/schedules", headers=demo_headers).json()["data"]
    assert listed == [data]


def test_create_accepts_names_and_cal_numbers_and_answers_names(client, demo_headers):
    response = client.post("/v2/schedules", json=EVENINGS, headers=demo_headers)
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["isDefault"] is False
    assert data["availability"] == [
        {"days": ["Monday", "Tuesday"], "startTime": "17:00", "endTime": "19:00"},
        # Cal.com has no "24:00": a day's end is "23:59", which reads back as the day's end.
        {"days": ["Wednesday"], "startTime": "18:00", "endTime": "23:59"},
    ]
    assert data["overrides"] == EVENINGS["overrides"]
    assert client.get(f"/v2/schedules/{data['id']}", headers=demo_headers).json()["data"] == data


def test_without_availability_a_schedule_gets_nine_to_five(client, demo_headers):
    body = {"name": "Plain", "timeZone": "UTC"}
    data = client.post("/v2/schedules", json=body, headers=demo_headers).json()["data"]
    assert data["availability"][0]["startTime"] == "09:00"
    assert len(data["availability"][0]["days"]) == 5


def test_bad_schedules_are_400(client, demo_headers):
    rule = {"days": ["Monday"], "startTime": "09:00", "endTime": "17:00"}
    cases = [
        {"timeZone": "Mars/Olympus"},
        {"availability": [{**rule, "days": ["Funday"]}]},
        {"availability": [{**rule, "days": [7]}]},
        {"availability": [{**rule, "startTime": "9am"}]},
        {"availability": [{**rule, "startTime": "18:00"}]},
        {"availability": [{**rule, "days": []}]},
        {"overrides": [{"date": "2030-02-30", "startTime": "09:00", "endTime": "10:00"}]},
        {"name": ""},
    ]
    for overrides in cases:
        body = {"name": "X", "timeZone": "UTC", **overrides}
        response = client.post("/v2/schedules", json=body, headers=demo_headers)
        assert response.status_code == 400, overrides
        assert response.json()["status"] == "error"


def test_making_a_schedule_default_moves_the_flag(client, demo_headers):
    old = client.get("/v2/schedules/default", headers=demo_headers).json()["data"]
    new = client.post("/v2/schedules", json=EVENINGS, headers=demo_headers).json()["data"]
    response = client.patch(
        f"/v2/schedules/{new['id']}", json={"isDefault": True}, headers=demo_headers
    )
    assert response.json()["data"]["isDefault"] is True
    assert (
        client.get("/v2/schedules/default", headers=demo_headers).json()["data"]["id"] == new["id"]
    )
    assert (
        client.get(f"/v2/schedules/{old['id']}", headers=demo_headers).json()["data"]["isDefault"]
        is False
    )
    me = client.get("/v2/me", headers=demo_headers).json()["data"]
    assert me["defaultScheduleId"] == new["id"]


def test_default_schedule_cannot_be_deleted_or_undefaulted(client, demo_headers):
    default = client.get("/v2/schedules/default", headers=demo_headers).json()["data"]
    url = f"/v2/schedules/{default['id']}"
    assert client.delete(url, headers=demo_headers).status_code == 400
    assert client.patch(url, json={"isDefault": False}, headers=demo_headers).status_code == 400


def test_deleting_a_schedule_moves_its_event_types_to_the_default(client, demo_headers):
    schedule = client.post("/v2/schedules", json=EVENINGS, headers=demo_headers).json()["data"]
    event_type = client.get("/v2/event-types", headers=demo_headers).json()["data"][0]
    url = f"/v2/event-types/{event_type['id']}"
    client.patch(url, json={"scheduleId": schedule["id"]}, headers=demo_headers)
    response = client.delete(f"/v2/schedules/{schedule['id']}", headers=demo_headers)
    assert response.status_code == 200
    assert client.get(url, headers=demo_headers).json()["data"]["scheduleId"] is None
    assert client.get(f"/v2/schedules/{schedule['id']}", headers=demo_headers).status_code == 404


def test_patch_replaces_hours_and_the_slots_follow(client, demo_headers):
    day = next_weekday()
    default = client.get("/v2/schedules/default", headers=demo_headers).json()["data"]
    closed = {"date": day.isoformat(), "startTime": "00:00", "endTime": "00:00"}
    response = client.patch(
        f"/v2/schedules/{default['id']}", json={"overrides": [closed]}, headers=demo_headers
    )
    assert response.json()["data"]["overrides"] == [closed]
    assert response.json()["data"]["availability"] == default["availability"]
    params = {"start": day.isoformat(), "end": day.isoformat(), "eventTypeSlug": "30min"}
    slots = client.get("/v2/slots", params=params, headers=demo_headers).json()["data"]
    assert slots == {}


def test_another_hosts_schedule_is_404(client, demo_headers, other_headers):
    default = client.get("/v2/schedules/default", headers=demo_headers).json()["data"]
    url = f"/v2/schedules/{default['id']}"
    assert client.get(url, headers=other_headers).status_code == 404
    assert client.patch(url, json={"name": "Mine"}, headers=other_headers).status_code == 404
    assert client.delete(url, headers=other_headers).status_code == 404


def test_an_override_with_hours_replaces_that_day_only(client, demo_headers):
    day = next_weekday()
    following = next_weekday(days_ahead=1, today=day)
    default = client.get("/v2/schedules/default", headers=demo_headers).json()["data"]
    late = {"date": day.isoformat(), "startTime": "18:00", "endTime": "19:00"}
    client.patch(f"/v2/schedules/{default['id']}", json={"overrides": [late]}, headers=demo_headers)
    params = {
        "start": day.isoformat(),
        "end": following.isoformat(),
        "eventTypeSlug": "30min",
        "timeZone": "Europe/Berlin",
    }
    slots = client.get("/v2/slots", params=params, headers=demo_headers).json()["data"]
    assert [s["start"][11:16] for s in slots[day.isoformat()]] == ["18:00", "18:30"]
    assert len(slots[following.isoformat()]) == 16  # 09:00-17:00 as every weekday
