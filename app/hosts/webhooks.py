"""A host's webhook subscriptions (Cal.com API v2 names: subscriberUrl, triggers, active, secret,
payloadTemplate), for all its bookings or for one event type's (``event_type_id``).

Triggers are Cal.com's names of the booking events of app/notify/events.py, and our own names kept
as aliases (app/notify/webhooks.py); Cal.com's triggers for what never happens here (payments,
forms, recordings, …) are refused rather than kept and never sent. ``payloadTemplate`` replaces
the body with the subscriber's own (Cal.com's Handlebars variables). The URL must stay outside our network
(``app.net``; checked again at every delivery). The secret signs deliveries: one is generated when
none is given, and shown once, in the answer that created it. It is stored sealed
(``app.crypto``, ``SECRET_KEYS``) and write-only: later answers show its last characters only.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import clock
from app.bookings.errors import InvalidInput, NotFound
from app.bookings.validation import check_text
from app.crypto import seal
from app.db.models import EventType, Host, OutboxMessage, Webhook
from app.db.session import begin_write
from app.i18n import _
from app.net import check_outbound_url
from app.notify.events import DEFAULT_TRIGGERS, TRIGGERS
from app.notify.webhooks import MAX_TEMPLATE, NEVER_SENT, render_body
from app.notify.worker import WEBHOOK_TIMEOUT_SECONDS, OutboxWorker
from app.settings import Settings

MAX_WEBHOOKS = 50


MIN_SECRET = 16


class CreatedWebhook(NamedTuple):
    webhook: Webhook
    generated_secret: str | None  # the secret made for it, to show this once; None if given


async def check_url(value: Any, settings: Settings) -> str:
    url = check_text(value, "subscriberUrl", required=True, max_length=1000)
    return await check_outbound_url(
        url, allow_private=settings.allow_private_urls, field="subscriberUrl"
    )


def check_secret(value: Any) -> str:
    secret = check_text(value, "secret", required=True, max_length=200)
    if len(secret) < MIN_SECRET or not secret.isprintable():
        raise InvalidInput(
            _(
                "secret must be at least %(count)d printable characters "
                "(leave it out to have one generated).",
                count=MIN_SECRET,
            ),
            "secret",
        )
    return secret


def check_triggers(value: list[str]) -> list[str]:
    never = [t for t in value if t in NEVER_SENT]
    if never:
        raise InvalidInput(
            f"triggers: {', '.join(never)} never happen here (no payments, forms, recordings "
            "or out-of-office entries): leave them out.",
            "triggers",
        )
    unknown = [t for t in value if t not in TRIGGERS]
    if unknown or not value:
        raise InvalidInput(
            f"triggers must be a non-empty list of {', '.join(TRIGGERS)}.", "triggers"
        )
    return [t for t in TRIGGERS if t in value]


def check_template(value: Any) -> str:
    return check_text(value, "payloadTemplate", required=False, max_length=MAX_TEMPLATE)


def masked_secret(webhook: Webhook) -> str | None:
    if not webhook.secret:
        return None
    return "…" + webhook.secret_hint


async def _checked(settings: Settings, fields: dict[str, Any]) -> dict[str, Any]:
    """The changes, validated (the URL resolved) before any write lock is taken."""
    checked: dict[str, Any] = {}
    if "subscriber_url" in fields:
        checked["subscriber_url"] = await check_url(fields["subscriber_url"], settings)
    if "triggers" in fields:
        checked["triggers"] = check_triggers(fields["triggers"])
    if "active" in fields:
        checked["active"] = bool(fields["active"])
    if "secret" in fields:
        checked["secret"] = check_secret(fields["secret"])
    if "payload_template" in fields:
        checked["payload_template"] = check_template(fields["payload_template"])
    return checked


def _apply(settings: Settings, webhook: Webhook, checked: dict[str, Any]) -> None:
    for name in ("subscriber_url", "triggers", "active", "payload_template"):
        if name in checked:
            setattr(webhook, name, checked[name])
    if "secret" in checked:
        webhook.secret = seal(settings.secret_keys, checked["secret"])
        webhook.secret_hint = checked["secret"][-4:]


async def list_webhooks(
    session: AsyncSession,
    host_id: int,
    event_type_id: int | None = None,
    *,
    take: int | None = None,
    skip: int = 0,
) -> list[Webhook]:
    """The host's own webhooks, or (``event_type_id``) those of one of its event types."""
    query = (
        select(Webhook)
        .where(Webhook.host_id == host_id, _scope(event_type_id))
        .order_by(Webhook.id)
        .offset(skip)
        .limit(take)
    )
    return list((await session.scalars(query)).all())


def _scope(event_type_id: int | None) -> Any:
    if event_type_id is None:
        return Webhook.event_type_id.is_(None)
    return Webhook.event_type_id == event_type_id


