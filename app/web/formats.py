"""How times and bookings look on the wire (seed 001's shapes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.bookings.tokens import link_url, make_token
from app.db.models import Booking, EventType, Host
from app.settings import Settings


def iso_z(value: datetime) -> str:
    """``2026-03-16T14:00:00Z``: UTC, whole seconds, as the seeds write instants."""
    # isoformat (YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00) cut after the seconds: faster than strftime.
    return value.astimezone(UTC).isoformat()[:19] + "Z"


def location(event_type: EventType) -> dict[str, str] | None:
    if not event_type.location_type:
        return None
    return {"type": event_type.location_type, "value": event_type.location_value}


def public_booking(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.uid,
        "eventTypeId": booking.event_type.public_id,
        "status": booking.status,
        "startTime": iso_z(booking.start),
        "endTime": iso_z(booking.end),
        "invitee": {
            "name": booking.invitee_name,
            "email": booking.invitee_email,
            "phone": booking.invitee_phone or None,
            "timezone": booking.invitee_timezone,
        },
        "location": location(booking.event_type),
        "createdAt": iso_z(booking.created_at),
    }


def booking_links(settings: Settings, booking: Booking) -> dict[str, str]:
    """The guest's cancel and reschedule tokens and links (as seed 002 returns them), for API
    users who drive ``/bookings/{token}/cancel|reschedule`` themselves; none once it is over."""
    if not booking.is_held:
        return {}
    cancel, reschedule = (make_token(settings, p, booking) for p in ("cancel", "reschedule"))
    return {
        "cancelToken": cancel,
        "rescheduleToken": reschedule,
        "cancelUrl": link_url(settings, "cancel", cancel),
        "rescheduleUrl": link_url(settings, "reschedule", reschedule),
    }


def public_event_type(event_type: EventType) -> dict[str, Any]:
    return {
        "id": event_type.public_id,
        "slug": event_type.slug,
        "title": event_type.title,
        "description": event_type.description,
        "duration": event_type.duration_minutes,
        "requiresApproval": event_type.requires_approval,
        "location": location(event_type),
        "questions": event_type.questions,
    }


def public_profile(host: Host, event_types: list[EventType]) -> dict[str, Any]:
    return {
        "slug": host.slug,
        "name": host.name,
        "timezone": host.timezone,
        "branding": {
            "color": host.brand_color,
            "avatarUrl": host.avatar_url or None,
            "welcomeText": host.welcome_text,
        },
        "eventTypes": [public_event_type(event_type) for event_type in event_types],
    }
