"""Console developers page: API keys (shown once, named, used, revoked) and webhooks (made,
changed, tested against a real local receiver, logged, redelivered, deleted)."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from typing import Any

import pytest
from console_support import post_form, signed_in
from litestar.testing import TestClient
from receivers import WebhookReceiver, drain_outbox
from sqlalchemy import select

from app.db.models import ApiKey, EventType, OutboxMessage, Webhook
from app.hosts.service import create_host
from app.main import create_app
from app.notify.webhooks import CAL_SIGNATURE_HEADER, cal_signature, verify
from app.settings import Settings
from support import with_session

pytest_plugins = ("receivers",)
SECRET = "whsec-console-0123456789"
KEY_RE = re.compile(r'id="new-key" type="text" readonly value="(bk_[^"]+)"')


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The receivers listen on 127.0.0.1: let the server call private addresses."""
    return dataclasses.replace(settings, allow_private_urls=True)


@pytest.fixture
def console(settings: Settings) -> Any:
    with TestClient(app=create_app(settings)) as client:
        yield signed_in(client, settings)


def rows(settings: Settings, model: Any) -> list[Any]:
    async def work(session: Any) -> list[Any]:
        return list(await session.scalars(select(model).order_by(model.id)))

    return list(with_session(settings.database_url, work))


def webhook_calls(settings: Settings) -> list[OutboxMessage]:
    return [row for row in rows(settings, OutboxMessage) if row.kind == "webhook"]


def make_key(console: TestClient[Any], name: str = "website sync") -> str:
    answer = post_form(console, "/console/developers/keys", {"name": name})
    assert answer.status_code == 201, answer.text
    found = KEY_RE.search(answer.text)
    assert found, "the new key is not on the page"
    return found.group(1)


