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
from app.bookings.captcha import check_captcha
from app.bookings.errors import AuthRequired, Conflict, Forbidden, InvalidInput, NotFound
from app.bookings.locations import phone_mode
from app.bookings.service import book, change_booking, load_for_change
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
from app.hosts import cal_locations
from app.i18n import _
from app.notify import record_booking_event
from app.settings import Settings

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
    """A booking request in Cal.com's terms (CreateBookingInput_2024_08_13), before checking."""

    start: Any
    attendee: Attendee
    event_type_id: int | None = None
    event_type_slug: str | None = None
    username: str | None = None
    booking_fields_responses: dict[str, Any] = field(default_factory=dict)
    guests: list[Any] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    length_in_minutes: int | None = None
    location: dict[str, Any] | None = None
    captcha_token: str | None = None
    # Cal.com's that we cannot honour: refused unless absent or empty.
    unsupported: dict[str, Any] = field(default_factory=dict)


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


# Cal.com's default booking fields, answered in bookingFieldsResponses.
DEFAULT_RESPONSES = ("name", "email", "notes", "guests", "attendeePhoneNumber", "location")


def _location(event_type: EventType, chosen: dict[str, Any] | None) -> str:
    """Cal.com lets the booker pick one of the event type's locations; there is one here. Returns
    the phone number an ``attendeePhone`` choice carries ("" otherwise)."""
    if not chosen:
        return ""
    offered = cal_locations.to_cal(event_type.location_type, event_type.location_value)
    kind = chosen.get("type") if isinstance(chosen, dict) else None
    if not offered or kind != offered[0]["type"]:
        names = offered[0]["type"] if offered else "none"
        raise InvalidInput(
            f"location.type must be the event type's location ({names}).", "location"
        )
    return str(chosen.get("phone") or "")


def check_new_booking(request: NewBooking, event_type: EventType) -> BookingInput:
    for name, value in request.unsupported.items():
        if value not in (None, False, "", [], {}):
            raise InvalidInput(f"{name} is not supported here: leave it out.", name)
    start = parse_instant(request.start, "start")
    if request.length_in_minutes not in (None, event_type.duration_minutes):
        raise InvalidInput(
            f"lengthInMinutes must be {event_type.duration_minutes} for this event type.",
            "lengthInMinutes",
        )
    attendee = request.attendee
    responses = dict(request.booking_fields_responses or {})
    defaults = {key: responses.pop(key) for key in DEFAULT_RESPONSES if key in responses}
    given_guests = list(request.guests) + list(defaults.get("guests") or [])
    guests = [check_email(g, "guests") for g in given_guests]
    if len(guests) > MAX_GUESTS:
        raise InvalidInput(f"guests: at most {MAX_GUESTS} addresses.", "guests")
    if guests and event_type.disable_guests:
        raise InvalidInput("This event type does not take guests.", "guests")
    phone = (
        attendee.phone_number
        or defaults.get("attendeePhoneNumber")
        or _location(event_type, request.location)
        or None
    )
    mode = phone_mode(event_type)
    return BookingInput(
        start=start,
        end=start + timedelta(minutes=event_type.duration_minutes),
        name=check_text(attendee.name, "attendee.name", required=True, max_length=MAX_NAME),
        email=check_email(attendee.email, "attendee.email"),
        timezone=check_timezone(attendee.time_zone, "attendee.timeZone"),
        phone=check_phone(phone, "attendee.phoneNumber", required=mode == "required")
        if mode != "hidden"
        else "",
        locale=_language(attendee.language),
        custom_fields=check_custom_fields(responses, event_type.questions),
        notes=check_text(defaults.get("notes"), "notes", required=False, max_length=5000),
        source="API",
        guests=list(dict.fromkeys(guests)),
        metadata=_metadata(request.metadata),
    )


