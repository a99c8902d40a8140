"""A host's schedules, in Cal.com API v2's shape: weekly ``availability`` and dated ``overrides``.

``days`` are Cal.com's day names ("Monday" … "Sunday"; any case). Numbers are accepted as well,
with Cal.com's older numbering 0 = Sunday … 6 = Saturday. Answers always use names.
Times are "HH:MM" wall-clock in the schedule's zone; "24:00" ends a day. An override whose
start and end are both "00:00" closes that date.

Each host has one default schedule, which event types without a schedule of their own use.
Making a schedule the default takes the flag from the previous one. The default schedule cannot
be deleted (make another one the default first); deleting any other schedule moves the event
types that used it back to the default.

The hours of one day never overlap (touching is fine: 10:00-12:00 and 12:00-14:00), and a date
override is never added for a date already past in the schedule's zone. The console edits a
schedule a piece at a time (``set_weekly_hours``, ``add_overrides``, ``delete_override``) with
the same rules, and says what is wrong in the host's language, at the day it concerns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings.availability import load_availability, load_held, slot_rules
from app.bookings.errors import Conflict, InvalidInput, NotFound
from app.bookings.validation import check_text, check_timezone, parse_day
from app.db.models import EventType, Host, Schedule, ScheduleInterval, ScheduleOverride
from app.db.session import begin_write
from app.i18n import _
from app.scheduling import Interval, free_slots, group_by_date, local_day_window

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DEFAULT_AVAILABILITY = [{"days": list(DAY_NAMES[:5]), "start_time": "09:00", "end_time": "17:00"}]
MAX_RULES = 100
MAX_OVERRIDES = 500
MAX_RANGE_DAYS = 366
Span = tuple[int, int]


def minutes(value: Any, where: str, *, end: bool = False) -> int:
    """ "HH:MM" -> minutes after midnight; "24:00" only as an end."""
    if end and value == "24:00":
        return 24 * 60
    match = TIME_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(f"{where} must be a time like 09:00 (24-hour clock).", where)
    return int(match[1]) * 60 + int(match[2])


def hhmm(value: int) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


def weekday(value: Any, where: str) -> int:
    """A day name, or Cal.com's number (0 = Sunday), -> our weekday (0 = Monday)."""
    if isinstance(value, bool):
        raise InvalidInput(f"{where} must be a day name such as Monday.", where)
    if isinstance(value, int) and 0 <= value <= 6:
        return (value - 1) % 7
    if isinstance(value, str):
        for index, name in enumerate(DAY_NAMES):
            if value.strip().lower() == name.lower():
                return index
    raise InvalidInput(f"{where} must be a day name such as Monday.", where)


def _intervals(rules: list[dict[str, Any]]) -> list[ScheduleInterval]:
    if len(rules) > MAX_RULES:
        raise InvalidInput(f"availability: at most {MAX_RULES} entries.", "availability")
    rows: dict[tuple[int, int, int], ScheduleInterval] = {}
    for index, rule in enumerate(rules):
        where = f"availability[{index}]"
        start = minutes(rule.get("start_time"), f"{where}.startTime")
        end = minutes(rule.get("end_time"), f"{where}.endTime", end=True)
        if end <= start:
            raise InvalidInput(f"{where}.endTime must be after startTime.", where)
        days = rule.get("days") or []
        if not days:
            raise InvalidInput(f"{where}.days must name at least one day.", where)
        for day in days:
            key = (weekday(day, f"{where}.days"), start, end)
            rows[key] = ScheduleInterval(weekday=key[0], start_minute=start, end_minute=end)
    for day in range(7):
        clash = first_overlap([(s, e) for d, s, e in rows if d == day])
        if clash:
            raise InvalidInput(
                f"availability: {span_text(clash[0])} and {span_text(clash[1])} overlap "
                f"on {DAY_NAMES[day]}.",
                "availability",
            )
    return [rows[key] for key in sorted(rows)]


