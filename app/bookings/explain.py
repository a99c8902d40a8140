"""The slot explainer's loader: reads what the slot engine reads, with labels, and says why a
time is not bookable (``app.scheduling.explain`` decides). The CLI and the console call it."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings.availability import MARGIN, load_availability, slot_rules
from app.bookings.service import find_event_type
from app.db.models import HELD_STATUSES, Booking, CalendarBusy, ConnectedCalendar
from app.i18n import _, ngettext
from app.scheduling import Interval
from app.scheduling import explain as rules_of
from app.scheduling.explain import CalendarBusyTime, HeldBooking, Reason
from app.scheduling.wallclock import zone


async def explain_slot(
    session: AsyncSession,
    host_slug: str,
    event_slug: str,
    start: datetime,
    now: datetime | None = None,
) -> list[Reason]:
    """Why a meeting of this event type starting at ``start`` cannot be booked (empty: it can)."""
    now = now or clock.utcnow()
    event_type = await find_event_type(session, host_slug, event_slug)
    availability = await load_availability(session, event_type, event_type.host.timezone)
    rules = slot_rules(event_type)
    low, high = start - MARGIN, start + MARGIN
    rows = await session.execute(
        select(
            Booking.uid,
            Booking.start,
            Booking.end,
            Booking.held_start,
            Booking.held_end,
            Booking.event_type_id,
        ).where(
            Booking.host_id == event_type.host_id,
            Booking.status.in_(HELD_STATUSES),
            Booking.held_end > low,
            Booking.held_start < high,
        )
    )
    bookings, starts = [], []
    for uid, b_start, b_end, h_start, h_end, type_id in rows:
        bookings.append(HeldBooking(uid, Interval(b_start, b_end), Interval(h_start, h_end)))
        if type_id == event_type.id:
            starts.append(b_start)
    busy_rows = await session.execute(
        select(ConnectedCalendar.name, CalendarBusy.start, CalendarBusy.end)
        .join(ConnectedCalendar, ConnectedCalendar.id == CalendarBusy.calendar_id)
        .where(
            CalendarBusy.host_id == event_type.host_id,
            CalendarBusy.end > low,
            CalendarBusy.start < high,
        )
    )
    busy = [CalendarBusyTime(name, Interval(s, e)) for name, s, e in busy_rows]
    return rules_of.explain(start, availability, rules, now, bookings, busy, starts)


def describe(reason: Reason, timezone: str, locale: str = "en") -> str:
    """One reason as a sentence for the host, times in the host's zone and locale."""

    def when(moment: datetime | None) -> str:
        if moment is None:
            return ""
        return format_datetime(moment, "medium", tzinfo=zone(timezone), locale=locale)

    texts = {
        rules_of.PAST: lambda: _("The time has already passed."),
        rules_of.MIN_NOTICE: lambda: _(
            "Too short notice: the earliest bookable time is %(when)s.", when=when(reason.start)
        ),
        rules_of.BOOKING_WINDOW: lambda: _(
            "Too far ahead: bookings are taken until %(when)s.", when=when(reason.start)
        ),
        rules_of.OUTSIDE_HOURS: lambda: _("Outside the weekly hours of the schedule."),
        rules_of.DATE_OVERRIDE: lambda: _("A date override changes the hours of this date."),
        rules_of.NOT_ON_GRID: lambda: _(
            "Within the hours, but not one of the start times the event type offers."
        ),
        rules_of.DAILY_LIMIT: lambda: ngettext(
            "The daily limit is reached (%(num)d booking that day).",
            "The daily limit is reached (%(num)d bookings that day).",
            reason.count,
        ),
        rules_of.BOOKING: lambda: _(
            "Held by booking %(uid)s (%(start)s to %(end)s).",
            uid=reason.label,
            start=when(reason.start),
            end=when(reason.end),
        ),
        rules_of.BUFFER: lambda: _(
            "Too close to booking %(uid)s (%(start)s to %(end)s): the buffer time overlaps.",
            uid=reason.label,
            start=when(reason.start),
            end=when(reason.end),
        ),
        rules_of.CALENDAR: lambda: _(
            'Busy in calendar "%(name)s" from %(start)s to %(end)s.',
            name=reason.label,
            start=when(reason.start),
            end=when(reason.end),
        ),
    }
    return texts.get(reason.code, lambda: reason.code)()