async def create_api_booking(
    session: AsyncSession, caller: Host | None, request: NewBooking, settings: Settings
) -> Booking:
    """Book any host's event type, as Cal.com's public ``POST /v2/bookings`` does.

    Without a key (``caller`` None), or with another host's key, it is a guest's booking: the
    host's CAPTCHA applies and an event type that requires authentication is refused (401
    without a key, 403 with another host's). The event type's own host, by key, books as the host:
    no CAPTCHA, and those event types too.
    """
    event_type = await find_bookable_event_type(
        session, caller, request.event_type_id, request.event_type_slug, request.username
    )
    as_host = caller is not None and caller.id == event_type.host_id
    if event_type.booking_requires_auth and not as_host:
        if caller is None:
            raise AuthRequired(
                "This event type can only be booked with its host's API key "
                "(bookingRequiresAuthentication)."
            )
        raise Forbidden("This event type can only be booked with its own host's API key.")
    booking_input = check_new_booking(request, event_type)
    availability = await load_availability(session, event_type, event_type.host.timezone)
    # Stale calendar busy times, refreshed before the write lock.
    await refresh_before_booking(session, event_type.host_id)
    await begin_write(session)  # reads first: see book()
    if not as_host:
        await check_captcha(session, event_type.host, request.captcha_token, settings)
    return await book(session, event_type, booking_input, availability=availability)


async def find_bookable_event_type(
    session: AsyncSession,
    caller: Host | None,
    event_type_id: int | None,
    event_type_slug: str | None,
    username: str | None,
) -> EventType:
    """By ``eventTypeId``, or by ``eventTypeSlug`` and ``username`` (the key's own host when a
    key is given without a username)."""
    query = (
        select(EventType)
        .where(EventType.active.is_(True), EventType.disabled.is_(False))
        .options(selectinload(EventType.host))
    )
    if event_type_id is not None:
        query = query.where(EventType.id == event_type_id)
        missing = f"Event type with id {event_type_id} not found."
    elif event_type_slug and (username or caller is not None):
        username = username or (caller.slug if caller is not None else "")
        query = query.join(Host, Host.id == EventType.host_id).where(
            Host.slug == username, EventType.slug == event_type_slug
        )
        missing = (
            f"Event type with slug {event_type_slug[:64]} belonging to user "
            f"{username[:64]} not found."
        )
    else:
        raise InvalidInput("Give eventTypeId, or eventTypeSlug and username.", "eventTypeId")
    event_type = (await session.scalars(query)).first()
    if event_type is None:
        raise NotFound(missing)
    return event_type


# No-shows ----------------------------------------------------------------------------------------


def attendee_emails(booking: Booking) -> list[str]:
    """The booking's attendees by e-mail (lower case): the guest who booked, then added guests."""
    return list(dict.fromkeys(e.lower() for e in [booking.invitee_email, *booking.guests]))


async def mark_absent(
    session: AsyncSession,
    uid: str,
    *,
    host_id: int,
    host: bool | None = None,
    attendees: dict[str, bool] | None = None,
    now: datetime | None = None,
) -> Booking:
    """Record who did not come: the host (``host``) and attendees by e-mail (``attendees``:
    e-mail -> absent). Only an accepted booking whose start has passed can be marked, as on
    Cal.com. A change compares and bumps the booking's version in one guarded UPDATE under the
    write lock (``change_booking``) and records ``BOOKING_NO_SHOW_UPDATED``; marking what is
    already so changes nothing and announces nothing.
    """
    now = now or clock.utcnow()
    booking = await load_for_change(session, uid, None, host_id)
    if booking.status != CONFIRMED:
        await session.rollback()
        raise Conflict("Only an accepted booking can be marked absent.")
    if now < booking.start:
        await session.rollback()
        raise InvalidInput(
            "Bookings can only be marked as absent after their scheduled start time.", "start"
        )
    known = attendee_emails(booking)
    absent = {e.lower() for e in booking.absent_attendees or []}
    for email, is_absent in (attendees or {}).items():
        address = email.strip().lower()
        if address not in known:
            await session.rollback()
            raise InvalidInput(f"{email[:80]} is not an attendee of this booking.", "attendees")
        (absent.add if is_absent else absent.discard)(address)
    values: dict[str, Any] = {}
    if host is not None and host != booking.absent_host:
        values["absent_host"] = host
    if absent != {e.lower() for e in booking.absent_attendees or []}:
        values["absent_attendees"] = [e for e in known if e in absent]
    if not values:
        await session.commit()  # nothing written; ends the write transaction, keeps the object
        return booking
    booking = await change_booking(session, booking, (CONFIRMED,), now, new_invite=False, **values)
    await record_booking_event(session, booking, "BOOKING_NO_SHOW_UPDATED")
    await session.commit()
    return booking
