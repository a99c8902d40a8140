"""A host's webhook subscriptions (Cal.com API v2 names: subscriberUrl, triggers, active, secret).

Triggers are the booking events of app/notify/events.py. The secret signs deliveries; it is
write-only: answers say whether one is set and show its last characters, never the whole of it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings.errors import InvalidInput, NotFound
from app.bookings.validation import check_text
from app.db.models import Host, Webhook
from app.db.session import begin_write
from app.notify.events import TRIGGERS

MAX_WEBHOOKS = 50


def check_url(value: Any) -> str:
    url = check_text(value, "subscriberUrl", required=True, max_length=1000)
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        hostname = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not hostname:
        raise InvalidInput("subscriberUrl must be an http:// or https:// URL.", "subscriberUrl")
    if any(c.isspace() for c in url):
        raise InvalidInput("subscriberUrl must not contain spaces.", "subscriberUrl")
    return url


def check_triggers(value: list[str]) -> list[str]:
    unknown = [t for t in value if t not in TRIGGERS]
    if unknown or not value:
        raise InvalidInput(
            f"triggers must be a non-empty list of {', '.join(TRIGGERS)}.", "triggers"
        )
    return [t for t in TRIGGERS if t in value]


def masked_secret(webhook: Webhook) -> str | None:
    if not webhook.secret:
        return None
    return "…" + webhook.secret[-4:] if len(webhook.secret) >= 12 else "…"


def _apply(webhook: Webhook, fields: dict[str, Any]) -> None:
    if "subscriber_url" in fields:
        webhook.subscriber_url = check_url(fields["subscriber_url"])
    if "triggers" in fields:
        webhook.triggers = check_triggers(fields["triggers"])
    if "active" in fields:
        webhook.active = bool(fields["active"])
    if "secret" in fields:
        webhook.secret = check_text(fields["secret"], "secret", required=False, max_length=200)


async def list_webhooks(session: AsyncSession, host_id: int) -> list[Webhook]:
    query = select(Webhook).where(Webhook.host_id == host_id).order_by(Webhook.id)
    return list((await session.scalars(query)).all())


async def get_webhook(session: AsyncSession, host_id: int, webhook_id: int) -> Webhook:
    webhook = await session.get(Webhook, webhook_id)
    if webhook is None or webhook.host_id != host_id:
        raise NotFound(f"Webhook {webhook_id} not found.")
    return webhook


async def create_webhook(session: AsyncSession, host: Host, fields: dict[str, Any]) -> Webhook:
    await begin_write(session)
    if len(await list_webhooks(session, host.id)) >= MAX_WEBHOOKS:
        raise InvalidInput(f"A host can have at most {MAX_WEBHOOKS} webhooks.", "subscriberUrl")
    webhook = Webhook(host_id=host.id, subscriber_url="", triggers=list(TRIGGERS), secret="")
    _apply(webhook, fields)
    session.add(webhook)
    await session.commit()
    return webhook


async def update_webhook(
    session: AsyncSession, host_id: int, webhook_id: int, changes: dict[str, Any]
) -> Webhook:
    await begin_write(session)
    webhook = await get_webhook(session, host_id, webhook_id)
    _apply(webhook, changes)
    webhook.updated_at = clock.utcnow()
    await session.commit()
    return webhook


async def delete_webhook(session: AsyncSession, host_id: int, webhook_id: int) -> None:
    await begin_write(session)
    await session.delete(await get_webhook(session, host_id, webhook_id))
    await session.commit()
