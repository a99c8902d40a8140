"""A host's webhook subscriptions (Cal.com API v2 names: subscriberUrl, triggers, active, secret).

Triggers are the booking events of app/notify/events.py. The URL must stay outside our network
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
from app.db.models import Host, Webhook
from app.db.session import begin_write
from app.i18n import _
from app.net import check_outbound_url
from app.notify.events import TRIGGERS
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
    unknown = [t for t in value if t not in TRIGGERS]
    if unknown or not value:
        raise InvalidInput(
            f"triggers must be a non-empty list of {', '.join(TRIGGERS)}.", "triggers"
        )
    return [t for t in TRIGGERS if t in value]


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
    return checked


def _apply(settings: Settings, webhook: Webhook, checked: dict[str, Any]) -> None:
    for name in ("subscriber_url", "triggers", "active"):
        if name in checked:
            setattr(webhook, name, checked[name])
    if "secret" in checked:
        webhook.secret = seal(settings.secret_keys, checked["secret"])
        webhook.secret_hint = checked["secret"][-4:]


async def list_webhooks(session: AsyncSession, host_id: int) -> list[Webhook]:
    query = select(Webhook).where(Webhook.host_id == host_id).order_by(Webhook.id)
    return list((await session.scalars(query)).all())


async def get_webhook(session: AsyncSession, host_id: int, webhook_id: int) -> Webhook:
    webhook = await session.get(Webhook, webhook_id)
    if webhook is None or webhook.host_id != host_id:
        raise NotFound(f"Webhook {webhook_id} not found.")
    return webhook


async def create_webhook(
    session: AsyncSession, settings: Settings, host: Host, fields: dict[str, Any]
) -> CreatedWebhook:
    """Subscribe a URL to the host's triggers (all by default); a secret is generated unless
    one is given (an empty one counts as not given)."""
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
    webhook = Webhook(host_id=host.id, subscriber_url="", triggers=list(TRIGGERS), secret="")
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
) -> Webhook:
    checked = await _checked(settings, changes)
    await begin_write(session)
    webhook = await get_webhook(session, host_id, webhook_id)
    _apply(settings, webhook, checked)
    webhook.updated_at = clock.utcnow()
    await session.commit()
    return webhook


async def delete_webhook(session: AsyncSession, host_id: int, webhook_id: int) -> None:
    await begin_write(session)
    await session.delete(await get_webhook(session, host_id, webhook_id))
    await session.commit()
