"""Webhook calls: the body (as of the change), its signature, and the HTTP POST.

The body is ``{"triggerEvent", "createdAt", "payload"}`` as in Cal.com, describing the booking as
the change left it, ``createdAt`` being the time of the change. It is serialised once, when the
worker expands the booking event (``app.notify.events``), and stored as text, so every retry sends
the same bytes. The signature is made at send
time over ``"<t>.<body>"`` with the subscription's secret, where ``t`` is the Unix time of the
attempt: a receiver can refuse old timestamps (replays) and dedupe on ``X-Booking-Delivery``, the
outbox message id, which stays the same across retries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import InvalidInput, NotFound
from app.db.models import Booking, Host, Webhook

SIGNATURE_HEADER = "X-Booking-Signature"
DELIVERY_HEADER = "X-Booking-Delivery"
EVENT_HEADER = "X-Booking-Event"
TIMEOUT_SECONDS = 15.0


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def booking_payload(booking: Booking) -> dict[str, Any]:
    event_type, host = booking.event_type, booking.host
    return {
        "uid": booking.uid,
        "title": event_type.title,
        "eventTypeId": event_type.public_id,
        "eventTypeSlug": event_type.slug,
        "status": booking.status,
        "startTime": _iso(booking.start),
        "endTime": _iso(booking.end),
        "organizer": {"name": host.name, "email": host.email, "timeZone": host.timezone},
        "attendees": [
            {
                "name": booking.invitee_name,
                "email": booking.invitee_email,
                "timeZone": booking.invitee_timezone,
                "language": booking.invitee_locale,
                "phone": booking.invitee_phone or None,
            }
        ],
        "location": event_type.location_value or None,
        "notes": booking.notes,
        "responses": booking.custom_fields,
        "metadata": booking.meta,
        "cancellationReason": booking.cancellation_reason or None,
        "rejectionReason": booking.decline_reason or None,
        "reschedulingReason": booking.rescheduling_reason or None,
        "rescheduledFromUid": booking.rescheduled_from_uid,
    }


def webhook_body(booking: Booking, trigger: str, created_at: datetime) -> str:
    body = {
        "triggerEvent": trigger,
        "createdAt": _iso(created_at),
        "payload": booking_payload(booking),
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def sign(secret: str, timestamp: int, body: str) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``; no secret, no signature header value."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: str, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: check the HMAC and refuse timestamps older than ``tolerance``."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


class SubscriptionGone(Exception):
    """The subscription was deleted or switched off after the call was queued: do not retry."""


async def post_webhook(
    client: httpx.AsyncClient,
    webhook: Webhook | None,
    payload: dict[str, Any],
    message_id: str,
    now: int,
) -> None:
    """POST the stored body, signed with the subscription's *current* secret (so a rotated secret
    applies to queued calls); raise on transport errors or a non-2xx answer."""
    if webhook is None or not webhook.active:
        raise SubscriptionGone("the webhook subscription was removed or deactivated")
    body: str = payload["body"]
    headers = {
        "Content-Type": "application/json",
        DELIVERY_HEADER: message_id,
        EVENT_HEADER: payload["trigger"],
        "User-Agent": "booking-widget-webhooks/1",
    }
    if webhook.secret:
        headers[SIGNATURE_HEADER] = sign(webhook.secret, now, body)
    response = await client.post(
        webhook.subscriber_url, content=body.encode(), headers=headers, timeout=TIMEOUT_SECONDS
    )
    if not response.is_success:
        raise RuntimeError(f"HTTP {response.status_code} from {webhook.subscriber_url}")


# Subscriptions ---------------------------------------------------------------------------------


async def create_webhook(
    session: AsyncSession, host_slug: str, url: str, triggers: list[str], secret: str = ""
) -> Webhook:
    """Subscribe ``url`` to the host's ``triggers``; a secret is generated unless given."""
    from app.notify.events import TRIGGERS

    host = (await session.scalars(select(Host).where(Host.slug == host_slug))).first()
    if host is None:
        raise NotFound(f"No host '{host_slug[:64]}'.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("The subscriber URL must be an http:// or https:// URL.", "url")
    unknown = sorted(set(triggers) - set(TRIGGERS))
    if unknown or not triggers:
        raise InvalidInput(f"Triggers must be some of {', '.join(TRIGGERS)}.", "triggers")
    webhook = Webhook(
        host_id=host.id,
        subscriber_url=url,
        triggers=list(dict.fromkeys(triggers)),
        secret=secret or secrets.token_urlsafe(32),
        active=True,
    )
    session.add(webhook)
    await session.commit()
    return webhook
