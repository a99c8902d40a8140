"""Console: availability. Schedules, their weekly hours, date overrides and vacations, which event
types use them, and a preview of the slots they give (rules in app/hosts/schedules.py).

Every form works without JavaScript: the weekly hours are one form with a row per interval;
"Add interval", "Remove" and "Copy" are submit buttons of that form (adding and removing rows
redraws the form as typed, unsaved; copying saves, like "Save hours"). A rejected form is drawn
again as typed, with the problem at the day or field it concerns, and answered 400.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_interval
from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import BookingError, InvalidInput, NotFound
from app.dates import Formats, babel_locale, first_week_day, picker_zones
from app.db.models import EventType, Host, Schedule
from app.hosts import schedules as service
from app.i18n import _
from app.web.console.base import ConsoleController, done, page

SECTION = "availability"
BASE = "/console/availability"
MAX_ROWS = 12  # intervals a day can show in the form
Hours = dict[int, list[tuple[str, str]]]


def _url(schedule_id: int, part: str = "") -> str:
    return f"{BASE}/{schedule_id}{part}"


async def _schedule(db_session: AsyncSession, host: Host, schedule_id: int) -> Schedule:
    """The host's own schedule; anyone else's is not found, as one that does not exist."""
    try:
        return await service.get_schedule(db_session, host.id, schedule_id)
    except NotFound:
        raise NotFoundException() from None


async def _start_over(db_session: AsyncSession, host: Host) -> None:
    """After a refused change: end its transaction and read the host again (a rollback expires
    every object the session holds, and an expired one cannot load itself here)."""
    await db_session.rollback()
    await db_session.refresh(host)


def _day_names(host: Host) -> dict[int, str]:
    locale = babel_locale(host.locale)
    names = locale.days["stand-alone"]["wide"]
    return {day: names[day][:1].upper() + names[day][1:] for day in range(7)}


def _week_order(host: Host) -> list[int]:
    first = first_week_day(babel_locale(host.locale))
    return [(first + n) % 7 for n in range(7)]


def _time_value(minute: int) -> str:
    """What a time field holds: midnight at the end of a day is 00:00."""
    return service.hhmm(minute % (24 * 60))


def _hours_of(schedule: Schedule) -> Hours:
    return {
        day: [(_time_value(s), _time_value(e)) for s, e in spans]
        for day, spans in service.weekly_spans(schedule).items()
    }


def _span_label(fmt: Formats, day: date, start: int, end: int) -> str:
    """``10:00 – 12:00`` in the host's clock (an end at midnight reads as midnight)."""
    midnight = datetime.combine(day, datetime.min.time(), fmt.zone)
    first, last = midnight + timedelta(minutes=start), midnight + timedelta(minutes=end)
    if end < 24 * 60:
        return fmt.times(first, last)
    return f"{fmt.time(first)} \u2013 {fmt.time(last)}"


def _dates_label(fmt: Formats, first: date, last: date) -> str:
    """One date in full, or a range as the locale writes one (``Mon, Dec 14 – Sun, Dec 20, 2026``)."""
    if first == last:
        return fmt.full_date(first)
    return str(format_interval(first, last, "yMMMEd", locale=fmt.locale))


def _override_range(schedule: Schedule, first: str, last: str) -> tuple[date, date]:
    """The dates of an override (or a run of them) named in an address; unknown ones: 404."""
    try:
        start = date.fromisoformat(first)
        end = date.fromisoformat(last) if last else start
    except ValueError:
        raise NotFoundException() from None
    if end < start or not any(start <= o.day <= end for o in schedule.overrides):
        raise NotFoundException()
    return start, end


def _override_runs(
    fmt: Formats, schedule: Schedule, today: date
) -> list[tuple[date, date, str, list[str], bool]]:
    """The overrides for the list: consecutive dates with the same hours (a vacation) as one
    run, each as (first, last, dates, hours, past); no hours is unavailable all day."""
    by_day: dict[date, list[str]] = {}
    for override in schedule.overrides:
        spans = by_day.setdefault(override.day, [])
        if override.start_minute is not None and override.end_minute is not None:
            spans.append(_span_label(fmt, override.day, override.start_minute, override.end_minute))
    runs: list[list[Any]] = []
    for day, spans in sorted(by_day.items()):
        if runs and runs[-1][1] + timedelta(days=1) == day and runs[-1][3] == spans:
            runs[-1][1] = day
        else:
            runs.append([day, day, "", spans])
    return [
        (first, last, _dates_label(fmt, first, last), spans, last < today)
        for first, last, _label, spans in runs
    ]


