"""Console › Event types: list, create, edit every setting, hide, duplicate, delete; each event
type's page with its public link, embed snippet and the "why not this time?" explainer.

Handlers only read the form and call ``app.hosts.event_types`` (the service ``/v2`` uses): every
rule and every message about a value lives there. A refused value comes back as a 400 with the
form as the host typed it and the message next to its field; nothing is saved.

The question builder works without JavaScript: the form has one row per question, "Add a
question" sends the form back to re-render it with one more empty row (nothing saved), and each
row's "Remove" does the same without that row. With htmx only the questions part is swapped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from babel.units import format_unit
from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings import explain as explainer
from app.bookings.errors import BookingError, NotFound
from app.bookings.locations import DEFAULT_ROOM_SERVICE, LOCATION_TYPES
from app.dates import Formats
from app.db.models import EventType, Host
from app.hosts import event_types as service
from app.hosts.schedules import list_schedules
from app.i18n import _
from app.scheduling.wallclock import zone
from app.settings import Settings
from app.web.console.base import ConsoleController, done, page
from app.web.console.embed import Choice, snippet

SECTION = "event_types"
BASE = "/console/event-types"
# Lead times offered as checkboxes; a value set through the API is kept and shown too.
REMINDER_CHOICES = (10080, 2880, 1440, 120, 60, 30, 15)
# Service field -> form field, so a message lands next to the input it is about.
FORM_FIELDS = {
    "length_in_minutes": "duration",
    "slot_interval": "slot_interval",
    "minimum_booking_notice": "min_notice",
    "before_event_buffer": "buffer_before",
    "after_event_buffer": "buffer_after",
    "max_per_day": "max_per_day",
    "booking_window_days": "booking_window",
    "location_type": "location_type",
    "location": "location_value",
    "phone_mode": "phone_mode",
    "schedule_id": "schedule_id",
}
NUMBERS = {
    "duration": "length_in_minutes",
    "slot_interval": "slot_interval",
    "min_notice": "minimum_booking_notice",
    "buffer_before": "before_event_buffer",
    "buffer_after": "after_event_buffer",
    "max_per_day": "max_per_day",
    "booking_window": "booking_window_days",
}
BLANK_QUESTION = {"key": "", "label": "", "type": "text", "required": False, "options": ""}


@dataclass
class EventTypeForm:
    """What the edit form shows: the values (as typed, or from the row) and any errors."""

    values: dict[str, Any]
    questions: list[dict[str, Any]]
    reminders: list[int]
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    # Form row of each question sent to the service, so "questions.1.label" finds its row.
    rows: list[int] = field(default_factory=list)


def form_from_row(event_type: EventType | None) -> EventTypeForm:
    if event_type is None:
        values: dict[str, Any] = {
            "title": "",
            "slug": "",
            "description": "",
            "duration": 30,
            "slot_interval": "",
            "min_notice": 0,
            "buffer_before": 0,
            "buffer_after": 0,
            "booking_window": 60,
            "max_per_day": "",
            "requires_approval": False,
            "hidden": False,
            "disable_guests": False,
            "location_type": "",
            "location_value": "",
            "phone_mode": "hidden",
            "schedule_id": "",
        }
        return EventTypeForm(values, [], [1440, 60])
    et = event_type
    values = {
        "title": et.title,
        "slug": et.slug,
        "description": et.description,
        "duration": et.duration_minutes,
        "slot_interval": et.slot_interval_minutes or "",
        "min_notice": et.min_notice_minutes,
        "buffer_before": et.buffer_before_minutes,
        "buffer_after": et.buffer_after_minutes,
        "booking_window": et.booking_window_days or "",
        "max_per_day": et.max_per_day or "",
        "requires_approval": et.requires_approval,
        "hidden": et.hidden,
        "disable_guests": et.disable_guests,
        "location_type": et.location_type if et.location_type in LOCATION_TYPES else "",
        "location_value": et.location_value,
        "phone_mode": et.phone_mode,
        "schedule_id": et.schedule_id or "",
    }
    questions = [
        {
            "key": q.get("key", ""),
            "label": q.get("label", ""),
            "type": q.get("type", "text"),
            "required": bool(q.get("required")),
            "options": "\n".join(q.get("options") or []),
        }
        for q in et.questions
    ]
    return EventTypeForm(values, questions, [int(m) for m in et.reminder_minutes or []])


def form_from_post(data: FormMultiDict) -> EventTypeForm:
    """The form as the host sent it (kept as typed, to show again if something is refused)."""
    text = {name: str(data.get(name, "") or "") for name in (*NUMBERS, "title", "slug")}
    values: dict[str, Any] = {
        **text,
        "description": str(data.get("description", "") or ""),
        "requires_approval": bool(data.get("requires_approval")),
        "hidden": bool(data.get("hidden")),
        "disable_guests": bool(data.get("disable_guests")),
        "location_type": str(data.get("location_type", "") or ""),
        "location_value": str(data.get("location_value", "") or ""),
        "phone_mode": str(data.get("phone_mode", "hidden") or "hidden"),
        "schedule_id": str(data.get("schedule_id", "") or ""),
    }
    try:
        count = min(int(str(data.get("question_rows", "0"))), service.MAX_FIELDS + 1)
    except ValueError:
        count = 0
    questions = [
        {
            "key": str(data.get(f"q-{i}-key", "") or ""),
            "label": str(data.get(f"q-{i}-label", "") or ""),
            "type": str(data.get(f"q-{i}-type", "text") or "text"),
            "required": bool(data.get(f"q-{i}-required")),
            "options": str(data.get(f"q-{i}-options", "") or ""),
        }
        for i in range(max(count, 0))
    ]
    reminders = []
    for item in data.getall("reminders", []):
        try:
            reminders.append(int(str(item)))
        except ValueError:
            continue
    return EventTypeForm(values, questions, reminders)


def service_changes(form: EventTypeForm) -> dict[str, Any]:
    """The form in the service's vocabulary; a number that is not one is an error here (the
    service checks ranges). Question rows left without a label are dropped."""
    values = form.values
    changes: dict[str, Any] = {
        "title": values["title"],
        "slug": values["slug"],
        "description": values["description"],
        "requires_confirmation": values["requires_approval"],
        "hidden": values["hidden"],
        "disable_guests": values["disable_guests"],
        "location": (values["location_type"], values["location_value"]),
        "phone_mode": values["phone_mode"],
        "reminder_minutes": form.reminders,
    }
    for name, target in NUMBERS.items():
        raw = str(values[name]).strip()
        if not raw:
            changes[target] = None
        elif raw.isdigit() and len(raw) < 10:
            changes[target] = int(raw)
        else:
            form.errors[name] = _("Enter a whole number, such as 15.")
    schedule = values["schedule_id"]
    if schedule and not str(schedule).isdigit():
        form.errors["schedule_id"] = _("Choose one of your schedules.")
    changes["schedule_id"] = int(schedule) if str(schedule).isdigit() else None
    questions = []
    form.rows = []
    for row, q in enumerate(form.questions):
        if not q["label"].strip() and not q["options"].strip():
            continue
        questions.append(
            {
                "key": q["key"],
                "label": q["label"],
                "type": q["type"],
                "required": q["required"],
                "options": [line for line in q["options"].splitlines() if line.strip()],
            }
        )
        form.rows.append(row)
    changes["questions"] = questions
    return changes


def place_error(form: EventTypeForm, exc: BookingError) -> None:
    """Put the service's message next to the field it names (or above the form)."""
    name = exc.field or ""
    if name.startswith("questions."):
        parts = name.split(".")
        if len(parts) >= 3 and parts[1].isdigit() and int(parts[1]) < len(form.rows):
            form.errors[f"q-{form.rows[int(parts[1])]}-{parts[2]}"] = exc.message
            return
    target = FORM_FIELDS.get(name, name)
    if target in form.values:
        form.errors[target] = exc.message
    else:
        form.general.append(exc.message)