def test_signed_out_goes_to_sign_in(client: TestClient[Any]) -> None:
    for path in ("/console/developers", "/console/developers/webhooks/new"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"


def test_empty_states(console: TestClient[Any]) -> None:
    page = console.get("/console/developers")
    assert page.status_code == 200
    assert "No API keys yet" in page.text and "No webhooks yet" in page.text


def test_an_api_key_is_shown_once_works_and_stops_when_revoked(
    console: TestClient[Any], settings: Settings
) -> None:
    key = make_key(console)
    [stored] = rows(settings, ApiKey)
    assert stored.name == "website sync" and key.startswith(stored.prefix)
    assert key not in stored.key_hash  # only its hash is kept
    # The list shows its name and prefix, never the key again (a reload of the form's
    # address goes back to the list).
    again = console.get("/console/developers/keys", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/console/developers"
    page = console.get("/console/developers")
    assert key not in page.text
    assert "website sync" in page.text and f"{stored.prefix}…" in page.text
    assert "Never" in page.text  # not used yet
    # It works on the API as a bearer token, and its use is recorded.
    me = console.get("/v2/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200 and me.json()["data"]["username"] == "demo"
    assert rows(settings, ApiKey)[0].last_used_at is not None
    assert "Never" not in console.get("/console/developers").text
    # Revoking asks first (a page whose form posts), then the key no longer works.
    confirm = console.get(f"/console/developers/keys/{stored.id}/revoke")
    assert confirm.status_code == 200 and "Revoke this API key?" in confirm.text
    answer = post_form(
        console, f"/console/developers/keys/{stored.id}/revoke", follow_redirects=False
    )
    assert answer.status_code == 303
    assert rows(settings, ApiKey) == []
    again = console.get("/v2/me", headers={"Authorization": f"Bearer {key}"})
    assert again.status_code == 401
    assert "is revoked" in console.get("/console/developers").text


def test_a_key_name_too_long_is_refused_and_nothing_is_made(
    console: TestClient[Any], settings: Settings
) -> None:
    answer = post_form(console, "/console/developers/keys", {"name": "k" * 5000})
    assert answer.status_code == 400
    assert 'id="key_name-error"' in answer.text and "too long" in answer.text
    assert "bk_" not in answer.text
    assert rows(settings, ApiKey) == []


def test_another_hosts_key_and_webhook_are_not_found(
    console: TestClient[Any], settings: Settings
) -> None:
    async def other(session: Any) -> int:
        host = await create_host(
            session, "other", name="Other", email="o@example.com", timezone="UTC"
        )
        session.add(ApiKey(host_id=host.id, key_hash="x" * 64, prefix="bk_abcdefg", name="theirs"))
        session.add(
            Webhook(
                host_id=host.id,
                subscriber_url="https://example.com/theirs",
                triggers=["BOOKING_CREATED"],
            )
        )
        await session.commit()
        return host.id

    with_session(settings.database_url, other)
    [key] = rows(settings, ApiKey)
    [hook] = rows(settings, Webhook)
    assert "theirs" not in console.get("/console/developers").text
    assert console.get(f"/console/developers/keys/{key.id}/revoke").status_code == 404
    assert post_form(console, f"/console/developers/keys/{key.id}/revoke").status_code == 404
    base = f"/console/developers/webhooks/{hook.id}"
    assert console.get(base).status_code == 404
    assert console.get(base + "/delete").status_code == 404
    assert post_form(console, base + "/delete").status_code == 404
    assert post_form(console, base + "/test").status_code == 404
    changed = {"subscriber_url": "https://example.com/mine", "triggers": "BOOKING_CREATED"}
    assert post_form(console, base, changed).status_code == 404
    assert len(rows(settings, ApiKey)) == 1
    assert rows(settings, Webhook)[0].subscriber_url == "https://example.com/theirs"


def create_webhook(console: TestClient[Any], url: str, **extra: Any) -> Any:
    form = {
        "subscriber_url": url,
        "triggers": ["BOOKING_CREATED", "BOOKING_CANCELLED"],
        "secret": SECRET,
        "active": "on",
        **extra,
    }
    return post_form(console, "/console/developers/webhooks", form)


def test_a_webhook_test_call_reaches_the_receiver_signed_and_is_logged(
    console: TestClient[Any], settings: Settings, receiver: WebhookReceiver
) -> None:
    created = create_webhook(console, receiver.url)
    assert created.status_code == 201, created.text
    [hook] = rows(settings, Webhook)
    assert hook.triggers == ["BOOKING_CREATED", "BOOKING_CANCELLED"] and hook.active
    assert SECRET not in created.text  # a secret the host gave is not shown back
    assert "No calls yet" in created.text
    page = f"/console/developers/webhooks/{hook.id}"

    answer = post_form(console, page + "/test", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == page + "#deliveries"
    [call] = receiver.hooks
    body = call.json
    assert body["triggerEvent"] == "PING"
    assert body["payload"]["organizer"]["username"] == "demo"
    assert call.headers[CAL_SIGNATURE_HEADER.lower()] == cal_signature(SECRET, call.body)
    assert verify(SECRET, call.headers["x-booking-signature"], call.body, int(time.time()))
    [row] = webhook_calls(settings)
    assert row.delivered_at is not None and row.attempts == 1
    assert call.headers["x-booking-delivery"] == row.message_id

    shown = console.get(page)
    assert "The test call was delivered." in shown.text
    assert "Delivered" in shown.text and "PING" in shown.text

    # Redelivery: the same body again, as a new row, sent by the worker.
    again = post_form(
        console, f"{page}/deliveries/{row.message_id}/redeliver", follow_redirects=False
    )
    assert again.status_code == 303
    first, second = webhook_calls(settings)
    assert second.payload["body"] == first.payload["body"]
    assert second.message_id != first.message_id and second.delivered_at is None
    assert "Pending" in console.get(page).text
    assert drain_outbox(settings) == 1
    assert len(receiver.hooks) == 2
    assert receiver.hooks[1].body == receiver.hooks[0].body
    assert receiver.hooks[1].headers["x-booking-delivery"] == second.message_id
    assert console.get(page).text.count("badge-ok") >= 2


def test_a_failing_receiver_shows_its_error_in_the_log(
    console: TestClient[Any], settings: Settings, receiver: WebhookReceiver
) -> None:
    receiver.fail_first = 5
    create_webhook(console, receiver.url)
    [hook] = rows(settings, Webhook)
    page = f"/console/developers/webhooks/{hook.id}"
    shown = post_form(console, page + "/test")  # and the redirect back to the page
    assert shown.status_code == 200
    assert "The test call failed" in shown.text
    assert "HTTP 500" in shown.text
    assert "Retrying" in shown.text
    [row] = webhook_calls(settings)
    assert row.attempts == 1 and "HTTP 500" in row.last_error and row.delivered_at is None


def test_a_generated_secret_is_shown_once(
    console: TestClient[Any], settings: Settings, receiver: WebhookReceiver
) -> None:
    created = create_webhook(console, receiver.url, secret="")
    assert created.status_code == 201
    found = re.search(r'id="new-secret" type="text" readonly value="(whsec_[^"]+)"', created.text)
    assert found
    [hook] = rows(settings, Webhook)
    again = console.get(f"/console/developers/webhooks/{hook.id}")
    assert found.group(1) not in again.text
    assert found.group(1)[-4:] in again.text  # its last characters, to recognise it


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"subscriber_url": "ftp://example.com/x"}, "subscriber_url", "http"),
        ({"subscriber_url": ""}, "subscriber_url", "required"),
        ({"triggers": []}, "triggers", "triggers must be"),
        ({"triggers": ["BOOKING_PAID"]}, "triggers", "never happen"),
        ({"secret": "short"}, "secret", "at least 16"),
        ({"payload_template": "x" * 10_001}, "payload_template", "too long"),
        ({"scope": "999999"}, "scope", "not found"),
    ],
)
def test_bad_webhook_input_is_named_and_nothing_is_saved(
    console: TestClient[Any],
    settings: Settings,
    receiver: WebhookReceiver,
    changes: dict[str, Any],
    field: str,
    words: str,
) -> None:
    form = {
        "subscriber_url": receiver.url,
        "triggers": ["BOOKING_CREATED"],
        "secret": SECRET,
        "active": "on",
    }
    answer = post_form(console, "/console/developers/webhooks", {**form, **changes})
    assert answer.status_code == 400, answer.text
    assert f'id="{field}-error"' in answer.text and words in answer.text
    assert rows(settings, Webhook) == []
    # The same on an existing webhook: it stays as it was.
    create_webhook(console, receiver.url)
    [hook] = rows(settings, Webhook)
    page = f"/console/developers/webhooks/{hook.id}"
    answer = post_form(console, page, {**form, "payload_template": "{}", **changes})
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.text
    [after] = rows(settings, Webhook)
    assert (after.subscriber_url, after.triggers, after.payload_template, after.secret) == (
        hook.subscriber_url,
        hook.triggers,
        hook.payload_template,
        hook.secret,
    )


