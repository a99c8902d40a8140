"""Which meeting times a host can still offer.

Pure on purpose: the booking page, the API and the booking service must agree exactly on what is
bookable, so the service re-checks a requested time with `is_free_slot`, which runs the very same
computation as the listing, and nothing here depends on a clock, a database or a request.
"""

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.scheduling.wallclock import MINUTES_PER_DAY, local_date, wall_to_utc, zone

Span = tuple[datetime, datetime]
Hours = Sequence[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Interval:
    """Half-open [start, end) so that back-to-back meetings touch without overlapping."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    """Hours in the host's wall clock, because "9 to 5" must survive DST changes.

    weekday: 0 = Monday ... 6 = Sunday; minutes after local midnight, end_minute 1440 = 24:00.
    """

    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True, slots=True)
class DateOverride:
    """Replaces the weekly rules of one local date entirely; no intervals closes the day."""

    day: date
    intervals: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Availability:
    timezone: str
    weekly: tuple[WeeklyRule, ...]
    overrides: tuple[DateOverride, ...] = ()


@dataclass(frozen=True, slots=True)
class SlotRules:
    """An event type's constraints; interval_minutes None steps by the duration."""

    duration_minutes: int
    interval_minutes: int | None = None
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    booking_window_days: int | None = None
    max_per_day: int | None = None


def free_slots(
    availability: Availability,
    rules: SlotRules,
    window: Interval,
    now: datetime,
    busy: Sequence[Interval] = (),
    booked_starts: Sequence[datetime] = (),
    max_slots: int | None = None,
) -> list[Interval]:
    """Meeting intervals (UTC, sorted) a guest may book inside `window`: the first `max_slots`
    of them, when given (the rest are never computed).

    `busy` holds the held ranges of the host's bookings, already widened by their own buffers, so
    a slot is free when its own held range does not overlap them: the same test a database
    exclusion constraint over held ranges applies, hence no double booking slips through.
    Slot starts step from the start of each available stretch, not from the window, so that the
    same slot exists whatever window a caller asks for.
    """
    tz = zone(availability.timezone)
    hours_on = _hours_lookup(availability)
    _check_rules(rules)
    now = _utc(now, "now")
    window_start, window_end = _utc(window.start, "window.start"), _utc(window.end, "window.end")

    duration = timedelta(minutes=rules.duration_minutes)
    step = timedelta(minutes=rules.interval_minutes or rules.duration_minutes)
    before = timedelta(minutes=rules.buffer_before_minutes)
    after = timedelta(minutes=rules.buffer_after_minutes)
    earliest = max(window_start, now + timedelta(minutes=rules.min_notice_minutes))
    latest = window_end - duration
    if rules.booking_window_days is not None:
        # Starts must come strictly before the limit; datetimes count whole microseconds.
        limit = now + timedelta(days=rules.booking_window_days)
        latest = min(latest, limit - timedelta(microseconds=1))
    if earliest > latest:
        return []

    taken = _BusyIndex(busy)
    booked_on = Counter(local_date(_utc(s, "booked start"), tz) for s in booked_starts)
    slots: list[Interval] = []
    # The date an instant falls on and the date whose hours produced it can differ when a clock
    # goes back across midnight, so look one date further each way.
    day = local_date(earliest, tz) - timedelta(days=1)
    while day <= local_date(latest, tz) + timedelta(days=1):
        if rules.max_per_day is None or booked_on[day] < rules.max_per_day:
            for span in _spans(hours_on(day), day, tz):
                for start in _starts(span, step, duration, earliest, latest):
                    if not taken.overlaps(start - before, start + duration + after):
                        slots.append(Interval(start, start + duration))
                        if len(slots) == max_slots:
                            return slots
        day += timedelta(days=1)
    return slots


def held_range(slot: Interval, rules: SlotRules) -> Interval:
    """The range a booking of this slot holds: [start - buffer_before, end + buffer_after)."""
    return Interval(
        _utc(slot.start, "slot.start") - timedelta(minutes=rules.buffer_before_minutes),
        _utc(slot.end, "slot.end") + timedelta(minutes=rules.buffer_after_minutes),
    )


def is_free_slot(
    slot: Interval,
    availability: Availability,
    rules: SlotRules,
    now: datetime,
    busy: Sequence[Interval] = (),
    booked_starts: Sequence[datetime] = (),
) -> bool:
    """True iff `slot` is exactly one of the slots `free_slots` would return for a window holding it.

    Asking `free_slots` for the slot's own window keeps validation and listing from ever drifting.
    """
    start, end = _utc(slot.start, "slot.start"), _utc(slot.end, "slot.end")
    if end - start != timedelta(minutes=rules.duration_minutes):
        return False
    found = free_slots(availability, rules, Interval(start, end), now, busy, booked_starts)
    return found == [Interval(start, end)]


def group_by_date(slots: Sequence[Interval], timezone: str) -> list[tuple[date, list[Interval]]]:
    """Slots under their start's local date in the guest's zone, dates ascending, none empty.

    Slots keep their order within a date, so sorted slots flatten back to themselves.
    """
    tz = zone(timezone)
    groups: dict[date, list[Interval]] = {}
    for slot in slots:
        groups.setdefault(local_date(_utc(slot.start, "slot.start"), tz), []).append(slot)
    return sorted(groups.items())


def local_day_window(first: date, last: date, timezone: str) -> Interval:
    """UTC instants covering local dates first..last inclusive, 23 or 25 hours on DST days."""
    if last < first:
        raise ValueError(f"last date {last} is before first date {first}")
    tz = zone(timezone)
    return Interval(wall_to_utc(first, 0, tz), wall_to_utc(last, MINUTES_PER_DAY, tz))


class _BusyIndex:
    """Busy ranges merged and sorted once, so each slot costs one bisection instead of a scan."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, busy: Iterable[Interval]) -> None:
        merged = _merge((_utc(b.start, "busy start"), _utc(b.end, "busy end")) for b in busy)
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        first_ending_after_start = bisect_right(self._ends, start)
        return (
            first_ending_after_start < len(self._starts)
            and self._starts[first_ending_after_start] < end
        )


def _spans(hours: Hours, day: date, tz: ZoneInfo) -> list[Span]:
    """The day's hours as UTC stretches; merged after conversion, as a skipped hour can join two."""
    return _merge((wall_to_utc(day, start, tz), wall_to_utc(day, end, tz)) for start, end in hours)


def _starts(
    span: Span, step: timedelta, duration: timedelta, earliest: datetime, latest: datetime
) -> Iterator[datetime]:
    """Starts on the stretch's own grid, so a slot does not move when `earliest` does."""
    start, end = span
    if earliest > start:
        start += step * -((start - earliest) // step)  # the first grid start not before earliest
    while start <= latest and start + duration <= end:
        yield start
        start += step


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted disjoint spans covering the same instants; touching spans join, empty ones vanish."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if end < start:
            raise ValueError(f"interval ends before it starts: {start.isoformat()}")
        if start == end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _hours_lookup(availability: Availability) -> Callable[[date], Hours]:
    """The hours of any local date, validated once per call rather than once per date."""
    weekly: dict[int, list[tuple[int, int]]] = {weekday: [] for weekday in range(7)}
    for rule in availability.weekly:
        if rule.weekday not in weekly:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {rule.weekday}")
        _check_hours(rule.start_minute, rule.end_minute, f"weekday {rule.weekday}")
        weekly[rule.weekday].append((rule.start_minute, rule.end_minute))
    overrides: dict[date, Hours] = {}
    for override in availability.overrides:
        if override.day in overrides:
            raise ValueError(f"more than one override for {override.day}")
        for start, end in override.intervals:
            _check_hours(start, end, f"override {override.day}")
        overrides[override.day] = override.intervals
    return lambda day: overrides.get(day, weekly[day.weekday()])


def _check_hours(start: int, end: int, where: str) -> None:
    if not 0 <= start < end <= MINUTES_PER_DAY:
        raise ValueError(f"{where}: hours need 0 <= start < end <= 1440 minutes, got {start}-{end}")


def _check_rules(rules: SlotRules) -> None:
    if rules.duration_minutes <= 0:
        raise ValueError(f"duration must be positive, got {rules.duration_minutes} minutes")
    if rules.interval_minutes is not None and rules.interval_minutes <= 0:
        raise ValueError(f"slot interval must be positive, got {rules.interval_minutes} minutes")
    for name in ("buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes"):
        if getattr(rules, name) < 0:
            raise ValueError(f"{name} must not be negative, got {getattr(rules, name)}")
    for name in ("booking_window_days", "max_per_day"):
        value = getattr(rules, name)
        if value is not None and value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")


def _utc(moment: datetime, what: str) -> datetime:
    """`moment` in UTC; naive datetimes are refused because their instant is a guess."""
    if moment.tzinfo is UTC:  # the common case (instants read from the database), kept cheap
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)
