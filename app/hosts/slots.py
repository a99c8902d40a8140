"""Free slots for the host API (Cal.com's ``GET /v2/slots``), from the same engine as the widget.

``start`` and ``end`` are ISO 8601 instants with a zone, or plain dates: a date means the whole of
that day in ``timeZone`` (``end`` included), so ``start=2026-05-04&end=2026-05-04`` is one day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import InvalidInput
from app.bookings.service import MAX_RANGE_DAYS, slots_for_window
from app.bookings.validation import check_timezone, parse_day, parse_instant
from app.db.models import EventType
from app.scheduling import Interval, group_by_date, local_day_window


def _bound(value: str, name: str, timezone: str, *, end: bool) -> datetime:
    text = value.strip()
    if len(text) == 10:
        day = parse_day(text, name)
        window = local_day_window(day, day, timezone)
        return window.end if end else window.start
    return parse_instant(text, name)


def window(start: str, end: str, timezone: str) -> Interval:
    first = _bound(start, "start", timezone, end=False)
    last = _bound(end, "end", timezone, end=True)
    if last <= first:
        raise InvalidInput("end must be after start.", "end")
    if last - first > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidInput(f"The range is too long (at most {MAX_RANGE_DAYS} days).", "end")
    return Interval(first, last)


async def free_slots_by_date(
    session: AsyncSession, event_type: EventType, start: str, end: str, timezone: str
) -> list[tuple[date, list[Interval]]]:
    timezone = check_timezone(timezone, "timeZone")
    slots = await slots_for_window(session, event_type, window(start, end, timezone), capped=True)
    return group_by_date(slots, timezone)