async def get_webhook(
    session: AsyncSession, host_id: int, webhook_id: int, event_type_id: int | None = None
) -> Webhook:
    webhook = await session.get(Webhook, webhook_id)
    if webhook is None or webhook.host_id != host_id or webhook.event_type_id != event_type_id:
        raise NotFound(f"Webhook {webhook_id} not found.")
    return webhook


async def create_webhook(
    session: AsyncSession,
    settings: Settings,
    host: Host,
    fields: dict[str, Any],
    event_type_id: int | None = None,
) -> CreatedWebhook:
    """Subscribe a URL to the host's triggers (all by default), for all its bookings or for one
    of its event types' (``event_type_id``, checked to be the host's); a secret is generated
    unless one is given (an empty one counts as not given)."""
    generated = None if fields.get("secret") else "whsec_" + secrets.token_urlsafe(32)
    checked = await _checked(
        settings, {"subscriber_url": "", **fields, "secret": fields.get("secret") or generated}
    )
    await begin_write(session)
    count = await session.scalar(
        select(func.count()).select_from(Webhook).where(Webhook.host_id == host.id)
    )
    if (count or 0) >= MAX_WEBHOOKS:
        raise InvalidInput(
            _("A host can have at most %(count)d webhooks.", count=MAX_WEBHOOKS), "subscriberUrl"
        )
    if event_type_id is not None:
        owned = await session.scalar(
            select(EventType.id).where(
                EventType.id == event_type_id,
                EventType.host_id == host.id,
                EventType.active.is_(True),
            )
        )
        if owned is None:
            raise NotFound(f"Event type {event_type_id} not found.")
    webhook = Webhook(
        host_id=host.id,
        event_type_id=event_type_id,
        subscriber_url="",
        triggers=list(DEFAULT_TRIGGERS),
        secret="",
        payload_template="",
    )
    _apply(settings, webhook, checked)
    session.add(webhook)
    await session.commit()
    return CreatedWebhook(webhook, generated)


async def update_webhook(
    session: AsyncSession,
    settings: Settings,
    host_id: int,
    webhook_id: int,
    changes: dict[str, Any],
    event_type_id: int | None = None,
) -> Webhook:
    checked = await _checked(settings, changes)
    await begin_write(session)
    webhook = await get_webhook(session, host_id, webhook_id, event_type_id)
    _apply(settings, webhook, checked)
    webhook.updated_at = clock.utcnow()
    await session.commit()
    return webhook


async def delete_webhook(
    session: AsyncSession, host_id: int, webhook_id: int, event_type_id: int | None = None
) -> None:
    await begin_write(session)
    await session.delete(await get_webhook(session, host_id, webhook_id, event_type_id))
    await session.commit()


async def delete_event_type_webhooks(
    session: AsyncSession, host_id: int, event_type_id: int
) -> int:
    """Delete every webhook of one of the host's event types; returns how many."""
    await begin_write(session)
    found = await list_webhooks(session, host_id, event_type_id)
    for webhook in found:
        await session.delete(webhook)
    await session.commit()
    return len(found)


# The console's delivery log, test calls and redeliveries -------------------------------------

DELIVERY_LOG_SIZE = 50
TEST_TRIGGER = "PING"  # Cal.com's name for the test call of its "Ping test" button


class Delivery(NamedTuple):
    """One call to a webhook as its log shows it (an outbox row of kind ``webhook``)."""

    message: OutboxMessage

    @property
    def status(self) -> str:
        """``delivered``, ``failed`` (given up), ``retrying`` (failed, tried again later) or
        ``pending`` (not tried yet)."""
        if self.message.delivered_at is not None:
            return "delivered"
        if self.message.failed_at is not None:
            return "failed"
        return "retrying" if self.message.attempts else "pending"

    @property
    def trigger(self) -> str:
        return str(self.message.payload.get("trigger", ""))

    @property
    def at(self) -> datetime:
        return self.message.delivered_at or self.message.failed_at or self.message.created_at


def _of_webhook(webhook_id: int) -> Any:
    return (OutboxMessage.kind == "webhook") & (
        OutboxMessage.payload["webhookId"].as_integer() == webhook_id
    )


