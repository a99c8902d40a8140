"""iCalendar data in, busy intervals out: the pure part of reading a host's calendar.

No I/O and no clock: the sync module hands in what a server sent and the window to cover, and
stores what comes out. The rules, one place for CalDAV calendars and ICS feeds alike:

- Every VEVENT occurrence blocks its time, except ``STATUS:CANCELLED`` and ``TRANSP:TRANSPARENT``
  ones (decided per occurrence, so one cancelled or "free" instance of a series does not block
  while the others do). Feeds follow the same rule: holiday feeds mark their events transparent,
  so a public holiday does not block the day; a feed whose all-day events are opaque does.
- Recurrences are expanded by ``recurring-ical-events`` (RRULE, RDATE, EXDATE, RECURRENCE-ID
  overrides, RANGE=THISANDFUTURE), in the event's own zone, so a weekly 10:00 stays 10:00 across
  DST.
- All-day events cover their dates from local midnight to local midnight, and floating times read
  as wall-clock time, both in the calendar's zone (the calendar's own, else the host's). A TZID
  that names no zone we know and has no VTIMEZONE is read as floating too, with a warning.
- An event without DTEND or DURATION lasts one day if it starts on a date, and no time at all if
  it starts at a time (RFC 5545 3.6.1): such an event blocks nothing.
- Caps: data larger than ``Limits.max_bytes`` is refused whole, and so is a calendar with more
  than ``max_components`` events. A series that would repeat more than ``max_per_series`` times in
  the window (``RRULE:FREQ=MINUTELY``) is not expanded: it blocks its whole span inside the window
  instead, with a warning, so that a bad feed costs neither the worker's time nor the host a
  double booking. Occurrences past ``max_busy`` in one calendar are dropped, with a warning.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone

from app.scheduling import Interval
from app.scheduling.wallclock import wall_to_utc, zone

# Occurrences per day an RRULE frequency can produce at most, before BYxxx parts multiply it.
_PER_DAY = {
    "SECONDLY": 86400.0,
    "MINUTELY": 1440.0,
    "HOURLY": 24.0,
    "DAILY": 1.0,
    "WEEKLY": 1 / 7,
    "MONTHLY": 1 / 28,
    "YEARLY": 1 / 365,
}
# The BYxxx parts that can add occurrences to a rule of a coarser frequency.
_EXPANDING = {
    "BYSECOND": "SECONDLY",
    "BYMINUTE": "MINUTELY",
    "BYHOUR": "HOURLY",
    "BYDAY": "DAILY",
    "BYMONTHDAY": "DAILY",
    "BYYEARDAY": "DAILY",
    "BYWEEKNO": "WEEKLY",
    "BYMONTH": "MONTHLY",
}
_ORDER = list(_PER_DAY)


class CalendarDataError(ValueError):
    """The data is not iCalendar we can read (or is over a cap); the message says why."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 5_000_000
    max_components: int = 20_000
    max_per_series: int = 5_000
    max_busy: int = 50_000


@dataclass(frozen=True, slots=True)
class BusySpan:
    """One busy stretch (UTC, half-open) and the UID of the event it comes from."""

    start: datetime
    end: datetime
    uid: str