def test_edit_scope_pause_and_delete(
    console: TestClient[Any], settings: Settings, receiver: WebhookReceiver
) -> None:
    create_webhook(console, receiver.url)
    [hook] = rows(settings, Webhook)
    page = f"/console/developers/webhooks/{hook.id}"

    [first, *_] = rows(settings, EventType)
    event_type_id = first.id
    template = json.dumps({"what": "{{triggerEvent}}", "who": "{{organizer.name}}"})
    answer = post_form(
        console,
        page,
        {
            "subscriber_url": receiver.url + "?v=2",
            "triggers": ["BOOKING_RESCHEDULED"],
            "secret": "",
            "payload_template": template,
            "scope": str(event_type_id),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    [changed] = rows(settings, Webhook)
    assert changed.subscriber_url == receiver.url + "?v=2"
    assert changed.triggers == ["BOOKING_RESCHEDULED"]
    assert changed.event_type_id == event_type_id
    assert changed.active is False  # the box was left unticked
    assert changed.secret == hook.secret  # an empty secret keeps the one it had
    assert changed.payload_template == template
    listing = console.get("/console/developers").text
    assert first.title in listing and "Paused" in listing
    # A paused webhook's test call is refused by the worker, and says so.
    refused = post_form(console, page + "/test")
    assert "deactivated" in refused.text
    # Deleting asks first.
    confirm = console.get(page + "/delete")
    assert confirm.status_code == 200 and "Delete this webhook?" in confirm.text
    gone = post_form(console, page + "/delete", follow_redirects=False)
    assert gone.status_code == 303 and rows(settings, Webhook) == []
    assert "The webhook is deleted." in console.get("/console/developers").text


def test_test_call_log_and_redelivery_on_postgresql(
    pg_url: str, tmp_path: Any, receiver: WebhookReceiver
) -> None:
    from support import make_settings

    settings = make_settings(tmp_path, database_url=pg_url, allow_private_urls=True)
    with TestClient(app=create_app(settings)) as client:
        console = signed_in(client, settings)
        assert create_webhook(console, receiver.url).status_code == 201
        [hook] = rows(settings, Webhook)
        page = f"/console/developers/webhooks/{hook.id}"
        assert "The test call was delivered." in post_form(console, page + "/test").text
        [row] = webhook_calls(settings)
        post_form(console, f"{page}/deliveries/{row.message_id}/redeliver")
        assert drain_outbox(settings) == 1
        assert len(receiver.hooks) == 2
        assert console.get(page).text.count("badge-ok") == 2


def test_a_private_address_is_refused_outside_tests(settings: Settings) -> None:
    strict = dataclasses.replace(settings, allow_private_urls=False)
    with TestClient(app=create_app(strict)) as client:
        console = signed_in(client, strict)
        for url in ("http://127.0.0.1:5432/x", "http://169.254.169.254/latest", "http://10.0.0.7/"):
            answer = create_webhook(console, url)
            assert answer.status_code == 400, url
            assert 'id="subscriber_url-error"' in answer.text
    assert rows(settings, Webhook) == []
