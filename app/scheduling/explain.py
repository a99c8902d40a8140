"""Why a time is not bookable: the slot engine's verdict, taken apart for a host.

Pure, like the engine: the caller hands in the same availability, rules and busy times, with
labels (which booking, which calendar) the engine does not need. The answer is empty exactly
when ``is_free_slot`` says the slot is free: the verdict is the engine's, and the reasons only
say which of its rules refused it (every one that does, not only the first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.scheduling.slots import (
    Availability,
    Interval,
    SlotRules,
    _hours_lookup,
    _spans,
    _utc,
    free_slots,
    held_range,
    is_free_slot,
)
from app.scheduling.wallclock import local_date, zone

PAST = "past"
MIN_NOTICE = "min_notice"
BOOKING_WINDOW = "booking_window"
OUTSIDE_HOURS = "outside_hours"
DATE_OVERRIDE = "date_override"
NOT_ON_GRID = "not_on_grid"
DAILY_LIMIT = "daily_limit"
BOOKING = "booking"
BUFFER = "buffer"
CALENDAR = "calendar"


@dataclass(frozen=True, slots=True)
class HeldBooking:
    uid: str
    meeting: Interval
    held: Interval  # the meeting widened by its own buffers


@dataclass(frozen=True, slots=True)
class CalendarBusyTime:
    calendar: str
    span: Interval


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    start: datetime | None = None  # the interval the reason is about (a booking, a busy time,
    end: datetime | None = None  # the notice or window limit)
    label: str = ""  # a booking's uid, a calendar's name
    count: int = 0  # bookings already on the day (daily limit)


def explain(
    start: datetime,
    availability: Availability,
    rules: SlotRules,
    now: datetime,
    bookings: Sequence[HeldBooking] = (),
    busy: Sequence[CalendarBusyTime] = (),
    booked_starts: Sequence[datetime] = (),
) -> list[Reason]:
    """The reasons a meeting starting at ``start`` cannot be booked; empty if it can."""
    start, now = _utc(start, "start"), _utc(now, "now")
    slot = Interval(start, start + timedelta(minutes=rules.duration_minutes))
    all_busy = [b.held for b in bookings] + [b.span for b in busy]
    if is_free_slot(slot, availability, rules, now, all_busy, booked_starts):
        return []
    reasons: list[Reason] = []
    earliest = now + timedelta(minutes=rules.min_notice_minutes)
    if start < now:
        reasons.append(Reason(PAST, now, now))
    elif start < earliest:
        reasons.append(Reason(MIN_NOTICE, earliest, earliest))
    if rules.booking_window_days is not None:
        limit = now + timedelta(days=rules.booking_window_days)
        if start >= limit:
            reasons.append(Reason(BOOKING_WINDOW, limit, limit))
    reasons += _hours(slot, availability, rules)
    tz = zone(availability.timezone)
    if rules.max_per_day is not None:
        day = local_date(start, tz)
        taken = sum(1 for s in booked_starts if local_date(_utc(s, "booked start"), tz) == day)
        if taken >= rules.max_per_day:
            reasons.append(Reason(DAILY_LIMIT, count=taken))
    held = held_range(slot, rules)
    for booking in bookings:
        if _overlap(booking.meeting, slot):
            reasons.append(Reason(BOOKING, booking.meeting.start, booking.meeting.end, booking.uid))
        elif _overlap(booking.held, held):
            reasons.append(Reason(BUFFER, booking.meeting.start, booking.meeting.end, booking.uid))
    for item in busy:
        if _overlap(item.span, held):
            reasons.append(Reason(CALENDAR, item.span.start, item.span.end, item.calendar))
    return reasons or [Reason(NOT_ON_GRID)]


def _hours(slot: Interval, availability: Availability, rules: SlotRules) -> list[Reason]:
    """Outside the hours of its date (weekly or overridden), or inside them but off the grid."""
    open_rules = SlotRules(
        duration_minutes=rules.duration_minutes, interval_minutes=rules.interval_minutes
    )
    if free_slots(availability, open_rules, slot, slot.start) == [slot]:
        return []
    tz = zone(availability.timezone)
    hours_on = _hours_lookup(availability)
    overridden = {o.day for o in availability.overrides}
    day = local_date(slot.start, tz)
    inside = any(
        start <= slot.start and slot.end <= end
        for offset in (-1, 0, 1)
        for start, end in _spans(
            hours_on(day + timedelta(days=offset)), day + timedelta(days=offset), tz
        )
    )
    if inside:
        return [Reason(NOT_ON_GRID)]
    return [Reason(DATE_OVERRIDE if day in overridden else OUTSIDE_HOURS)]


def _overlap(a: Interval, b: Interval) -> bool:
    return a.start < b.end and b.start < a.end
