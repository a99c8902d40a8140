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
from datetime import datetime
from typing import Any

import httpx

from app.db.models import Booking

SIGNATURE_HEADER = "X-Booking-Signature"
DELIVERY_HEADER = "X-Booking-Delivery"
EVENT_HEADER = "X-Booking-Event"


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
    url: str,
    secret: str,
    payload: dict[str, Any],
    message_id: str,
    now: int,
) -> None:
    """POST the stored body to ``url``, signed with ``secret`` (the subscription's *current*
    one, so a rotated secret applies to queued calls; "" sends it unsigned); raise on transport
    errors, a refused address (``app.net.OutboundRefused``) or a non-2xx answer."""
    body: str = payload["body"]
    headers = {
        "Content-Type": "application/json",
        DELIVERY_HEADER: message_id,
        EVENT_HEADER: payload["trigger"],
        "User-Agent": "booking-widget-webhooks/1",
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, now, body)
    response = await client.post(url, content=body.encode(), headers=headers)
    if not response.is_success:
        raise RuntimeError(f"HTTP {response.status_code} from {url}")
