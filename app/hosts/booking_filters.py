"""Cal.com's ``GET /v2/bookings`` filters and sorts, every one of them, over a host's bookings.

Each documented parameter is applied or, when we cannot honour it, refused (400); none is
ignored. Several values of one filter (``status=a,b`` or ``status=a&status=b``) mean any of them;
different filters must all hold.

- ``status``: ``upcoming`` (held, not yet ended), ``unconfirmed`` (waiting for approval, not yet
  ended), ``past`` (held, ended), ``cancelled`` (cancelled, declined, or moved away by a
  reschedule), ``recurring`` (none: there are no recurring bookings here).
- ``attendeeEmail``, ``attendeeName``: an attendee (the guest who booked, or an added guest, by
  e-mail) with exactly that address (any case) or name (Cal.com's exact match).
- ``bookingUid``; ``eventTypeId`` and ``eventTypeIds`` (any of them).
- ``afterStart``/``beforeEnd``, ``afterCreatedAt``/``beforeCreatedAt``,
  ``afterUpdatedAt``/``beforeUpdatedAt``: inclusive bounds; a date alone means its midnight UTC.
- ``sortStart``, ``sortEnd``, ``sortCreated``, ``sortUpdatedAt``: ``asc`` or ``desc``, applied in
  the order given; without one, earliest start first.
- ``teamId``/``teamsIds``: refused (no teams here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import clock
from app.bookings.errors import InvalidInput
from app.db.models import (
    CANCELLED,
    DECLINED,
    HELD_STATUSES,
    MAX_ID,
    PENDING,
    RESCHEDULED,
    Booking,
)

STATUSES = ("upcoming", "recurring", "past", "cancelled", "unconfirmed")
SORTS = {
    "sortStart": Booking.start,
    "sortEnd": Booking.end,
    "sortCreated": Booking.created_at,
    "sortUpdatedAt": Booking.updated_at,
}
BOUNDS = {
    "afterStart": (Booking.start, ">="),
    "beforeEnd": (Booking.end, "<="),
    "afterCreatedAt": (Booking.created_at, ">="),
    "beforeCreatedAt": (Booking.created_at, "<="),
    "afterUpdatedAt": (Booking.updated_at, ">="),
    "beforeUpdatedAt": (Booking.updated_at, "<="),
}
MAX_VALUES = 100


@dataclass
class BookingFilters:
    statuses: list[str] = field(default_factory=list)
    attendee_email: str | None = None
    attendee_name: str | None = None
    booking_uid: str | None = None
    event_type_ids: list[int] = field(default_factory=list)
    bounds: dict[str, datetime] = field(default_factory=dict)
    sorts: list[tuple[str, str]] = field(default_factory=list)
    take: int = 100
    skip: int = 0


def values(raw: list[str]) -> list[str]:
    """Both array spellings: repeated parameters, comma-separated lists, or a mix."""
    found = [part.strip() for item in raw for part in item.split(",") if part.strip()]
    if len(found) > MAX_VALUES:
        raise InvalidInput(f"At most {MAX_VALUES} values per filter.")
    return found


def parse_statuses(raw: list[str]) -> list[str]:
    names = values(raw)
    for name in names:
        if name not in STATUSES:
            raise InvalidInput(f"status must be some of {', '.join(STATUSES)}.", "status")
    return list(dict.fromkeys(names))


def parse_ids(raw: list[str], name: str) -> list[int]:
    ids = []
    for value in values(raw):
        if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
            raise InvalidInput(f"{name} must be event type ids (numbers), comma-separated.", name)
        ids.append(int(value))
    return ids


def parse_moment(value: str, name: str) -> datetime:
    """An ISO 8601 date or date-time; a date is its midnight UTC, a time without zone is UTC."""
    text = value.strip()
    if len(text) > 19 and text[-6] == " " and text[-5:-3].isdigit():
        text = text[:-6] + "+" + text[-5:]  # an offset's "+" sent unencoded arrives as " "
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise InvalidInput(
            f"{name} '{text[:40]}' is not an ISO 8601 date or date-time.", name
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def parse_sort(value: str, name: str) -> tuple[str, str]:
    if value not in ("asc", "desc"):
        raise InvalidInput(f"{name} must be asc or desc.", name)
    return name, value


def _status_condition(name: str, now: datetime) -> ColumnElement[bool]:
    if name == "upcoming":
        return Booking.status.in_(HELD_STATUSES) & (Booking.end > now)
    if name == "unconfirmed":
        return (Booking.status == PENDING) & (Booking.end > now)
    if name == "past":
        return Booking.status.in_(HELD_STATUSES) & (Booking.end <= now)
    if name == "cancelled":
        return Booking.status.in_((CANCELLED, DECLINED, RESCHEDULED))
    return false()  # recurring: there are none


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def conditions(host_id: int, filters: BookingFilters, now: datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Booking.host_id == host_id]
    if filters.statuses:
        where.append(or_(*(_status_condition(name, now) for name in filters.statuses)))
    if filters.attendee_email is not None:
        email = filters.attendee_email.strip().lower()
        # Guests are a JSON list of addresses: look for the quoted address in its text.
        quoted = f'%"{_like_literal(email)}"%'
        where.append(
            (func.lower(Booking.invitee_email) == email)
            | func.lower(cast(Booking.guests, String)).like(quoted, escape="\\")
        )
    if filters.attendee_name is not None:
        where.append(Booking.invitee_name == filters.attendee_name.strip())
    if filters.booking_uid is not None:
        where.append(Booking.uid == filters.booking_uid.strip())
    if filters.event_type_ids:
        where.append(Booking.event_type_id.in_(filters.event_type_ids))
    for name, moment in filters.bounds.items():
        column, op = BOUNDS[name]
        where.append(column >= moment if op == ">=" else column <= moment)
    return where


async def search_bookings(
    session: AsyncSession, host_id: int, filters: BookingFilters, now: datetime | None = None
) -> tuple[list[Booking], int]:
    """One page of the host's bookings matching ``filters``, and how many match in all."""
    where = conditions(host_id, filters, now or clock.utcnow())
    total = await session.scalar(select(func.count(Booking.id)).where(*where)) or 0
    order: list[Any] = [
        SORTS[name].desc() if direction == "desc" else SORTS[name].asc()
        for name, direction in filters.sorts
    ] or [Booking.start]
    query = (
        select(Booking)
        .where(*where)
        .order_by(*order, Booking.id)
        .offset(filters.skip)
        .limit(filters.take)
        .options(selectinload(Booking.event_type), selectinload(Booking.host))
    )
    return list((await session.scalars(query)).all()), total
