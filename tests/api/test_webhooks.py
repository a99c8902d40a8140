"""Webhooks: created from the CLI, signed with a timestamp, retried after a failure, filtered by
trigger; a real local HTTP receiver checks what arrives."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app import clock
from app.cli import main as cli
from app.db.models import OutboxMessage
from app.notify.webhooks import sign, verify
from support import book, expand_outbox, outbox, with_session

pytest_plugins = ("receivers",)
BASE = "/api/public/scheduling"
SECRET = "whsec-test-0123456789"


@pytest.fixture
def settings(settings):
    """The receivers listen on 127.0.0.1: let the server call private addresses."""
    return dataclasses.replace(settings, allow_private_urls=True)


def cli_env(settings) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
        "SECRET_KEYS": ",".join(settings.secret_keys),
        "ALLOW_PRIVATE_URLS": "1" if settings.allow_private_urls else "0",
    }


def create_webhook(settings, url: str, triggers: str, secret: str = SECRET) -> str:
    env = cli_env(settings)
    result = CliRunner().invoke(
        cli, ["create-webhook", "demo", url, "--triggers", triggers, "--secret", secret], env=env
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_signed_delivery_fails_once_then_the_retry_arrives(client, settings, receiver, drain):
    receiver.fail_first = 1
    create_webhook(settings, receiver.url, "BOOKING_CREATED,BOOKING_CANCELLED")
    created = book(client)

    drain(settings, retry_base_seconds=30)
    [row] = outbox(settings, "webhook")
    assert (row.attempts, row.delivered_at) == (1, None)
    assert row.last_error == f"RuntimeError: HTTP 500 from {receiver.url}"
    assert row.available_at > clock.utcnow() + timedelta(seconds=25)
    assert drain(settings, retry_base_seconds=30) == 0  # not due yet: backoff

    clock.set_offset(timedelta(seconds=31))
    drain(settings, retry_base_seconds=30)
    [row] = outbox(settings, "webhook")
    assert row.attempts == 2 and row.delivered_at is not None

    first, second = receiver.hooks
    assert first.headers["x-booking-delivery"] == second.headers["x-booking-delivery"]
    assert second.headers["x-booking-delivery"] == row.message_id
    assert first.body == second.body
    now = int(clock.utcnow().timestamp())
    assert verify(SECRET, second.headers["x-booking-signature"], second.body, now)
    assert not verify("wrong-secret", second.headers["x-booking-signature"], second.body, now)
    assert not verify(SECRET, second.headers["x-booking-signature"], second.body + " ", now)
    # The first attempt's signature is 31 s old: a receiver refusing replays after 30 s would.
    assert not verify(SECRET, first.headers["x-booking-signature"], first.body, now, tolerance=30)

    body = second.json
    assert set(body) == {"triggerEvent", "createdAt", "payload"}
    assert body["triggerEvent"] == "BOOKING_CREATED"
    assert body["payload"]["uid"] == created["id"]
    assert body["payload"]["startTime"] == created["startTime"]
    assert body["payload"]["attendees"][0]["email"] == "alex@example.com"
    assert second.headers["x-booking-event"] == "BOOKING_CREATED"


def test_signature_header_format():
    body = json.dumps({"a": 1})
    header = sign("s3cret", 1700000000, body)
    t, v1 = header.split(",")
    assert t == "t=1700000000" and v1.startswith("v1=") and len(v1) == 3 + 64
    assert verify("s3cret", header, body, 1700000100)
    assert not verify("s3cret", header, body, 1700000000 + 301)
    assert not verify("s3cret", "garbage", body, 1700000000)


def test_only_subscribed_triggers_are_called(client, settings, receiver, drain):
    create_webhook(settings, receiver.url, "BOOKING_CANCELLED")
    created = book(client)
    assert outbox(settings, "webhook") == []

    # cancel through the JSON route with the emailed token
    async def cancel_token(session):
        query = select(OutboxMessage).where(OutboxMessage.kind == "email")
        rows = list(await session.scalars(query))
        text = next(r.payload["text"] for r in rows if r.payload["to"] == "alex@example.com")
        return text.split("/booking/")[-1].split("/cancel")[0]

    token = with_session(settings.database_url, cancel_token)
    assert client.post(f"{BASE}/bookings/{token}/cancel").status_code == 200
    drain(settings)
    [hook] = receiver.hooks
    assert hook.json["triggerEvent"] == "BOOKING_CANCELLED"
    assert hook.json["payload"]["uid"] == created["id"]
    assert hook.json["payload"]["status"] == "Cancelled"


def test_cli_refuses_unknown_triggers_and_bad_urls(settings):
    env = cli_env(settings)
    runner = CliRunner()
    bad_trigger = runner.invoke(
        cli, ["create-webhook", "demo", "http://x.test/h", "--triggers", "NOPE"], env=env
    )
    assert bad_trigger.exit_code == 1 and "triggers must be" in bad_trigger.output
    bad_url = runner.invoke(
        cli, ["create-webhook", "demo", "ftp://x", "--triggers", "BOOKING_CREATED"], env=env
    )
    assert bad_url.exit_code == 1 and "http" in bad_url.output
    generated = runner.invoke(
        cli, ["create-webhook", "demo", "http://x.test/h", "--triggers", "booking_created"], env=env
    )
    assert generated.exit_code == 0, generated.output
    assert re.search(r"signing secret .*: whsec_\S{40,}", generated.output)


def test_a_call_queued_for_a_switched_off_subscription_is_dropped(
    client, settings, receiver, drain
):
    from sqlalchemy import update

    from app.db.models import Webhook

    create_webhook(settings, receiver.url, "BOOKING_CREATED")
    book(client)
    expand_outbox(settings)  # the call is queued while the subscription is on

    async def switch_off(session):
        await session.execute(update(Webhook).values(active=False))
        await session.commit()

    with_session(settings.database_url, switch_off)
    drain(settings)
    [row] = outbox(settings, "webhook")
    assert row.delivered_at is None and row.failed_at is not None and row.attempts == 1
    assert "deactivated" in row.last_error
    assert receiver.hooks == []
    assert "secret" not in row.payload  # signed at send time with the current secret