def _overrides(
    items: list[dict[str, Any]], today: date, known: Iterable[date] = ()
) -> list[ScheduleOverride]:
    """``today``: the date in the schedule's zone; dates before it are refused unless ``known``
    (already overridden: a client writing back what it read keeps them)."""
    if len(items) > MAX_OVERRIDES:
        raise InvalidInput(f"overrides: at most {MAX_OVERRIDES} entries.", "overrides")
    kept = set(known)
    rows: list[ScheduleOverride] = []
    for index, item in enumerate(items):
        where = f"overrides[{index}]"
        day = parse_day(item.get("date"), f"{where}.date")
        start = minutes(item.get("start_time"), f"{where}.startTime")
        end = minutes(item.get("end_time"), f"{where}.endTime", end=True)
        if start == end == 0:
            rows.append(ScheduleOverride(day=day, start_minute=None, end_minute=None))
        elif end <= start:
            raise InvalidInput(f"{where}.endTime must be after startTime.", where)
        else:
            rows.append(ScheduleOverride(day=day, start_minute=start, end_minute=end))
        if day < today and day not in kept:
            raise InvalidInput(f"{where}.date {day.isoformat()} is in the past.", f"{where}.date")
    for day in {row.day for row in rows}:
        spans = [(r.start_minute, r.end_minute) for r in rows if r.day == day and r.end_minute]
        clash = first_overlap([(a or 0, b or 0) for a, b in spans])
        if clash:
            raise InvalidInput(
                f"overrides: {span_text(clash[0])} and {span_text(clash[1])} overlap "
                f"on {day.isoformat()}.",
                "overrides",
            )
    return rows


def first_overlap(spans: Iterable[Span]) -> tuple[Span, Span] | None:
    """Two of ``spans`` (minutes, half-open) that overlap, or None; touching ones do not."""
    ordered = sorted(spans)
    for earlier, later in pairwise(ordered):
        if later[0] < earlier[1]:
            return earlier, later
    return None


def span_text(span: Span) -> str:
    return f"{hhmm(span[0])}\u2013{hhmm(span[1])}"


def schedule_today(schedule: Schedule) -> date:
    """Today's date where the schedule's hours are kept."""
    return clock.utcnow().astimezone(ZoneInfo(schedule.timezone)).date()


def availability_out(schedule: Schedule) -> list[dict[str, Any]]:
    """Weekly intervals grouped Cal.com's way: one entry per (start, end) with its days."""
    by_hours: dict[tuple[int, int], list[int]] = {}
    for interval in schedule.intervals:
        days = by_hours.setdefault((interval.start_minute, interval.end_minute), [])
        days.append(interval.weekday)
    return [
        {
            "days": [DAY_NAMES[d] for d in sorted(set(days))],
            "start_time": hhmm(start),
            "end_time": hhmm(end),
        }
        for (start, end), days in sorted(by_hours.items())
    ]


def overrides_out(schedule: Schedule) -> list[dict[str, str]]:
    return [
        {
            "date": o.day.isoformat(),
            "start_time": hhmm(o.start_minute or 0),
            "end_time": hhmm(o.end_minute or 0),
        }
        for o in schedule.overrides
    ]


async def _load(session: AsyncSession, schedule: Schedule) -> Schedule:
    await session.refresh(schedule, ["intervals", "overrides"])
    return schedule


async def list_schedules(session: AsyncSession, host_id: int) -> list[Schedule]:
    query = select(Schedule).where(Schedule.host_id == host_id).order_by(Schedule.id)
    return [await _load(session, s) for s in (await session.scalars(query)).all()]


async def get_schedule(session: AsyncSession, host_id: int, schedule_id: int) -> Schedule:
    schedule = await session.get(Schedule, schedule_id)
    if schedule is None or schedule.host_id != host_id:
        raise NotFound(f"Schedule {schedule_id} not found.")
    return await _load(session, schedule)