def _posted_hours(form: FormMultiDict) -> Hours:
    hours: Hours = {}
    for day in range(7):
        try:
            rows = min(max(int(form.get(f"rows-{day}", "0")), 0), MAX_ROWS)
        except ValueError:
            rows = 0
        hours[day] = [
            (str(form.get(f"start-{day}-{i}", "")), str(form.get(f"end-{day}-{i}", "")))
            for i in range(rows)
        ]
    return hours


def _field_message(exc: BookingError) -> str:
    """A schedule's name or zone refused, in the host's words (the service's names API fields)."""
    if exc.field == "timeZone":
        return _("Choose a time zone from the list.")
    if exc.code == "too_long":
        return _("The name is too long: use at most 200 characters.")
    if exc.code == "required":
        return _("Enter a name, such as Working hours.")
    return _("Use one line of plain text.")


def _month_grid(host: Host, month: date) -> list[list[date | None]]:
    first = first_week_day(babel_locale(host.locale))
    weeks = calendar.Calendar(firstweekday=first).monthdatescalendar(month.year, month.month)
    return [[d if d.month == month.month else None for d in week] for week in weeks]


def _parse_month(value: str | None, today: date) -> date:
    try:
        month = datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return today.replace(day=1)
    if abs(month.year - today.year) > 5:
        return today.replace(day=1)
    return month


def _settings_page(
    schedule: Schedule, fields: dict[str, str], *, error: str = "", field: str = ""
) -> Template:
    return page(
        "console/availability/settings.html",
        section=SECTION,
        status_code=400 if error else 200,
        schedule=schedule,
        zones=picker_zones(),
        settings_form=fields,
        settings_error=error,
        settings_field=field,
    )


async def _detail(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    host: Host,
    schedule: Schedule,
    *,
    status_code: int = 200,
    hours: Hours | None = None,
    hour_errors: dict[int, str] | None = None,
    override_form: dict[str, Any] | None = None,
    override_errors: dict[str, str] | None = None,
    unsaved: bool = False,
) -> Template:
    """The schedule's page, drawn from the database or, after a refused form, as it was typed."""
    fmt = Formats.of(host.locale, schedule.timezone)
    today = service.schedule_today(schedule)
    used_by = await service.event_types_by_schedule(db_session, host.id)
    event_types = list(
        (
            await db_session.scalars(
                select(EventType).where(EventType.host_id == host.id).order_by(EventType.title)
            )
        ).all()
    )
    own = used_by.get(schedule.id, [])
    query = request.query_params
    chosen = next((e for e in event_types if e.slug == query.get("event_type")), None)
    chosen = chosen or (own[0] if own else (event_types[0] if event_types else None))
    preview = []
    if chosen is not None:
        for day, slots in await service.preview_slots(db_session, schedule, chosen):
            preview.append((fmt.full_date(day), [fmt.time(s.start) for s in slots]))
    month = _parse_month(query.get("month"), today)
    prev_month = (month - timedelta(days=1)).replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    form = override_form or {"from": query.get("day", ""), "to": "", "kind": "closed"}
    weekday_names = _day_names(host)
    locale = babel_locale(host.locale)
    return page(
        "console/availability/schedule.html",
        section=SECTION,
        status_code=status_code,
        schedule=schedule,
        fmt=fmt,
        today=today,
        day_names=weekday_names,
        short_names=locale.days["stand-alone"]["abbreviated"],
        week=_week_order(host),
        hours=hours if hours is not None else _hours_of(schedule),
        hour_errors=hour_errors or {},
        unsaved=unsaved,
        own=own,
        event_types=event_types,
        chosen=chosen,
        preview=preview,
        overrides=_override_runs(fmt, schedule, today),
        month=month,
        month_label=fmt.month(month),
        grid=_month_grid(host, month),
        marked={o.day for o in schedule.overrides},
        prev_month=prev_month.strftime("%Y-%m"),
        next_month=next_month.strftime("%Y-%m"),
        override_form=form,
        override_errors=override_errors or {},
    )


