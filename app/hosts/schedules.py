"""A host's schedules, in Cal.com API v2's shape: weekly ``availability`` and dated ``overrides``.

``days`` are Cal.com's day names ("Monday" … "Sunday"; any case). Numbers are accepted as well,
with Cal.com's older numbering 0 = Sunday … 6 = Saturday. Answers always use names.
Times are "HH:MM" wall-clock in the schedule's zone; "24:00" ends a day. An override whose
start and end are both "00:00" closes that date.

Each host has one default schedule, which event types without a schedule of their own use.
Making a schedule the default takes the flag from the previous one. The default schedule cannot
be deleted (make another one the default first); deleting any other schedule moves the event
types that used it back to the default.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings.errors import Conflict, InvalidInput, NotFound
from app.bookings.validation import check_text, check_timezone, parse_day
from app.db.models import EventType, Host, Schedule, ScheduleInterval, ScheduleOverride
from app.db.session import begin_write

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DEFAULT_AVAILABILITY = [{"days": list(DAY_NAMES[:5]), "start_time": "09:00", "end_time": "17:00"}]
MAX_RULES = 100
MAX_OVERRIDES = 500


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
    return [rows[key] for key in sorted(rows)]


def _overrides(items: list[dict[str, Any]]) -> list[ScheduleOverride]:
    if len(items) > MAX_OVERRIDES:
        raise InvalidInput(f"overrides: at most {MAX_OVERRIDES} entries.", "overrides")
    rows = []
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
    return rows


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
        schedule.overrides = _overrides(fields["overrides"] or [])


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
