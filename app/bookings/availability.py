"""Read what the slot engine needs from the database and turn rows into its plain data."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from app.db.models import HELD_STATUSES, Booking, EventType, Schedule
from app.scheduling import Availability, DateOverride, Interval, SlotRules, WeeklyRule

# Bookings are looked up this far around a window, so buffers and day counts near its edges count.
MARGIN = timedelta(days=2)


async def schedule_for(session: AsyncSession, event_type: EventType) -> Schedule | None:
    """The event type's own schedule, or else the host's default (or first) one, with its hours.

    Weekly hours come in the same statement (a join) and overrides in one more: every slot list
    and every booking reads this, and each statement is a round trip to the database.
    ``populate_existing`` re-reads a schedule this session already holds, as a refresh would.
    """
    query = select(Schedule).options(
        joinedload(Schedule.intervals), selectinload(Schedule.overrides)
    )
    if event_type.schedule_id is not None:
        query = query.where(Schedule.id == event_type.schedule_id)
    else:
        query = (
            query.where(Schedule.host_id == event_type.host_id)
            .order_by(Schedule.is_default.desc(), Schedule.id)
            .limit(1)
        )
    query = query.execution_options(populate_existing=True)
    return (await session.scalars(query)).unique().first()


async def load_availability(
    session: AsyncSession, event_type: EventType, host_timezone: str
) -> Availability:
    schedule = await schedule_for(session, event_type)
    if schedule is None:
        return Availability(timezone=host_timezone, weekly=())
    by_day: dict = {}
    for override in schedule.overrides:
        spans = by_day.setdefault(override.day, [])
        if override.start_minute is not None and override.end_minute is not None:
            spans.append((override.start_minute, override.end_minute))
    return Availability(
        timezone=schedule.timezone,
        weekly=tuple(
            WeeklyRule(i.weekday, i.start_minute, i.end_minute) for i in schedule.intervals
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
    """Held ranges of the host near [start, end), and starts of this event type's held bookings.

    ``margin`` widens the lookup; a caller that needs only the ranges overlapping [start, end)
    passes zero.
    """
    query = select(
        Booking.held_start, Booking.held_end, Booking.start, Booking.event_type_id
    ).where(
        Booking.host_id == event_type.host_id,
        Booking.status.in_(HELD_STATUSES),
        Booking.held_end > start - margin,
        Booking.held_start < end + margin,
    )
    if exclude_booking_id is not None:
        query = query.where(Booking.id != exclude_booking_id)
    busy: list[Interval] = []
    starts: list[datetime] = []
    for held_start, held_end, booking_start, event_type_id in (await session.execute(query)).all():
        busy.append(Interval(held_start, held_end))
        if event_type_id == event_type.id:
            starts.append(booking_start)
    return busy, starts