class AvailabilityController(ConsoleController):
    path = BASE
    section = SECTION

    @get("/", name="console:availability")
    async def index(self, db_session: AsyncSession, host: Host) -> Template:
        return await self._index(db_session, host)

    async def _index(
        self,
        db_session: AsyncSession,
        host: Host,
        *,
        status_code: int = 200,
        form: dict[str, str] | None = None,
        error: str = "",
        error_field: str = "",
    ) -> Template:
        rows = await service.list_schedules(db_session, host.id)
        used_by = await service.event_types_by_schedule(db_session, host.id)
        return page(
            "console/availability/index.html",
            section=SECTION,
            status_code=status_code,
            schedules=rows,
            used_by=used_by,
            zones=picker_zones(),
            form=form or {"name": "", "time_zone": host.timezone},
            error=error,
            error_field=error_field,
        )

    @post("/")
    async def create(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, host: Host
    ) -> Template | Any:
        form = await request.form()
        fields = {"name": str(form.get("name", "")), "time_zone": str(form.get("time_zone", ""))}
        try:
            schedule = await service.create_schedule(db_session, host, fields)
        except InvalidInput as exc:
            await _start_over(db_session, host)
            field = "time_zone" if exc.field == "timeZone" else "name"
            return await self._index(
                db_session,
                host,
                status_code=400,
                form=fields,
                error=_field_message(exc),
                error_field=field,
            )
        message = _("Schedule “%(name)s” created: now set its hours.", name=schedule.name)
        return done(request, message, _url(schedule.id))

    @get("/{schedule_id:int}")
    async def detail(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        host: Host,
        schedule_id: int,
    ) -> Template:
        schedule = await _schedule(db_session, host, schedule_id)
        return await _detail(request, db_session, host, schedule)

    @post("/{schedule_id:int}")
    async def hours(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        host: Host,
        schedule_id: int,
    ) -> Template | Any:
        """The weekly hours form: save, add or remove a row, or copy a day to others."""
        schedule = await _schedule(db_session, host, schedule_id)
        form = await request.form()
        hours = _posted_hours(form)
        action = str(form.get("action", "save"))
        kind, _sep, where = action.partition("-")
        if kind == "add" and where.isdigit() and int(where) in hours:
            day = int(where)
            if len(hours[day]) < MAX_ROWS:
                hours[day].append(("", ""))
            return await _detail(request, db_session, host, schedule, hours=hours, unsaved=True)
        if kind == "remove":
            day_text, _sep, row_text = where.partition("-")
            if day_text.isdigit() and row_text.isdigit() and int(day_text) in hours:
                rows = hours[int(day_text)]
                if int(row_text) < len(rows):
                    del rows[int(row_text)]
            return await _detail(request, db_session, host, schedule, hours=hours, unsaved=True)
        message = _("Weekly hours saved.")
        if kind == "copy" and where.isdigit() and int(where) in hours:
            source = int(where)
            targets = [int(d) for d in form.getall(f"copy-to-{source}", []) if str(d).isdigit()]
            targets = [d for d in targets if 0 <= d <= 6 and d != source]
            if not targets:
                errors = {source: _("Choose the days to copy these hours to.")}
                return await _detail(
                    request,
                    db_session,
                    host,
                    schedule,
                    status_code=400,
                    hours=hours,
                    hour_errors=errors,
                    unsaved=True,
                )
            hours = service.copy_day(hours, source, targets)
            names = _day_names(host)
            message = _(
                "%(day)s’s hours copied to %(days)s and saved.",
                day=names[source],
                days=", ".join(names[d] for d in _week_order(host) if d in targets),
            )
        try:
            await service.set_weekly_hours(db_session, host.id, schedule.id, hours)
        except service.HoursInvalid as exc:
            return await _detail(
                request,
                db_session,
                host,
                schedule,
                status_code=400,
                hours=hours,
                hour_errors=exc.errors,
                unsaved=True,
            )
        return done(request, message, _url(schedule.id))

    @get("/{schedule_id:int}/settings")
    async def settings_page(
        self, db_session: AsyncSession, host: Host, schedule_id: int
    ) -> Template:
        """On a page of its own: the zone list is longer than the rest of a schedule's page."""
        schedule = await _schedule(db_session, host, schedule_id)
        return _settings_page(schedule, {"name": schedule.name, "time_zone": schedule.timezone})

    @post("/{schedule_id:int}/settings")
    async def rename(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        host: Host,
        schedule_id: int,
    ) -> Template | Any:
        schedule = await _schedule(db_session, host, schedule_id)
        form = await request.form()
        fields = {"name": str(form.get("name", "")), "time_zone": str(form.get("time_zone", ""))}
        try:
            await service.update_schedule(db_session, host.id, schedule.id, fields)
        except InvalidInput as exc:
            await _start_over(db_session, host)
            schedule = await _schedule(db_session, host, schedule_id)
            return _settings_page(
                schedule,
                fields,
                error=_field_message(exc),
                field="time_zone" if exc.field == "timeZone" else "name",
            )
        return done(request, _("Schedule name and time zone saved."), _url(schedule.id))

    @post("/{schedule_id:int}/default")
    async def make_default(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        host: Host,
        schedule_id: int,
    ) -> Any:
        schedule = await _schedule(db_session, host, schedule_id)
        await service.update_schedule(db_session, host.id, schedule.id, {"is_default": True})
        message = _(
            "“%(name)s” is now your default schedule: event types without their own use it.",
            name=schedule.name,
        )
        return done(request, message, _url(schedule.id))

    @get("/{schedule_id:int}/delete")
    async def confirm_delete(
        self, db_session: AsyncSession, host: Host, schedule_id: int
    ) -> Template:
        schedule = await _schedule(db_session, host, schedule_id)
        return await self._delete_page(db_session, host, schedule)

    async def _delete_page(
        self,
        db_session: AsyncSession,
        host: Host,
        schedule: Schedule,
        *,
        status_code: int = 200,
        error: str = "",
    ) -> Template:
        used_by = await service.event_types_by_schedule(db_session, host.id)
        return page(
            "console/availability/delete.html",
            section=SECTION,
            status_code=status_code,
            schedule=schedule,
            own=[e for e in used_by.get(schedule.id, []) if e.schedule_id == schedule.id],
            error=error,
        )

    @post("/{schedule_id:int}/delete")
    async def delete(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        host: Host,
        schedule_id: int,
    ) -> Template | Any:
        schedule = await _schedule(db_session, host, schedule_id)
        name = schedule.name
        try:
            await service.delete_schedule(db_session, host.id, schedule.id)
        except BookingError:
            await _start_over(db_session, host)
            schedule = await _schedule(db_session, host, schedule_id)
            error = _(
                "This is your default schedule, so it cannot be deleted: "
                "make another schedule the default first."
            )
            return await self._delete_page(db_session, host, schedule, status_code=400, error=error)
        return done(request, _("Schedule “%(name)s” deleted.", name=name), BASE)

    @post("/{schedule_id:int}/overrides")
    async def add_override(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        host: Host,
        schedule_id: int,
    ) -> Template | Any:
        schedule = await _schedule(db_session, host, schedule_id)
        form = await request.form()
        first_text, last_text = str(form.get("from", "")), str(form.get("to", ""))
        kind = "hours" if form.get("kind") == "hours" else "closed"
        typed = [
            (str(form.get(f"ostart-{i}", "")), str(form.get(f"oend-{i}", ""))) for i in range(2)
        ]
        posted = {"from": first_text, "to": last_text, "kind": kind, "hours": typed}
        hours = typed if kind == "hours" else []
        try:
            if kind == "hours" and not any(a.strip() or b.strip() for a, b in hours):
                raise InvalidInput(_("Enter the hours of that day."), "hours")
            first, last = await service.add_overrides(
                db_session, host.id, schedule.id, first_text, last_text, hours
            )
        except InvalidInput as exc:
            await _start_over(db_session, host)
            schedule = await _schedule(db_session, host, schedule_id)
            return await _detail(
                request,
                db_session,
                host,
                schedule,
                status_code=400,
                override_form=posted,
                override_errors={exc.field or "from": exc.message},
            )
        fmt = Formats.of(host.locale, schedule.timezone)
        if first == last:
            message = _("Override saved for %(date)s.", date=fmt.full_date(first))
        else:
            message = _(
                "Override saved from %(first)s to %(last)s.",
                first=fmt.full_date(first),
                last=fmt.full_date(last),
            )
        return done(request, message, _url(schedule.id) + "#overrides")

    @get("/{schedule_id:int}/overrides/{first:str}/delete")
    async def confirm_delete_override(
        self, db_session: AsyncSession, host: Host, schedule_id: int, first: str, to: str = ""
    ) -> Template:
        schedule = await _schedule(db_session, host, schedule_id)
        start, end = _override_range(schedule, first, to)
        fmt = Formats.of(host.locale, schedule.timezone)
        return page(
            "console/availability/delete_override.html",
            section=SECTION,
            schedule=schedule,
            first=start,
            last=end,
            label=_dates_label(fmt, start, end),
        )

    @post("/{schedule_id:int}/overrides/{first:str}/delete")
    async def delete_override(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        host: Host,
        schedule_id: int,
        first: str,
        to: str = "",
    ) -> Any:
        schedule = await _schedule(db_session, host, schedule_id)
        start, end = _override_range(schedule, first, to)
        await service.delete_overrides(db_session, host.id, schedule.id, start, end)
        fmt = Formats.of(host.locale, schedule.timezone)
        message = _(
            "Override removed: the weekly hours apply again to %(dates)s.",
            dates=_dates_label(fmt, start, end),
        )
        return done(request, message, _url(schedule.id) + "#overrides")

    @get("/{schedule_id:int}/{part:str}")
    async def after_post(self, host: Host, schedule_id: int, part: str) -> Redirect:
        """A form's address opened again (a reload after a refused form): its schedule's page."""
        return Redirect(_url(schedule_id), status_code=303)