async def default_schedule(session: AsyncSession, host_id: int) -> Schedule:
    query = select(Schedule).where(Schedule.host_id == host_id, Schedule.is_default.is_(True))
    schedule = (await session.scalars(query.order_by(Schedule.id))).first()
    if schedule is None:
        raise NotFound("This host has no default schedule.")
    return await _load(session, schedule)


async def _make_default(session: AsyncSession, schedule: Schedule) -> None:
    await session.execute(
        update(Schedule)
        .where(Schedule.host_id == schedule.host_id, Schedule.id != schedule.id)
        .values(is_default=False)
    )
    schedule.is_default = True


def _apply(schedule: Schedule, fields: dict[str, Any]) -> None:
    if "name" in fields:
        schedule.name = check_text(fields["name"], "name", required=True, max_length=200)
    if "time_zone" in fields:
        schedule.timezone = check_timezone(fields["time_zone"], "timeZone")
    if "availability" in fields:
        schedule.intervals = _intervals(fields["availability"] or [])
    if "overrides" in fields:
        known = [o.day for o in schedule.overrides]
        schedule.overrides = _overrides(fields["overrides"] or [], schedule_today(schedule), known)


async def create_schedule(session: AsyncSession, host: Host, fields: dict[str, Any]) -> Schedule:
    """A new schedule; Monday to Friday 09:00-17:00 unless ``availability`` says otherwise."""
    await begin_write(session)
    schedule = Schedule(host_id=host.id, name="", timezone=host.timezone, is_default=False)
    schedule.intervals = []
    schedule.overrides = []
    _apply(schedule, {"availability": DEFAULT_AVAILABILITY, **fields})
    session.add(schedule)
    await session.flush()
    has_default = await session.scalar(
        select(Schedule.id).where(
            Schedule.host_id == host.id, Schedule.is_default.is_(True), Schedule.id != schedule.id
        )
    )
    if fields.get("is_default") or has_default is None:
        await _make_default(session, schedule)
    await session.commit()
    return await _load(session, schedule)


async def update_schedule(
    session: AsyncSession, host_id: int, schedule_id: int, changes: dict[str, Any]
) -> Schedule:
    await begin_write(session)
    schedule = await get_schedule(session, host_id, schedule_id)
    _apply(schedule, changes)
    if changes.get("is_default") is True:
        await _make_default(session, schedule)
    elif changes.get("is_default") is False and schedule.is_default:
        raise Conflict("A host needs a default schedule: make another schedule the default.")
    schedule.updated_at = clock.utcnow()
    await session.commit()
    return await _load(session, schedule)


async def delete_schedule(session: AsyncSession, host_id: int, schedule_id: int) -> None:
    await begin_write(session)
    schedule = await get_schedule(session, host_id, schedule_id)
    if schedule.is_default:
        raise Conflict("The default schedule cannot be deleted: make another one the default.")
    await session.execute(
        update(EventType).where(EventType.schedule_id == schedule.id).values(schedule_id=None)
    )
    await session.delete(schedule)
    await session.commit()


# Editing a piece at a time (the console) --------------------------------------------------------


class HoursInvalid(InvalidInput):
    """Weekly hours with problems on one or more days: ``errors`` maps a weekday (0 = Monday) to
    what is wrong there, in the reader's language; nothing was saved."""

    def __init__(self, errors: dict[int, str]) -> None:
        first = min(errors)
        super().__init__(errors[first], f"weekday-{first}")
        self.errors = errors


def _time(value: str, *, end: bool) -> int | None:
    """Minutes after midnight of "HH:MM" (a time field's value), None if malformed. As an end,
    "00:00" and "24:00" are midnight at the end of the day."""
    if end and value in ("00:00", "24:00"):
        return 24 * 60
    match = TIME_RE.match(value)
    return int(match[1]) * 60 + int(match[2]) if match else None


