"""/v2/webhooks: public http(s) URLs only, known triggers, a secret shown once and sealed, ownership."""

from __future__ import annotations

import dataclasses

import host_api_support
from litestar.testing import TestClient

from app.crypto import unseal
from app.hosts.webhooks import list_webhooks
from app.main import create_app
from app.notify.events import TRIGGERS
from support import with_session

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


def test_a_generated_secret_is_shown_once_and_stored_sealed(client, settings, demo_headers):
    body = {"subscriberUrl": "https://hooks.example.com/x", "triggers": ["BOOKING_CREATED"]}
    response = client.post("/v2/webhooks", json=body, headers=demo_headers)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    secret = data["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert data["triggers"] == ["BOOKING_CREATED"]
    [listed] = client.get("/v2/webhooks", headers=demo_headers).json()["data"]
    assert listed["secret"] == "…" + secret[-4:]
    fetched = client.get(f"/v2/webhooks/{data['id']}", headers=demo_headers).json()["data"]
    assert fetched["secret"] == "…" + secret[-4:]

    [row] = with_session(settings.database_url, lambda s: list_webhooks(s, data["ownerId"]))
    assert secret not in row.secret and unseal(settings.secret_keys, row.secret) == secret


def test_a_given_secret_is_sealed_and_an_empty_one_refused_on_change(
    client, settings, demo_headers
):
    body = {"subscriberUrl": "https://example.com/hook", "secret": SECRET}
    data = client.post("/v2/webhooks", json=body, headers=demo_headers).json()["data"]
    [row] = with_session(settings.database_url, lambda s: list_webhooks(s, data["ownerId"]))
    assert unseal(settings.secret_keys, row.secret) == SECRET
    url = f"/v2/webhooks/{data['id']}"
    for bad in ("", "short"):
        response = client.patch(url, json={"secret": bad}, headers=demo_headers)
        assert response.status_code == 400, bad
        assert "secret" in response.json()["message"]
    rotated = client.patch(url, json={"secret": "whsec-rotated-000000wxyz"}, headers=demo_headers)
    assert rotated.json()["data"]["secret"] == "…wxyz"


# Inside the network, in every spelling: loopback, private, link-local (the cloud's metadata
# service), unspecified, unique-local, multicast, and IPv4 hidden in IPv6 or in numeric forms.
INTERNAL_URLS = [
    "http://127.0.0.1/hook",
    "http://localhost:5432/",
    "http://sub.localhost/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0:8000/v2/me",
    "http://2130706433/",  # 127.0.0.1 in decimal
    "http://0x7f000001/",  # in hex
    "http://0177.0.0.1/",  # in octal
    "http://127.1/",  # short form
    "http://10.0.0.8/hook",
    "http://172.16.5.4/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "http://[::ffff:a9fe:a9fe]/hook",  # 169.254.169.254, mapped, in hex
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://[ff02::1]/hook",
    "http://224.0.0.1/hook",
]


def test_internal_urls_are_refused(client, demo_headers):
    for url in INTERNAL_URLS:
        response = client.post("/v2/webhooks", json={"subscriberUrl": url}, headers=demo_headers)
        assert response.status_code == 400, url
        message = response.json()["message"]
        assert "private or local network address" in message, (url, message)
    assert client.get("/v2/webhooks", headers=demo_headers).json()["data"] == []


def test_a_webhook_cannot_be_moved_inside_the_network(client, demo_headers):
    body = {"subscriberUrl": "https://example.com/hook"}
    data = client.post("/v2/webhooks", json=body, headers=demo_headers).json()["data"]
    url = f"/v2/webhooks/{data['id']}"
    moved = client.patch(url, json={"subscriberUrl": "http://[::1]:6379/"}, headers=demo_headers)
    assert moved.status_code == 400
    assert client.get(url, headers=demo_headers).json()["data"]["subscriberUrl"] == (
        "https://example.com/hook"
    )


def test_credentials_in_the_url_are_refused(client, demo_headers):
    for url in ("https://user:pass@example.com/hook", "https://token@example.com/hook"):
        response = client.post("/v2/webhooks", json={"subscriberUrl": url}, headers=demo_headers)
        assert response.status_code == 400, url
        assert "user name or password" in response.json()["message"]


def test_private_urls_are_allowed_when_the_setting_says_so(tmp_path, demo_headers, settings):
    allowed = dataclasses.replace(settings, allow_private_urls=True)
    with TestClient(app=create_app(allowed)) as client:
        body = {"subscriberUrl": "http://127.0.0.1:9000/x"}
        response = client.post("/v2/webhooks", json=body, headers=demo_headers)
        assert response.status_code == 201, response.text
        credentials = {"subscriberUrl": "http://u:p@127.0.0.1:9000/x"}
        assert client.post("/v2/webhooks", json=credentials, headers=demo_headers).status_code == (
            400
        )


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
