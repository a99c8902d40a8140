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
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings.errors import InvalidInput, NotFound
from app.bookings.validation import check_text
from app.crypto import seal
from app.db.models import EventType, Host, Webhook
from app.db.session import begin_write
from app.i18n import _
from app.net import check_outbound_url
from app.notify.events import DEFAULT_TRIGGERS, TRIGGERS
from app.notify.webhooks import MAX_TEMPLATE, NEVER_SENT
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