async def delivery_log(
    session: AsyncSession, host_id: int, webhook_id: int, limit: int = DELIVERY_LOG_SIZE
) -> list[Delivery]:
    """The latest calls made (or to be made) to one of the host's webhooks, newest first."""
    webhook = await session.get(Webhook, webhook_id)
    if webhook is None or webhook.host_id != host_id:
        raise NotFound(f"Webhook {webhook_id} not found.")
    query = (
        select(OutboxMessage)
        .where(_of_webhook(webhook_id))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return [Delivery(row) for row in (await session.scalars(query)).all()]


async def _owned_webhook(session: AsyncSession, host_id: int, webhook_id: int) -> Webhook:
    webhook = await session.get(Webhook, webhook_id)
    if webhook is None or webhook.host_id != host_id:
        raise NotFound(f"Webhook {webhook_id} not found.")
    return webhook


async def redeliver(
    session: AsyncSession, host_id: int, webhook_id: int, message_id: str
) -> OutboxMessage:
    """Queue one of the webhook's past calls again, the same body, as a new outbox row (due now;
    it gets a new ``X-Booking-Delivery`` id and is signed with the webhook's current secret)."""
    await begin_write(session)
    await _owned_webhook(session, host_id, webhook_id)
    query = select(OutboxMessage).where(
        _of_webhook(webhook_id), OutboxMessage.message_id == message_id
    )
    original = (await session.scalars(query)).first()
    if original is None:
        await session.rollback()
        raise NotFound(_("No such delivery."))
    now = clock.utcnow()
    again = OutboxMessage(
        kind="webhook",
        booking_uid=original.booking_uid,
        payload={**original.payload, "redeliveryOf": original.message_id},
        available_at=now,
        created_at=now,
    )
    session.add(again)
    await session.commit()
    return again


def ping_payload(host: Host, now: datetime) -> dict[str, Any]:
    """What a test call carries, as Cal.com's ping test: a made-up meeting of the host's."""
    start = now.replace(microsecond=0)
    return {
        "type": "Test",
        "title": "Test trigger event",
        "startTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "attendees": [
            {
                "email": "jdoe@example.com",
                "name": "John Doe",
                "timeZone": "Europe/London",
                "language": {"locale": "en"},
            }
        ],
        "organizer": {
            "name": host.name,
            "email": host.email,
            "username": host.slug,
            "timeZone": host.timezone,
            "language": {"locale": host.locale},
        },
    }


async def send_test(
    session: AsyncSession,
    settings: Settings,
    host: Host,
    webhook_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Delivery:
    """Make a test call (trigger ``PING``) to one of the host's webhooks now, and log it.

    The call is an outbox row like any other, delivered at once by the worker's own code (same
    signature headers, same address checks, same record of the attempt); the row is leased to
    this request first, so a background worker leaves it alone. A failure is retried later as
    any call would be, and shows in the log."""
    webhook = await _owned_webhook(session, host.id, webhook_id)
    now = clock.utcnow()
    body, content_type = render_body(
        TEST_TRIGGER, now, ping_payload(host, now), webhook.payload_template or ""
    )
    worker = OutboxWorker(settings, sessionmaker)
    row = OutboxMessage(
        kind="webhook",
        payload={
            "trigger": TEST_TRIGGER,
            "webhookId": webhook.id,
            "url": webhook.subscriber_url,
            "body": body,
            "contentType": content_type,
            "test": True,
        },
        available_at=now,
        created_at=now,
        locked_until=now + timedelta(seconds=WEBHOOK_TIMEOUT_SECONDS * 3),
        locked_by=worker.worker_id,
    )
    await begin_write(session)
    session.add(row)
    await session.commit()
    async with worker.http_client() as http:
        await worker.attempt(row, lambda message: worker.deliver(message, http))
    await session.refresh(row)
    return Delivery(row)


async def all_webhooks(session: AsyncSession, host_id: int) -> list[Webhook]:
    """Every webhook of the host: its own and its event types' (the console lists them all)."""
    query = select(Webhook).where(Webhook.host_id == host_id).order_by(Webhook.id)
    return list((await session.scalars(query)).all())


async def owned_webhook(session: AsyncSession, host_id: int, webhook_id: int) -> Webhook:
    """One of the host's webhooks, whatever its scope."""
    return await _owned_webhook(session, host_id, webhook_id)


async def _check_scope(session: AsyncSession, host_id: int, event_type_id: int | None) -> None:
    if event_type_id is None:
        return
    owned = await session.scalar(
        select(EventType.id).where(
            EventType.id == event_type_id,
            EventType.host_id == host_id,
            EventType.active.is_(True),
        )
    )
    if owned is None:
        raise NotFound(f"Event type {event_type_id} not found.", "eventTypeId")


async def edit_webhook(
    session: AsyncSession,
    settings: Settings,
    host_id: int,
    webhook_id: int,
    changes: dict[str, Any],
    event_type_id: int | None,
) -> Webhook:
    """Change one of the host's webhooks, its scope included (``event_type_id``: one of its event
    types' bookings, or None: all its bookings); every value is checked before any is written."""
    checked = await _checked(settings, changes)
    await begin_write(session)
    webhook = await _owned_webhook(session, host_id, webhook_id)
    await _check_scope(session, host_id, event_type_id)
    _apply(settings, webhook, checked)
    webhook.event_type_id = event_type_id
    webhook.updated_at = clock.utcnow()
    await session.commit()
    return webhook