def day_spans(pairs: Sequence[tuple[str, str]]) -> list[Span]:
    """One day's hours from (start, end) texts: sorted minutes, rows with both texts empty
    skipped. Raises InvalidInput (translated) for a half-filled row, a malformed time, an end
    not after its start, or two intervals that overlap."""
    spans: list[Span] = []
    for start_text, end_text in pairs:
        first, last = start_text.strip(), end_text.strip()
        if not first and not last:
            continue
        if not first or not last:
            raise InvalidInput(_("Enter both a start and an end time, or leave both empty."))
        start, end = _time(first, end=False), _time(last, end=True)
        if start is None or end is None:
            raise InvalidInput(_("Enter times like 09:00 (24-hour clock)."))
        if end <= start:
            raise InvalidInput(
                _(
                    "%(start)s\u2013%(end)s ends before it starts: the end must be after the start.",
                    start=first,
                    end=last,
                )
            )
        spans.append((start, end))
    clash = first_overlap(spans)
    if clash:
        raise InvalidInput(
            _(
                "%(first)s and %(second)s overlap: change one, or make them one interval.",
                first=span_text(clash[0]),
                second=span_text(clash[1]),
            )
        )
    return sorted(spans)


def weekly_spans(schedule: Schedule) -> dict[int, list[Span]]:
    """The schedule's weekly hours by weekday (0 = Monday), every day present."""
    days: dict[int, list[Span]] = {day: [] for day in range(7)}
    for interval in schedule.intervals:
        days[interval.weekday].append((interval.start_minute, interval.end_minute))
    return days


def copy_day(
    hours: Mapping[int, Sequence[tuple[str, str]]], source: int, targets: Iterable[int]
) -> dict[int, list[tuple[str, str]]]:
    """``hours`` with the intervals of weekday ``source`` copied over those of ``targets``."""
    copied = {day: list(pairs) for day, pairs in hours.items()}
    for day in targets:
        if 0 <= day <= 6 and day != source:
            copied[day] = list(hours.get(source, []))
    return copied


async def set_weekly_hours(
    session: AsyncSession,
    host_id: int,
    schedule_id: int,
    hours: Mapping[int, Sequence[tuple[str, str]]],
) -> Schedule:
    """Replace the weekly hours with ``hours``: weekday (0 = Monday) -> (start, end) texts, as a
    time field sends them; a day without intervals is closed. All days are checked before
    anything is written: ``HoursInvalid`` names every day that is wrong."""
    errors: dict[int, str] = {}
    rows: list[ScheduleInterval] = []
    for day in range(7):
        try:
            spans = day_spans(hours.get(day, []))
        except InvalidInput as exc:
            errors[day] = exc.message
            continue
        rows += [ScheduleInterval(weekday=day, start_minute=s, end_minute=e) for s, e in spans]
    if errors:
        raise HoursInvalid(errors)
    await begin_write(session)
    try:
        schedule = await get_schedule(session, host_id, schedule_id)
    except BaseException:
        await session.rollback()
        raise
    schedule.intervals = rows
    schedule.updated_at = clock.utcnow()
    await session.commit()
    return await _load(session, schedule)


def _form_day(value: str, field: str) -> date:
    try:
        return parse_day(value, field)
    except InvalidInput:
        raise InvalidInput(_("Choose a date."), field) from None


