"""Bookings as the host API sees them: listing with Cal.com's filters, and booking by API.

Creating a booking goes through app/bookings/service.py's ``book`` like every other path, so the
same slot checks, overlap guard, emails and webhooks apply. A key books only its own host's event
types: another host's event type (by id, or by slug with a foreign ``username``) is 404.

Status filters (Cal.com's names; several may be given):
- ``upcoming``: held (accepted or pending) and not yet ended;
- ``unconfirmed``: pending approval and not yet ended;
- ``past``: ended, and not cancelled or rejected;
- ``cancelled``: cancelled, declined or moved to another time by a reschedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import clock
from app.bookings.availability import load_availability
from app.bookings.errors import InvalidInput
from app.bookings.locations import phone_mode
from app.bookings.service import book
from app.bookings.validation import (
    LOCALE_RE,
    MAX_NAME,
    MULTI_LINE_FORBIDDEN,
    ONE_LINE_FORBIDDEN,
    BookingInput,
    check_custom_fields,
    check_email,
    check_phone,
    check_text,
    check_timezone,
    parse_instant,
)
from app.calendars.freshness import refresh_before_booking
from app.db.models import (
    CANCELLED,
    CONFIRMED,
    DECLINED,
    HELD_STATUSES,
    PENDING,
    RESCHEDULED,
    Booking,
    EventType,
    Host,
)
from app.db.session import begin_write
from app.hosts.event_types import find_own_event_type
from app.i18n import _

STATUS_FILTERS = ("upcoming", "unconfirmed", "past", "cancelled")
MAX_GUESTS = 10
MAX_METADATA_KEYS = 50


@dataclass
class Attendee:
    name: Any
    email: Any
    time_zone: Any
    phone_number: Any = None
    language: Any = None


@dataclass
class NewBooking:
    """A booking request in Cal.com's terms, before checking."""

    start: Any
    attendee: Attendee
    event_type_id: int | None = None
    event_type_slug: str | None = None
    username: str | None = None
    booking_fields_responses: dict[str, Any] = field(default_factory=dict)
    guests: list[Any] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    length_in_minutes: int | None = None


def _status_condition(name: str, now: datetime) -> ColumnElement[bool]:
    if name == "upcoming":
        return Booking.status.in_(HELD_STATUSES) & (Booking.end > now)
    if name == "unconfirmed":
        return (Booking.status == PENDING) & (Booking.end > now)
    if name == "past":
        return Booking.status.in_((CONFIRMED, PENDING)) & (Booking.end <= now)
    if name == "cancelled":
        return Booking.status.in_((CANCELLED, DECLINED, RESCHEDULED))
    return false()


def parse_statuses(value: str | None) -> list[str]:
    names = [part.strip() for part in (value or "").split(",") if part.strip()]
    for name in names:
        if name not in STATUS_FILTERS:
            raise InvalidInput(f"status must be one of {', '.join(STATUS_FILTERS)}.", "status")
    return names


async def list_bookings(
    session: AsyncSession,
    host_id: int,
    *,
    statuses: list[str],
    attendee_email: str | None = None,
    event_type_id: int | None = None,
    take: int = 100,
    skip: int = 0,
    now: datetime | None = None,
) -> tuple[list[Booking], int]:
    """One page of the host's bookings, earliest first, and the number matching in all."""
    now = now or clock.utcnow()
    conditions: list[ColumnElement[bool]] = [Booking.host_id == host_id]
    if statuses:
        conditions.append(or_(*(_status_condition(name, now) for name in statuses)))
    if attendee_email:
        conditions.append(func.lower(Booking.invitee_email) == attendee_email.strip().lower())
    if event_type_id is not None:
        conditions.append(Booking.event_type_id == event_type_id)
    total = await session.scalar(select(func.count(Booking.id)).where(*conditions)) or 0
    query = (
        select(Booking)
        .where(*conditions)
        .order_by(Booking.start, Booking.id)
        .offset(skip)
        .limit(take)
        .options(selectinload(Booking.event_type), selectinload(Booking.host))
    )
    return list((await session.scalars(query)).all()), total


def _language(value: Any) -> str:
    text = check_text(value, "attendee.language", required=False, max_length=16)
    if not text:
        return "en"
    if not LOCALE_RE.match(text):
        raise InvalidInput("attendee.language must be a language such as en or de-AT.", "language")
    return text.replace("_", "-")


def _metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > MAX_METADATA_KEYS:
        raise InvalidInput(f"metadata: at most {MAX_METADATA_KEYS} keys.", "metadata")
    for key, item in value.items():
        if (
            len(key) > 40
            or ONE_LINE_FORBIDDEN.search(key)
            or not isinstance(item, str | int | float | bool)
            or len(str(item)) > 500
            or (isinstance(item, str) and MULTI_LINE_FORBIDDEN.search(item))
        ):
            raise InvalidInput(
                _(
                    "metadata keys must be short (40) and values strings, numbers or booleans "
                    "(500), without control characters."
                ),
                "metadata",
            )
    return dict(value)


def check_new_booking(request: NewBooking, event_type: EventType) -> BookingInput:
    start = parse_instant(request.start, "start")
    if request.length_in_minutes not in (None, event_type.duration_minutes):
        raise InvalidInput(
            f"lengthInMinutes must be {event_type.duration_minutes} for this event type.",
            "lengthInMinutes",
        )
    attendee = request.attendee
    guests = [check_email(g, "guests") for g in request.guests]
    if len(guests) > MAX_GUESTS:
        raise InvalidInput(f"guests: at most {MAX_GUESTS} addresses.", "guests")
    return BookingInput(
        start=start,
        end=start + timedelta(minutes=event_type.duration_minutes),
        name=check_text(attendee.name, "attendee.name", required=True, max_length=MAX_NAME),
        email=check_email(attendee.email, "attendee.email"),
        timezone=check_timezone(attendee.time_zone, "attendee.timeZone"),
        phone=check_phone(
            attendee.phone_number,
            "attendee.phoneNumber",
            required=phone_mode(event_type) == "required",
        )
        if phone_mode(event_type) != "hidden"
        else "",
        locale=_language(attendee.language),
        custom_fields=check_custom_fields(request.booking_fields_responses, event_type.questions),
        source="API",
        guests=list(dict.fromkeys(guests)),
        metadata=_metadata(request.metadata),
    )


async def create_api_booking(session: AsyncSession, host: Host, request: NewBooking) -> Booking:
    event_type = await find_own_event_type(
        session, host, request.event_type_id, request.event_type_slug, request.username
    )
    booking_input = check_new_booking(request, event_type)
    availability = await load_availability(session, event_type, host.timezone)
    await refresh_before_booking(session, host.id)  # stale calendar busy times, not under lock
    await begin_write(session)  # reads first: see book()
    return await book(session, event_type, booking_input, availability=availability)
