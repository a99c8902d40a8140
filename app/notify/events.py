"""Turn a booking change into outbox messages, inside the transaction that makes the change.

The booking service calls ``record_booking_event`` after it changed the booking and before it
commits. Everything the messages need is decided here, from the booking's state *after* the
change: the links (their tokens are bound to the new version), the invite, the email text and the
webhook bodies. The rows commit with the change or not at all, so no change goes unannounced and no
message announces a change that was rolled back.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings.tokens import guest_links, host_links
from app.db.models import Booking, OutboxMessage, Webhook
from app.notify.email import guest_email, host_email
from app.notify.ics import build_invite
from app.notify.webhooks import webhook_body
from app.settings import Settings

log = logging.getLogger("app.notify")

TRIGGERS = (
    "BOOKING_CREATED",
    "BOOKING_REQUESTED",
    "BOOKING_CONFIRMED",
    "BOOKING_DECLINED",
    "BOOKING_CANCELLED",
    "BOOKING_RESCHEDULED",
)
ENDING_TRIGGERS = ("BOOKING_CANCELLED", "BOOKING_DECLINED")
SETTINGS_KEY = "settings"


def session_info(settings: Settings) -> dict[str, Settings]:
    """What a sessionmaker's ``info`` should hold so that the events can sign links."""
    return {SETTINGS_KEY: settings}


def settings_of(session: AsyncSession) -> Settings:
    """The settings the session was made with (see ``session_info``), else the environment's."""
    settings = session.info.get(SETTINGS_KEY)
    if isinstance(settings, Settings):
        return settings
    log.warning("session without settings: signing links with the environment's SECRET_KEYS")
    return Settings.from_env()


async def first_uid(session: AsyncSession, booking: Booking) -> str:
    """The uid of the booking this one was rescheduled from, first of the chain (the iCal UID)."""
    uid, seen = booking.uid, {booking.uid}
    parent = booking.rescheduled_from_uid
    while parent and parent not in seen:
        seen.add(parent)
        uid = parent
        query = select(Booking.rescheduled_from_uid).where(Booking.uid == parent)
        parent = (await session.execute(query)).scalar_one_or_none()
    return uid


async def record_booking_event(
    session: AsyncSession, booking: Booking, trigger: str, previous: Booking | None = None
) -> None:
    """Queue the emails (guest and host) and the webhook calls that ``trigger`` causes.

    ``previous`` is the booking a reschedule replaces; ``booking`` is then the new one.
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger}")
    settings = settings_of(session)
    now = clock.utcnow()
    method = "CANCEL" if trigger in ENDING_TRIGGERS else "REQUEST"
    invite = build_invite(booking, method, uid=await first_uid(session, booking))
    emails = [
        guest_email(booking, trigger, guest_links(settings, booking), invite, method, previous),
        host_email(booking, trigger, host_links(settings, booking), invite, method, previous),
    ]
    for email in emails:
        session.add(
            OutboxMessage(
                kind="email",
                booking_uid=booking.uid,
                payload={"trigger": trigger, **email.as_payload()},
                available_at=now,
                created_at=now,
            )
        )

    hooks = await session.scalars(
        select(Webhook).where(Webhook.host_id == booking.host_id, Webhook.active.is_(True))
    )
    body = None
    for hook in hooks:
        if trigger not in (hook.triggers or []):
            continue
        body = body or webhook_body(booking, trigger, now)
        payload = {
            "trigger": trigger,
            "webhookId": hook.id,
            "url": hook.subscriber_url,
            "body": body,
        }
        session.add(
            OutboxMessage(
                kind="webhook",
                booking_uid=booking.uid,
                payload=payload,
                available_at=now,
                created_at=now,
            )
        )
