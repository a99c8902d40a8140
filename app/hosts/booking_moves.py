"""The times a host can move a booking to, on the guest's behalf: the event type's real slots.

The same slots a guest would be offered (``app.bookings.service.slots_for_window``: hours,
overrides, notice, window, daily limit, buffers, other bookings, calendar busy times), except that
the booking being moved does not block itself, as when the guest reschedules by link. Days are the
host's calendar days, in the host's zone. The move itself is ``reschedule_booking``, which checks
the chosen time again under the write lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings.service import slots_for_window
from app.dates import zone_of
from app.db.models import Booking
from app.scheduling import Interval, group_by_date, local_day_window

DAYS_SHOWN = 14
FURTHEST_DAYS = 3 * 366  # the picker goes no further (no event type books that far ahead)


@dataclass(frozen=True)
class MoveChoices:
    """``days``: the host's days from ``first`` on, each with its number of free times;
    ``slots``: those of ``day``, the chosen one; ``earlier``/``later``: the first day of the
    previous and next pages of days (no earlier page before today)."""

    first: date
    day: date
    days: list[tuple[date, int]]
    slots: list[Interval]
    earlier: date | None
    later: date


async def move_choices(
    session: AsyncSession,
    booking: Booking,
    zone: str,
    day: date | None = None,
    now: datetime | None = None,
    *,
    start: date | None = None,
) -> MoveChoices:
    """The free times for ``booking``'s event type on ``DAYS_SHOWN`` days of the host's calendar
    starting at ``start`` (the days page the host is on) or else at ``day`` (today by default),
    and those of ``day`` itself (or of the first day that has any, when ``day`` was not given)."""
    now = now or clock.utcnow()
    today = now.astimezone(zone_of(zone)).date()
    asked = day
    furthest = today + timedelta(days=FURTHEST_DAYS)
    day = min(day, furthest) if day else None
    first = min(max(day or today, today), furthest)
    if start and day and start <= day < start + timedelta(days=DAYS_SHOWN):
        first = max(start, today)
    event_type = booking.event_type
    await session.refresh(event_type, ["host"])
    window = local_day_window(first, first + timedelta(days=DAYS_SHOWN - 1), zone)
    free = await slots_for_window(session, event_type, window, now, exclude_booking_id=booking.id)
    free = [slot for slot in free if slot.start != booking.start]
    by_day = dict(group_by_date(free, zone))
    shown = [first + timedelta(days=n) for n in range(DAYS_SHOWN)]
    days = [(d, len(by_day.get(d, []))) for d in shown]
    chosen = day if day and day >= first else first
    if asked is None:
        chosen = next((d for d, count in days if count), first)
    step = timedelta(days=DAYS_SHOWN)
    earlier = max(first - step, today) if first > today else None
    return MoveChoices(first, chosen, days, list(by_day.get(chosen, [])), earlier, first + step)