@dataclass
class Expansion:
    spans: list[BusySpan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse(data: bytes | str, limits: Limits = Limits()) -> icalendar.Calendar:
    """One VCALENDAR (the first, if a feed glues several), or ``CalendarDataError``."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > limits.max_bytes:
        raise CalendarDataError(
            f"calendar data is too large ({len(raw):,} bytes; at most {limits.max_bytes:,})"
        )
    if not raw.lstrip(b"\xef\xbb\xbf \t\r\n").upper().startswith(b"BEGIN:VCALENDAR"):
        raise CalendarDataError("not iCalendar data (it does not start with BEGIN:VCALENDAR)")
    try:
        calendars = icalendar.Calendar.from_ical(raw, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise CalendarDataError(f"invalid iCalendar data: {_first_line(exc)}") from None
    if not calendars:
        raise CalendarDataError("invalid iCalendar data: no complete VCALENDAR")
    calendar = calendars[0]
    events = sum(1 for _ in calendar.walk("VEVENT"))
    if events > limits.max_components:
        raise CalendarDataError(
            f"too many events ({events:,}; at most {limits.max_components:,} per calendar)"
        )
    return calendar


def calendar_zone(calendar: icalendar.Calendar) -> str | None:
    """The zone a calendar says it lives in (``X-WR-TIMEZONE``, as Google and Apple write it)."""
    name = str(calendar.get("X-WR-TIMEZONE", "")).strip()
    if not name:
        return None
    try:
        zone(name)
    except ValueError:
        return None
    return name


def uids(calendar: icalendar.Calendar) -> set[str]:
    return {str(event.get("UID", "")) for event in calendar.walk("VEVENT")}


def expand(
    calendar: icalendar.Calendar,
    window: Interval,
    timezone: str,
    limits: Limits = Limits(),
    skip_uids: frozenset[str] | set[str] = frozenset(),
) -> Expansion:
    """The busy spans of ``calendar`` that overlap ``window``, sorted, with warnings.

    ``timezone`` is the zone of floating times and all-day dates. Events whose UID is in
    ``skip_uids`` are left out (the host's own bookings, written back by us).
    """
    tz = zone(timezone)
    result = Expansion()
    _check_events(calendar, tz, result.warnings)
    calendar = x_wr_timezone.to_standard(calendar)
    try:
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
    except recurring_ical_events.InvalidCalendar as exc:
        raise CalendarDataError(f"invalid iCalendar data: {exc.message}") from None
    # Floating times can sit up to 14 hours either side of UTC: ask the library for a wider
    # window, then keep what overlaps the real one once every time is an instant.
    ask_start = window.start - timedelta(days=1)
    ask_end = window.end + timedelta(days=1)
    window_days = (ask_end - ask_start) / timedelta(days=1)
    for series in query.series:
        uid = str(series.uid)
        if uid in skip_uids:
            continue
        if _too_many(series, window_days, limits.max_per_series):
            span = _series_span(series, window, tz)
            if span is not None:
                result.spans.append(BusySpan(span.start, span.end, uid))
            result.warnings.append(
                f"event {uid!r} repeats more than {limits.max_per_series:,} times in the "
                f"window: its whole span counts as busy"
            )
            continue
        with contextlib.suppress(*query.suppressed_errors):
            for occurrence in series.between(ask_start, ask_end):
                span = _busy_span(occurrence, tz)
                if span is None or span.end <= window.start or span.start >= window.end:
                    continue
                if len(result.spans) >= limits.max_busy:
                    result.warnings.append(
                        f"more than {limits.max_busy:,} busy times in the window: the rest "
                        f"are not read"
                    )
                    result.spans.sort(key=_by_start)
                    return result
                result.spans.append(BusySpan(span.start, span.end, uid))
    result.spans.sort(key=_by_start)
    return result


def expand_data(
    data: bytes | str,
    window: Interval,
    timezone: str,
    limits: Limits = Limits(),
    skip_uids: frozenset[str] | set[str] = frozenset(),
) -> Expansion:
    """``parse`` then ``expand``, in the calendar's own zone if it names one."""
    calendar = parse(data, limits)
    return expand(calendar, window, calendar_zone(calendar) or timezone, limits, skip_uids)


def merge(spans: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same instants (touching ones join)."""
    merged: list[Interval] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start <= merged[-1].end:
            if span.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged


# Reading one occurrence --------------------------------------------------------------------------


def _busy_span(occurrence: Any, tz: ZoneInfo) -> Interval | None:
    component = occurrence.as_component(False)
    if str(component.get("STATUS", "")).upper() == "CANCELLED":
        return None
    if str(component.get("TRANSP", "")).upper() == "TRANSPARENT":
        return None
    start = _instant(occurrence.start, tz)
    end = _instant(occurrence.end, tz)
    if end <= start:
        return None  # no DTEND at a time of day: an instant, which blocks nothing
    return Interval(start, end)


def _instant(value: date | datetime, tz: ZoneInfo) -> datetime:
    """UTC for an aware time; wall-clock time in ``tz`` for a floating time or a date."""
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value.astimezone(UTC)
        minute = value.hour * 60 + value.minute
        return wall_to_utc(value.date(), minute, tz) + timedelta(
            seconds=value.second, microseconds=value.microsecond
        )
    return wall_to_utc(value, 0, tz)


def _by_start(span: BusySpan) -> tuple[datetime, datetime]:
    return (span.start, span.end)


# Caps ---------------------------------------------------------------------------------------------


def _too_many(series: Any, days: float, cap: int) -> bool:
    """Whether the series could repeat more than ``cap`` times in ``days``, judged from its rules
    alone (no expansion: the point is not to spend the time)."""
    core = getattr(series.recurrence, "core", None)
    if core is None:
        return False
    estimate = float(len(core.rdates))
    for rule in core.rrules:
        parts = _rule_parts(str(rule))
        count = _int(parts.get("COUNT"), 0)
        per_window = _rule_per_day(parts) * days
        estimate += min(per_window, count) if count else per_window
    return estimate > cap


def _rule_parts(rule: str) -> dict[str, str]:
    parts = {}
    for part in rule.split(";"):
        name, _, value = part.partition("=")
        parts[name.strip().upper()] = value.strip()
    return parts


def _rule_per_day(parts: dict[str, str]) -> float:
    frequency = parts.get("FREQ", "").upper()
    if frequency not in _PER_DAY:
        return 0.0
    per_day = _PER_DAY[frequency] / max(_int(parts.get("INTERVAL"), 1), 1)
    level = _ORDER.index(frequency)
    for name, finer in _EXPANDING.items():
        if name in parts and _ORDER.index(finer) > level:
            per_day *= max(len(parts[name].split(",")), 1) * (5 if name == "BYDAY" else 1)
    return per_day


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def _series_span(series: Any, window: Interval, tz: ZoneInfo) -> Interval | None:
    """Where a series too dense to expand lies in the window: from its start (or the window's)
    to its last UNTIL (or the window's end)."""
    core = series.recurrence.core
    start = max(_instant(core.start, tz), window.start)
    end = window.start
    for rule in core.rrules:
        until = _rule_parts(str(rule)).get("UNTIL")
        if not until:
            end = window.end
            break
        try:
            last = _instant(icalendar.vDDDTypes.from_ical(until), tz)
        except ValueError:
            end = window.end
            break
        end = max(end, min(last + (_instant(core.end, tz) - _instant(core.start, tz)), window.end))
    if end <= start:
        return None
    return Interval(start, end)


# Checks that make warnings of what the library would skip silently --------------------------------


def _check_events(calendar: icalendar.Calendar, tz: tzinfo, warnings: list[str]) -> None:
    """Take out the events the library would choke on or skip silently, saying why; note TZIDs
    that name no zone."""
    known = {str(tz_component.get("TZID")) for tz_component in calendar.walk("VTIMEZONE")}
    unknown: set[str] = set()
    kept = []
    for component in calendar.subcomponents:
        try:
            problem = _problem(component, known, unknown) if component.name == "VEVENT" else None
        except Exception as exc:  # icalendar keeps unparsable values as "broken" properties
            problem = f"has invalid data ({_first_line(exc)})"
        if problem:
            warnings.append(f"event {str(component.get('UID', ''))!r} {problem}: skipped")
        else:
            kept.append(component)
    calendar.subcomponents = kept
    warnings.extend(
        f"unknown time zone {name!r}: its times are read as {tz}" for name in sorted(unknown)
    )


def _problem(event: Any, known: set[str], unknown: set[str]) -> str | None:
    start = event.get("DTSTART")
    if start is None or not isinstance(getattr(start, "dt", None), date):
        return "has no DTSTART"
    for prop in (start, event.get("DTEND")):
        tzid = prop.params.get("TZID") if prop is not None else None
        value = getattr(prop, "dt", None)
        if tzid and tzid not in known and isinstance(value, datetime) and value.tzinfo is None:
            unknown.add(str(tzid))
    end = event.get("DTEND")
    if end is not None:
        if not isinstance(getattr(end, "dt", None), date):
            return "has an unreadable DTEND"
        if _comparable(end.dt) < _comparable(start.dt):
            return "ends before it starts"
    rules = event.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        frequency = rule.get("FREQ")
        if not frequency or str(frequency[0]).upper() not in _PER_DAY:
            return "has an RRULE without a valid FREQ"
    return None


def _comparable(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