def lead_time(fmt: Formats, minutes: int) -> str:
    """``2 days`` rather than ``48 hours`` for whole days (CLDR unit names)."""
    if minutes >= 1440 and minutes % 1440 == 0:
        return format_unit(minutes // 1440, "duration-day", length="long", locale=fmt.locale)
    return fmt.duration(minutes)


def public_link(settings: Settings, host: Host, event_type: EventType) -> str:
    return f"{settings.public_url.rstrip('/')}/{host.slug}/{event_type.slug}"


def embed_snippet(settings: Settings, host: Host, event_type: EventType) -> str:
    """The embed builder's inline snippet for this event type (README, "Embed it"), as text."""
    return str(snippet(settings, host, Choice(target=event_type.slug)))


class EventTypesController(ConsoleController):
    path = BASE
    section = SECTION

    async def _form_page(
        self,
        db_session: AsyncSession,
        host: Host,
        form: EventTypeForm,
        event_type: EventType | None,
        status_code: int = 200,
    ) -> Template:
        schedules = await list_schedules(db_session, host.id)
        fmt = Formats.of(host.locale, host.timezone)
        reminder_choices = sorted(set(REMINDER_CHOICES) | set(form.reminders), reverse=True)
        return page(
            "console/event_types/form.html",
            section=SECTION,
            status_code=status_code,
            form=form,
            event_type=event_type,
            schedules=schedules,
            reminder_choices=[(m, lead_time(fmt, m)) for m in reminder_choices],
            question_types=[
                ("text", _("Short text")),
                ("textarea", _("Long text")),
                ("select", _("Choice from a list")),
                ("checkbox", _("Checkbox (yes or no)")),
            ],
            location_types=[
                ("", _("No location (you tell the guest yourself)")),
                ("in_person", _("In person, at an address")),
                ("phone", _("Phone call: you call the guest")),
                ("link", _("Video call on your own fixed link")),
                ("meeting_room", _("Video call: a private room per booking")),
            ],
            room_service=DEFAULT_ROOM_SERVICE,
            action=f"{BASE}/{event_type.id}/edit" if event_type else f"{BASE}/new",
        )

    @get("/", name="console:event-types")
    async def list_page(self, host: Host, db_session: AsyncSession, settings: Settings) -> Template:
        rows = await service.list_event_types(db_session, host.id)
        fmt = Formats.of(host.locale, host.timezone)
        return page(
            "console/event_types/list.html",
            section=SECTION,
            rows=[
                {
                    "row": row,
                    "duration": fmt.duration(row.duration_minutes),
                    "link": public_link(settings, host, row),
                }
                for row in rows
            ],
            booking_page=f"{settings.public_url.rstrip('/')}/{host.slug}",
        )

    @get("/new")
    async def new_page(self, host: Host, db_session: AsyncSession) -> Template:
        return await self._form_page(db_session, host, form_from_row(None), None)

    @post("/new")
    async def create(
        self, request: Request[Any, Any, Any], host: Host, db_session: AsyncSession
    ) -> Template | Any:
        data = await request.form()
        form = form_from_post(data)
        if _rebuild(form, str(data.get("action", "save"))):
            return await self._form_page(db_session, host, form, None)
        changes = service_changes(form)
        if form.errors:
            return await self._form_page(db_session, host, form, None, 400)
        try:
            row = await service.create_event_type(db_session, host, changes)
        except BookingError as exc:
            await db_session.refresh(host)
            place_error(form, exc)
            return await self._form_page(db_session, host, form, None, 400)
        return done(request, _("Event type created."), f"{BASE}/{row.id}")

    @get("/{event_type_id:int}")
    async def show(
        self,
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
        event_type_id: int,
        day: str | None = None,
        at: str | None = None,
    ) -> Template:
        event_type = await service.get_event_type(db_session, host.id, event_type_id)
        context = await _overview(db_session, host, settings, event_type)
        status = 200
        if day is not None or at is not None:
            verdict = await _why_not(db_session, host, event_type, day or "", at or "")
            context["why"] = verdict
            status = 400 if verdict.get("error") else 200
        return page("console/event_types/show.html", section=SECTION, status_code=status, **context)

    @get("/{event_type_id:int}/edit")
    async def edit_page(self, host: Host, db_session: AsyncSession, event_type_id: int) -> Template:
        event_type = await service.get_event_type(db_session, host.id, event_type_id)
        return await self._form_page(db_session, host, form_from_row(event_type), event_type)

    @post("/{event_type_id:int}/edit")
    async def update(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        event_type_id: int,
    ) -> Template | Any:
        event_type = await service.get_event_type(db_session, host.id, event_type_id)
        data = await request.form()
        form = form_from_post(data)
        if _rebuild(form, str(data.get("action", "save"))):
            return await self._form_page(db_session, host, form, event_type)
        changes = service_changes(form)
        if form.errors:
            return await self._form_page(db_session, host, form, event_type, 400)
        try:
            await service.update_event_type(db_session, host.id, event_type_id, changes)
        except BookingError as exc:
            await db_session.refresh(host)
            event_type = await service.get_event_type(db_session, host.id, event_type_id)
            place_error(form, exc)
            return await self._form_page(db_session, host, form, event_type, 400)
        return done(request, _("Changes saved."), f"{BASE}/{event_type_id}")

    @post("/{event_type_id:int}/visibility")
    async def visibility(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        event_type_id: int,
    ) -> Any:
        return await _switch(
            request,
            db_session,
            host,
            event_type_id,
            "hidden",
            on=_("Hidden: it is no longer listed on your booking page; its link still works."),
            off=_("Shown on your booking page again."),
        )

    @post("/{event_type_id:int}/bookable")
    async def bookable(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        event_type_id: int,
    ) -> Any:
        return await _switch(
            request,
            db_session,
            host,
            event_type_id,
            "disabled",
            on=_(
                "Disabled: it takes no bookings until you enable it again; every setting is kept."
            ),
            off=_("Enabled: guests can book it again."),
        )

    @post("/{event_type_id:int}/duplicate")
    async def duplicate(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        event_type_id: int,
    ) -> Any:
        copy = await service.duplicate_event_type(db_session, host.id, event_type_id)
        return done(
            request,
            _("Copy made. It is hidden until you show it."),
            f"{BASE}/{copy.id}/edit",
        )

    @get("/{event_type_id:int}/delete")
    async def delete_page(
        self, host: Host, db_session: AsyncSession, event_type_id: int
    ) -> Template:
        event_type = await service.get_event_type(db_session, host.id, event_type_id)
        return page("console/event_types/delete.html", section=SECTION, event_type=event_type)

    @post("/{event_type_id:int}/delete")
    async def delete(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        event_type_id: int,
    ) -> Template | Redirect | Any:
        event_type = await service.get_event_type(db_session, host.id, event_type_id)
        title = event_type.title
        try:
            await service.delete_event_type(db_session, host.id, event_type_id)
        except BookingError as exc:
            if isinstance(exc, NotFound):
                raise
            await db_session.rollback()
            await db_session.refresh(host)
            event_type = await service.get_event_type(db_session, host.id, event_type_id)
            return page(
                "console/event_types/delete.html",
                section=SECTION,
                event_type=event_type,
                error=_("It has upcoming bookings: cancel or move them first, then delete it."),
                status_code=409,
            )
        return done(request, _("“%(title)s” is deleted.", title=title), BASE)


async def _switch(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    host: Host,
    event_type_id: int,
    name: str,
    *,
    on: str,
    off: str,
) -> Any:
    """Turn the event type's ``name`` switch (hidden, disabled) to what the form says."""
    value = (await request.form()).get(name) == "1"
    await service.update_event_type(db_session, host.id, event_type_id, {name: value})
    return done(request, on if value else off, _back(request, f"{BASE}/{event_type_id}"))


def _rebuild(form: EventTypeForm, action: str) -> bool:
    """ "Add a question" / "Remove" change the rows and show the form again (nothing saved)."""
    if action == "add_question":
        if len(form.questions) < service.MAX_FIELDS:
            form.questions.append(dict(BLANK_QUESTION))
        return True
    if action.startswith("remove_question:"):
        index = action.partition(":")[2]
        if index.isdigit() and int(index) < len(form.questions):
            del form.questions[int(index)]
        return True
    return False


def _back(request: Request[Any, Any, Any], fallback: str) -> str:
    """The list or the event type's page, whichever the button was on."""
    return BASE if request.query_params.get("from") == "list" else fallback


async def _overview(
    db_session: AsyncSession, host: Host, settings: Settings, event_type: EventType
) -> dict[str, Any]:
    fmt = Formats.of(host.locale, host.timezone)
    schedules = {s.id: s for s in await list_schedules(db_session, host.id)}
    schedule = schedules.get(event_type.schedule_id or 0) or next(
        (s for s in schedules.values() if s.is_default), None
    )
    now = datetime.now(zone(host.timezone))
    return {
        "event_type": event_type,
        "fmt": fmt,
        "link": public_link(settings, host, event_type),
        "snippet": embed_snippet(settings, host, event_type),
        "schedule": schedule,
        "zone_name": fmt.zone_name(),
        "window": lead_time(fmt, (event_type.booking_window_days or 0) * 1440),
        "why": None,
        "why_day": now.date().isoformat(),
        "why_at": "10:00",
    }


async def _why_not(
    db_session: AsyncSession, host: Host, event_type: EventType, day: str, at: str
) -> dict[str, Any]:
    """The explainer's verdict on a date and time in the host's zone."""
    result: dict[str, Any] = {"day": day, "at": at}
    try:
        when_day = date.fromisoformat(day.strip())
        when_time = time.fromisoformat(at.strip())
    except ValueError:
        result["error"] = _("Enter a date and a time, such as 2026-03-16 and 14:30.")
        return result
    if not 1900 <= when_day.year <= 9000:
        result["error"] = _("Enter a date and a time, such as 2026-03-16 and 14:30.")
        return result
    local = datetime.combine(when_day, when_time, tzinfo=zone(host.timezone))
    start = local.astimezone(zone("UTC"))
    fmt = Formats.of(host.locale, host.timezone)
    reasons = await explainer.explain_slot(db_session, host.slug, event_type.slug, start)
    result["when"] = f"{fmt.full_date(start)}, {fmt.time(start)}"
    result["reasons"] = [explainer.describe(r, host.timezone, host.locale) for r in reasons]
    result["bookable"] = not reasons
    return result