async def add_overrides(
    session: AsyncSession,
    host_id: int,
    schedule_id: int,
    first: str,
    last: str = "",
    hours: Sequence[tuple[str, str]] = (),
) -> tuple[date, date]:
    """Dates ``first``..``last`` (YYYY-MM-DD; ``last`` empty: one date) get ``hours`` instead of
    their weekly ones, or are unavailable all day when ``hours`` holds none (a vacation).
    Overrides those dates had are replaced. Dates before today in the schedule's zone are
    refused. Answers the dates covered. Errors name the field: ``from``, ``to`` or ``hours``."""
    start = _form_day(first, "from")
    end = _form_day(last, "to") if last.strip() else start
    if end < start:
        raise InvalidInput(_("The last day must not be before the first day."), "to")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(
            _("A range can be at most %(count)d days long.", count=MAX_RANGE_DAYS), "to"
        )
    try:
        spans = day_spans(hours)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, "hours") from None
    await begin_write(session)
    try:
        schedule = await get_schedule(session, host_id, schedule_id)
        if start < schedule_today(schedule):
            raise InvalidInput(_("That date is in the past: choose today or a later date."), "from")
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        kept = [o for o in schedule.overrides if not start <= o.day <= end]
        added = [
            ScheduleOverride(day=day, start_minute=s, end_minute=e)
            for day in days
            for s, e in spans
        ] or [ScheduleOverride(day=day, start_minute=None, end_minute=None) for day in days]
        if len(kept) + len(added) > MAX_OVERRIDES:
            raise InvalidInput(
                _("A schedule can hold at most %(count)d date overrides.", count=MAX_OVERRIDES),
                "to",
            )
    except BaseException:
        await session.rollback()
        raise
    schedule.overrides = kept + added
    schedule.updated_at = clock.utcnow()
    await session.commit()
    return start, end


async def delete_overrides(
    session: AsyncSession, host_id: int, schedule_id: int, first: date, last: date | None = None
) -> None:
    """Remove the overrides of ``first``..``last`` (one date without ``last``): the weekly
    hours apply to those dates again. NotFound if there is none there."""
    last = last or first
    await begin_write(session)
    try:
        schedule = await get_schedule(session, host_id, schedule_id)
        if not any(first <= o.day <= last for o in schedule.overrides):
            raise NotFound(f"No override from {first.isoformat()} to {last.isoformat()}.")
    except BaseException:
        await session.rollback()
        raise
    schedule.overrides = [o for o in schedule.overrides if not first <= o.day <= last]
    schedule.updated_at = clock.utcnow()
    await session.commit()


async def event_types_by_schedule(
    session: AsyncSession, host_id: int
) -> dict[int, list[EventType]]:
    """Which event types use which schedule: those without their own count for the default."""
    default = await session.scalar(
        select(Schedule.id)
        .where(Schedule.host_id == host_id)
        .order_by(Schedule.is_default.desc(), Schedule.id)
        .limit(1)
    )
    query = select(EventType).where(EventType.host_id == host_id).order_by(EventType.title)
    used: dict[int, list[EventType]] = {}
    for event_type in (await session.scalars(query)).all():
        schedule_id = event_type.schedule_id or default
        if schedule_id is not None:
            used.setdefault(schedule_id, []).append(event_type)
    return used


@dataclass(frozen=True)
class _Using:
    """What the availability reader needs to know of an event type: which schedule it reads."""

    schedule_id: int
    host_id: int


async def preview_slots(
    session: AsyncSession, schedule: Schedule, event_type: EventType, days: int = 7
) -> list[tuple[date, list[Interval]]]:
    """The slots ``event_type`` would offer over the next ``days`` dates (from today in the
    schedule's zone, grouped by its dates) if it used ``schedule``: the booking page's own
    computation (bookings, calendar busy times, notice, window, limits), with these hours."""
    today = schedule_today(schedule)
    window = local_day_window(today, today + timedelta(days=days - 1), schedule.timezone)
    using = cast(EventType, _Using(schedule.id, schedule.host_id))
    availability = await load_availability(session, using, schedule.timezone)
    busy, starts = await load_held(session, event_type, window.start, window.end)
    slots = free_slots(availability, slot_rules(event_type), window, clock.utcnow(), busy, starts)
    by_day = dict(group_by_date(slots, schedule.timezone))
    return [(day, by_day.get(day, [])) for day in (today + timedelta(n) for n in range(days))]
