"""The console's list of a host's bookings: four tabs, filters a person types, pages of 20.

The tabs are the host API's status filters (``app.hosts.booking_filters``: ``upcoming``,
``unconfirmed``, ``past``, ``cancelled``), so a booking sits in the same tab here as in
``GET /v2/bookings?status=…``. On top of them the console filters by event type, by a date range
of the host's own calendar days (a booking is in it when it starts on one of those days, in the
host's zone), and by a guest: any part of the name or e-mail of the guest who booked, or of an
added guest's e-mail, in any case.

Upcoming and pending bookings come soonest first; past and cancelled ones latest first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import clock
from app.dates import zone_of
from app.db.models import MAX_ID, Booking, EventType, Host
from app.hosts.booking_filters import BookingFilters, conditions
from app.i18n import _

TABS = ("upcoming", "unconfirmed", "past", "cancelled")
NEWEST_FIRST = ("past", "cancelled")
PAGE_SIZE = 20
MAX_GUEST_QUERY = 200
MAX_PAGE = 100_000


@dataclass(frozen=True)
class ListQuery:
    """What the host asked for, checked: one tab, optional filters, a page (from 1)."""

    tab: str = "upcoming"
    event_type_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    guest: str = ""
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def filtered(self) -> bool:
        return bool(self.event_type_id is not None or self.date_from or self.date_to or self.guest)

    def params(self, **changes: object) -> dict[str, str]:
        """The query string of this list (with ``changes``), leaving out what is default."""
        query = replace(self, **changes)  # type: ignore[arg-type]
        found = {
            "tab": query.tab,
            "event_type": str(query.event_type_id) if query.event_type_id is not None else "",
            "from": query.date_from.isoformat() if query.date_from else "",
            "to": query.date_to.isoformat() if query.date_to else "",
            "guest": query.guest,
            "page": str(query.page) if query.page > 1 else "",
        }
        return {key: value for key, value in found.items() if value}


def _day(value: str | None, name: str, errors: dict[str, str]) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = _("Enter a date such as 2026-12-31.")
        return None


def parse_list_query(
    tab: str | None,
    event_type: str | None,
    date_from: str | None,
    date_to: str | None,
    guest: str | None,
    page: str | None,
) -> ListQuery:
    """The list's query parameters, checked. Anything wrong is kept in ``errors`` (by parameter)
    and left out of the query, so the page can say what is wrong next to the field."""
    errors: dict[str, str] = {}
    chosen_tab = (tab or "upcoming").strip()
    if chosen_tab not in TABS:
        errors["tab"] = _("There is no such list of bookings.")
        chosen_tab = "upcoming"
    event_type_id = None
    text = (event_type or "").strip()
    if text:
        if text.isdigit() and 1 <= int(text) <= MAX_ID:
            event_type_id = int(text)
        else:
            errors["event_type"] = _("Choose one of your event types.")
    first, last = _day(date_from, "from", errors), _day(date_to, "to", errors)
    if first and last and last < first:
        errors["to"] = _("The end date must not be before the start date.")
        last = None
    who = " ".join((guest or "").split())
    if len(who) > MAX_GUEST_QUERY:
        errors["guest"] = _(
            "Search for at most %(count)s characters of a name or email.", count=MAX_GUEST_QUERY
        )
        who = ""
    number = 1
    text = (page or "").strip()
    if text:
        if text.isdigit() and 1 <= int(text) <= MAX_PAGE:
            number = int(text)
        else:
            errors["page"] = _("There is no such page.")
    return ListQuery(chosen_tab, event_type_id, first, last, who, number, errors)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _guest_condition(text: str) -> ColumnElement[bool]:
    pattern = _like(text)
    return or_(
        func.lower(Booking.invitee_name).like(pattern, escape="\\"),
        func.lower(Booking.invitee_email).like(pattern, escape="\\"),
        func.lower(cast(Booking.guests, String)).like(pattern, escape="\\"),
    )


def _where(host: Host, query: ListQuery, now: datetime) -> list[ColumnElement[bool]]:
    filters = BookingFilters(
        statuses=[query.tab],
        event_type_ids=[query.event_type_id] if query.event_type_id is not None else [],
    )
    where = conditions(host.id, filters, now)
    zone = zone_of(host.timezone)
    if query.date_from:
        start = datetime.combine(query.date_from, datetime.min.time(), zone)
        where.append(Booking.start >= start.astimezone(UTC))
    if query.date_to:
        end = datetime.combine(query.date_to + timedelta(days=1), datetime.min.time(), zone)
        where.append(Booking.start < end.astimezone(UTC))
    if query.guest:
        where.append(_guest_condition(query.guest))
    return where


@dataclass(frozen=True)
class BookingPage:
    bookings: list[Booking]
    total: int
    page: int
    pages: int

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.bookings else 0

    @property
    def last(self) -> int:
        return self.first + len(self.bookings) - 1 if self.bookings else 0


async def list_for_console(
    session: AsyncSession, host: Host, query: ListQuery, now: datetime | None = None
) -> BookingPage:
    """One page (``PAGE_SIZE``) of ``host``'s bookings in ``query``'s tab and filters."""
    where = _where(host, query, now or clock.utcnow())
    total = await session.scalar(select(func.count(Booking.id)).where(*where)) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(query.page, pages)
    order = Booking.start.desc() if query.tab in NEWEST_FIRST else Booking.start.asc()
    rows = await session.scalars(
        select(Booking)
        .where(*where)
        .order_by(order, Booking.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .options(selectinload(Booking.event_type))
    )
    return BookingPage(list(rows.all()), total, page, pages)


async def waiting_count(session: AsyncSession, host: Host, now: datetime | None = None) -> int:
    """How many bookings wait for the host's approval (the pending tab's number)."""
    where = conditions(host.id, BookingFilters(statuses=["unconfirmed"]), now or clock.utcnow())
    return await session.scalar(select(func.count(Booking.id)).where(*where)) or 0


async def has_bookings(session: AsyncSession, host: Host) -> bool:
    """Whether the host has ever had a booking (the empty state says "share your page")."""
    found = await session.scalar(select(Booking.id).where(Booking.host_id == host.id).limit(1))
    return found is not None


async def host_event_types(session: AsyncSession, host: Host) -> list[EventType]:
    """Every event type of the host, hidden and disabled ones too (their bookings remain)."""
    query = select(EventType).where(EventType.host_id == host.id).order_by(EventType.title)
    return list((await session.scalars(query)).all())
