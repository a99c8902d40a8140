"""Read what the slot engine needs from the database and turn rows into its plain data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Executable, Integer, Row, bindparam, exists, func, literal, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    HELD_STATUSES,
    Booking,
    EventType,
    HostBusy,
    Schedule,
    ScheduleInterval,
    ScheduleOverride,
)
from app.scheduling import Availability, DateOverride, Interval, SlotRules, WeeklyRule

# Bookings are looked up this far around a window, so buffers and day counts near its edges count.
MARGIN = timedelta(days=2)


# Statements are built once: composing a select costs more Python than SQLite takes to run it,
# and every slot list and every booking runs these.
_OWN_OR_DEFAULT_SCHEDULE = func.coalesce(
    bindparam("schedule_id", type_=Integer),
    select(Schedule.id)
    .where(Schedule.host_id == bindparam("host_id"))
    .order_by(Schedule.is_default.desc(), Schedule.id)
    .limit(1)
    .scalar_subquery(),
)
_WEEKLY_HOURS = (
    select(
        Schedule.timezone,
        # Most schedules have no date overrides: this saves asking for them.
        exists().where(ScheduleOverride.schedule_id == Schedule.id).label("has_overrides"),
        ScheduleInterval.weekday,
        ScheduleInterval.start_minute,
        ScheduleInterval.end_minute,
    )
    .outerjoin(ScheduleInterval, ScheduleInterval.schedule_id == Schedule.id)
    .where(Schedule.id == _OWN_OR_DEFAULT_SCHEDULE)
    .order_by(ScheduleInterval.weekday, ScheduleInterval.start_minute)
)
_OVERRIDES = (
    select(ScheduleOverride.day, ScheduleOverride.start_minute, ScheduleOverride.end_minute)
    .where(ScheduleOverride.schedule_id == _OWN_OR_DEFAULT_SCHEDULE)
    .order_by(ScheduleOverride.day, ScheduleOverride.start_minute)
)
_HELD_WHERE = (
    Booking.host_id == bindparam("host_id"),
    Booking.status.in_(HELD_STATUSES),
    Booking.held_end > bindparam("start"),
    Booking.held_start < bindparam("end"),
    Booking.id != bindparam("exclude_id"),
)
# Busy times synced from the host's selected calendars (merged across them: app/calendars/busy.py)
# block slots like held ranges do; the same statement reads both, on the same kind of index.
_BUSY_WHERE = (
    HostBusy.host_id == bindparam("host_id"),
    HostBusy.end > bindparam("start"),
    HostBusy.start < bindparam("end"),
)
_HELD = (
    select(Booking.held_start, Booking.held_end)
    .where(*_HELD_WHERE)
    .union_all(select(HostBusy.start, HostBusy.end).where(*_BUSY_WHERE))
)
# With a daily cap, the starts of the event type's own bookings count too.
_HELD_AND_STARTS = (
    select(Booking.held_start, Booking.held_end, Booking.start, Booking.event_type_id)
    .where(*_HELD_WHERE)
    .union_all(select(HostBusy.start, HostBusy.end, null(), literal(0)).where(*_BUSY_WHERE))
)


async def _rows(
    session: AsyncSession, statement: Executable, params: dict[str, Any]
) -> Sequence[Row[Any]]:
    """Plain rows, run on the session's connection: these statements load no ORM objects, and
    the session's own ``execute`` would spend more Python on each than SQLite takes to answer."""
    return (await (await session.connection()).execute(statement, params)).all()


async def load_availability(
    session: AsyncSession, event_type: EventType, host_timezone: str
) -> Availability:
    """The hours of the event type's own schedule, or else of the host's default (or first) one.

    Read as plain rows, not as Schedule objects: nothing here is changed, and building ORM objects
    with their collections cost more than the query.
    """
    which = {"schedule_id": event_type.schedule_id, "host_id": event_type.host_id}
    weekly_rows = await _rows(session, _WEEKLY_HOURS, which)
    if not weekly_rows:
        return Availability(timezone=host_timezone, weekly=())
    timezone, has_overrides = weekly_rows[0][:2]
    by_day: dict = {}
    for day, start_minute, end_minute in (
        await _rows(session, _OVERRIDES, which) if has_overrides else ()
    ):
        spans = by_day.setdefault(day, [])
        if start_minute is not None and end_minute is not None:
            spans.append((start_minute, end_minute))
    return Availability(
        timezone=timezone,
        weekly=tuple(
            WeeklyRule(weekday, start, end)
            for _, _, weekday, start, end in weekly_rows
            if weekday is not None
        ),
        overrides=tuple(DateOverride(day, tuple(spans)) for day, spans in sorted(by_day.items())),
    )


def slot_rules(event_type: EventType) -> SlotRules:
    return SlotRules(
        duration_minutes=event_type.duration_minutes,
        interval_minutes=event_type.slot_interval_minutes,
        buffer_before_minutes=event_type.buffer_before_minutes,
        buffer_after_minutes=event_type.buffer_after_minutes,
        min_notice_minutes=event_type.min_notice_minutes,
        booking_window_days=event_type.booking_window_days,
        max_per_day=event_type.max_per_day,
    )


async def load_held(
    session: AsyncSession,
    event_type: EventType,
    start: datetime,
    end: datetime,
    exclude_booking_id: int | None = None,
    margin: timedelta = MARGIN,
) -> tuple[list[Interval], list[datetime]]:
    """Held ranges of the host near [start, end) (its bookings' and the busy times of its
    calendars), and starts of this event type's held bookings (only when it has a daily cap:
    nothing else needs them).

    ``margin`` widens the lookup; a caller that needs only the ranges overlapping [start, end)
    passes zero.
    """
    params = {
        "host_id": event_type.host_id,
        "start": start - margin,
        "end": end + margin,
        "exclude_id": exclude_booking_id or 0,  # ids start at 1
    }
    if event_type.max_per_day is None:
        rows = await _rows(session, _HELD, params)
        return [Interval(held_start, held_end) for held_start, held_end in rows], []
    busy: list[Interval] = []
    starts: list[datetime] = []
    for held_start, held_end, start_, event_type_id in await _rows(
        session, _HELD_AND_STARTS, params
    ):
        busy.append(Interval(held_start, held_end))
        if event_type_id == event_type.id:
            starts.append(start_)
    return busy, starts
