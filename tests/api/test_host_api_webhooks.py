"""/v2/webhooks: http(s) URLs only, known triggers, a secret never shown, ownership."""

from __future__ import annotations

import host_api_support

from app.notify.events import TRIGGERS

# The shared fixtures (API keys of the demo host and of a second host).
demo_headers = host_api_support.demo_headers
other_headers = host_api_support.other_headers

SECRET = "whsec-0123456789abcdef"


def test_create_list_update_delete(client, demo_headers):
    body = {"subscriberUrl": "https://example.com/hook", "secret": SECRET}
    response = client.post("/v2/webhooks", json=body, headers=demo_headers)
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["subscriberUrl"] == "https://example.com/hook"
    assert data["triggers"] == list(TRIGGERS)
    assert data["active"] is True
    assert SECRET not in response.text
    assert data["secret"] == "…cdef"
    assert client.get("/v2/webhooks", headers=demo_headers).json()["data"] == [data]
    url = f"/v2/webhooks/{data['id']}"
    changed = client.patch(
        url, json={"active": False, "triggers": ["BOOKING_CANCELLED"]}, headers=demo_headers
    ).json()["data"]
    assert changed["active"] is False
    assert changed["triggers"] == ["BOOKING_CANCELLED"]
    assert changed["subscriberUrl"] == data["subscriberUrl"]
    assert client.delete(url, headers=demo_headers).status_code == 200
    assert client.get(url, headers=demo_headers).status_code == 404


def test_without_a_secret_none_is_reported(client, demo_headers):
    body = {"subscriberUrl": "http://localhost:9000/x", "triggers": ["BOOKING_CREATED"]}
    data = client.post("/v2/webhooks", json=body, headers=demo_headers).json()["data"]
    assert data["secret"] is None
    assert data["triggers"] == ["BOOKING_CREATED"]


def test_bad_webhooks_are_400(client, demo_headers):
    cases = [
        {"subscriberUrl": "ftp://example.com/hook"},
        {"subscriberUrl": "javascript:alert(1)"},
        {"subscriberUrl": "https://"},
        {"subscriberUrl": "not a url"},
        {"subscriberUrl": "https://example.com", "triggers": ["BOOKING_EXPLODED"]},
        {"subscriberUrl": "https://example.com", "triggers": []},
        {"subscriberUrl": 42},
    ]
    for body in cases:
        response = client.post("/v2/webhooks", json=body, headers=demo_headers)
        assert response.status_code == 400, body
        assert response.json()["status"] == "error"


def test_another_hosts_webhook_is_404(client, demo_headers, other_headers):
    body = {"subscriberUrl": "https://example.com/hook"}
    data = client.post("/v2/webhooks", json=body, headers=demo_headers).json()["data"]
    url = f"/v2/webhooks/{data['id']}"
    assert client.get(url, headers=other_headers).status_code == 404
    assert client.patch(url, json={"active": False}, headers=other_headers).status_code == 404
    assert client.delete(url, headers=other_headers).status_code == 404
    assert client.get("/v2/webhooks", headers=other_headers).json()["data"] == []
    assert client.get(url, headers=demo_headers).json()["data"]["active"] is True
