"""A host's event types, in the vocabulary of Cal.com's API v2 (seeds 003, 004).

Callers pass fields by their Cal.com names in snake case (``length_in_minutes``,
``minimum_booking_notice``, …); this module checks what types alone cannot (slugs, locations,
booking fields, the schedule belongs to the host) and maps them onto the ``EventType`` row.

``bookingWindow`` follows Cal.com: ``{"type": "calendarDays", "value": N}`` lets guests book up to
N days ahead, ``{"disabled": true}`` removes the limit. Other window types are refused.

Deleting an event type that has bookings keeps its row (inactive, slug freed) so the bookings keep
their history; one with upcoming held bookings cannot be deleted until they are cancelled.

The console passes a few fields in this server's own vocabulary as well (``questions``,
``phone_mode``, ``location``, ``booking_window_days``, ``reminder_minutes``): the same checks
apply, with messages in the host's words. A change is all or nothing: when one field is refused,
nothing of the request is kept.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import clock
from app.bookings import locations
from app.bookings.errors import BookingError, Conflict, InvalidInput, NotFound
from app.bookings.validation import check_text
from app.db.models import HELD_STATUSES, Booking, EventType, Host, Schedule
from app.db.session import begin_write
from app.hosts import cal_locations
from app.hosts.service import check_slug
from app.i18n import _
from app.notify.reminders import check_reminder_minutes

# Cal.com booking field type -> our question type (a single checkbox is Cal.com's "boolean").
FIELD_TYPES = {"text": "text", "textarea": "textarea", "select": "select", "boolean": "checkbox"}
PHONE_FIELD = "attendeePhoneNumber"
MAX_FIELDS = 30
# Our own question types (what the booking form asks with) and phone modes.
QUESTION_TYPES = ("text", "textarea", "select", "checkbox")
PHONE_MODES = ("hidden", "optional", "required")
MAX_OPTIONS = 50
KEY_RE = re.compile(r"[^a-z0-9]+")
# The numbers an event type holds: (lowest, highest) allowed.
LIMITS = {
    "length_in_minutes": (1, 1440),
    "slot_interval": (1, 1440),
    "minimum_booking_notice": (0, 525_600),
    "before_event_buffer": (0, 525_600),
    "after_event_buffer": (0, 525_600),
    "max_per_day": (1, 1000),
    "booking_window_days": (1, 3650),
}


def location_out(event_type: EventType) -> list[dict[str, Any]]:
    """The stored location as Cal.com's ``locations`` list (app/hosts/cal_locations.py)."""
    return cal_locations.to_cal(event_type.location_type, event_type.location_value)


def booking_fields_out(event_type: EventType) -> list[dict[str, Any]]:
    """The booking form as Cal.com's ``bookingFields``: its default fields (name, e-mail, notes,
    guests), then the host's questions, then the phone number when the form asks for one."""
    reverse = {ours: cal for cal, ours in FIELD_TYPES.items()}
    fields: list[dict[str, Any]] = [
        {"type": "name", "slug": "name", "label": "Your name", "required": True},
        {"type": "email", "slug": "email", "label": "Email address", "required": True},
    ]
    fields = [{**field, "isDefault": True, "hidden": False} for field in fields]
    for question in event_type.questions:
        field: dict[str, Any] = {
            "type": reverse.get(question.get("type", "text"), "text"),
            "slug": question["key"],
            "label": question.get("label") or question["key"],
            "required": bool(question.get("required")),
            "hidden": False,
            "isDefault": False,
        }
        if field["type"] == "select":
            field["options"] = list(question.get("options") or [])
        fields.append(field)
    if event_type.phone_mode != "hidden" or event_type.location_type == cal_locations.PHONE:
        required = event_type.phone_mode == "required"
        fields.append(
            {
                "type": "phone",
                "slug": PHONE_FIELD,
                "label": "Phone number",
                "required": required or event_type.location_type == cal_locations.PHONE,
                "hidden": False,
                "isDefault": False,
            }
        )
    defaults = [
        ("textarea", "notes", "Additional notes", False),
        ("multiemail", "guests", "Add guests", event_type.disable_guests),
    ]
    fields += [
        {
            "type": kind,
            "slug": slug,
            "label": label,
            "required": False,
            "hidden": hidden,
            "isDefault": True,
        }
        for kind, slug, label, hidden in defaults
    ]
    return fields


def _location_in(locations: list[dict[str, Any]]) -> tuple[str, str]:
    return cal_locations.from_cal(locations)


def _booking_fields_in(fields: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """Cal.com booking fields -> (our questions, our phone mode)."""
    if len(fields) > MAX_FIELDS:
        raise InvalidInput(f"bookingFields: at most {MAX_FIELDS} fields.", "bookingFields")
    questions: list[dict[str, Any]] = []
    phone_mode = "hidden"
    for index, field in enumerate(fields):
        where = f"bookingFields[{index}]"
        kind = field.get("type")
        if kind == "phone":
            if field.get("slug", PHONE_FIELD) != PHONE_FIELD:
                raise InvalidInput(f"{where}: a phone field must have slug {PHONE_FIELD}.", where)
            phone_mode = "required" if field.get("required") else "optional"
            continue
        if kind not in FIELD_TYPES:
            names = ", ".join([*FIELD_TYPES, "phone"])
            raise InvalidInput(f"{where}.type must be one of {names}.", where)
        key = check_text(field.get("slug"), f"{where}.slug", required=True, max_length=100)
        if key in {q["key"] for q in questions}:
            raise InvalidInput(f"{where}.slug '{key}' is used twice.", where)
        options = [
            check_text(o, f"{where}.options", required=True, max_length=200)
            for o in field.get("options") or []
        ]
        if kind == "select" and not options:
            raise InvalidInput(f"{where}: a select field needs options.", where)
        questions.append(
            {
                "key": key,
                "label": check_text(
                    field.get("label") or key, f"{where}.label", required=True, max_length=200
                ),
                "type": FIELD_TYPES[str(kind)],
                "required": bool(field.get("required")),
                "options": options,
            }
        )
    return questions, phone_mode


def _booking_window_in(window: dict[str, Any] | None) -> int | None:
    if window is None or window.get("disabled"):
        return None
    if window.get("type") != "calendarDays" or window.get("rolling"):
        raise InvalidInput(
            'bookingWindow must be {"type": "calendarDays", "value": N} (days from today) or '
            '{"disabled": true}: business days, date ranges and rolling windows are not '
            "supported.",
            "bookingWindow",
        )
    value = window.get("value")
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3650:
        raise InvalidInput(
            "bookingWindow.value must be a number of days (1-3650).", "bookingWindow"
        )
    return value


def booking_window_out(event_type: EventType) -> dict[str, Any]:
    if event_type.booking_window_days is None:
        return {"disabled": True}
    return {"type": "calendarDays", "value": event_type.booking_window_days, "rolling": False}


async def list_event_types(
    session: AsyncSession, host_id: int, *, slug: str | None = None, visible_only: bool = False
) -> list[EventType]:
    """The host's event types (``slug``: only that one; ``visible_only``: not the hidden ones,
    as anyone may see them on the booking pages)."""
    query = (
        select(EventType)
        .where(EventType.host_id == host_id, EventType.active.is_(True))
        .order_by(EventType.id)
    )
    if slug is not None:
        query = query.where(EventType.slug == slug)
    if visible_only:
        query = query.where(EventType.hidden.is_(False))
    return list((await session.scalars(query)).all())


async def get_event_type(session: AsyncSession, host_id: int, event_type_id: int) -> EventType:
    query = (
        select(EventType)
        .where(
            EventType.id == event_type_id,
            EventType.host_id == host_id,
            EventType.active.is_(True),
        )
        .options(selectinload(EventType.host))
    )
    event_type = (await session.scalars(query)).first()
    if event_type is None:
        raise NotFound(f"Event type {event_type_id} not found.")
    return event_type


async def find_own_event_type(
    session: AsyncSession,
    host: Host,
    event_type_id: int | None,
    event_type_slug: str | None,
    username: str | None,
) -> EventType:
    """By id, or by slug and ``username``; a key only reaches its own host's event types."""
    query = (
        select(EventType)
        .where(EventType.host_id == host.id, EventType.active.is_(True))
        .options(selectinload(EventType.host))
    )
    if event_type_id is not None:
        query = query.where(EventType.id == event_type_id)
    elif event_type_slug:
        if username not in (None, host.slug):
            raise NotFound(f"No event type '{event_type_slug[:64]}' for '{username[:64]}'.")
        query = query.where(EventType.slug == event_type_slug)
    else:
        raise InvalidInput("Give eventTypeId, or eventTypeSlug and username.", "eventTypeId")
    event_type = (await session.scalars(query)).first()
    if event_type is None:
        raise NotFound("Event type not found.")
    return event_type


async def _check_slug_free(
    session: AsyncSession, host_id: int, slug: str, except_id: int | None = None
) -> None:
    query = select(EventType.id).where(EventType.host_id == host_id, EventType.slug == slug)
    if except_id is not None:
        query = query.where(EventType.id != except_id)
    if (await session.scalars(query)).first() is not None:
        raise Conflict(
            _("You already have an event type with the slug “%(slug)s”.", slug=slug), "slug"
        )


async def _check_schedule(session: AsyncSession, host_id: int, schedule_id: int | None) -> None:
    if schedule_id is None:
        return
    schedule = await session.get(Schedule, schedule_id)
    if schedule is None or schedule.host_id != host_id:
        raise NotFound(f"Schedule {schedule_id} not found.")


def _names() -> dict[str, str]:
    """The numbers' names as the console labels them (messages name the field they are about)."""
    return {
        "length_in_minutes": _("Duration (minutes)"),
        "slot_interval": _("Start times every (minutes)"),
        "minimum_booking_notice": _("Minimum notice (minutes)"),
        "before_event_buffer": _("Buffer before (minutes)"),
        "after_event_buffer": _("Buffer after (minutes)"),
        "max_per_day": _("Daily limit (bookings)"),
        "booking_window_days": _("Booking window (days)"),
    }


def check_number(name: str, value: Any, *, optional: bool) -> int | None:
    """A whole number within ``LIMITS[name]`` (``None`` allowed when ``optional``)."""
    if value is None and optional:
        return None
    low, high = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            _(
                "%(name)s must be a whole number from %(low)d to %(high)d.",
                name=_names()[name],
                low=low,
                high=high,
            ),
            name,
            "range",
        )
    return value


def question_key(label: str, taken: set[str]) -> str:
    """A stable key for a new question, made from its label (``company-size``, ``q-2``…)."""
    base = KEY_RE.sub("-", label.lower()).strip("-")[:40] or "question"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def check_questions(items: Any) -> list[dict[str, Any]]:
    """The host's questions in our own shape: ``[{"key"?, "label", "type", "required",
    "options"}]``; a question without a key gets one from its label. Errors name the question
    (``questions.2.options``)."""
    if not isinstance(items, list) or len(items) > MAX_FIELDS:
        raise InvalidInput(
            _("At most %(count)d questions.", count=MAX_FIELDS), "questions", "too_many"
        )
    questions: list[dict[str, Any]] = []
    taken = {str(item.get("key")) for item in items if isinstance(item, dict) and item.get("key")}
    for index, item in enumerate(items):
        where = f"questions.{index}"
        item = item if isinstance(item, dict) else {}
        label = check_text(
            item.get("label"), f"{where}.label", required=True, max_length=200, label=_("Question")
        )
        kind = item.get("type", "text")
        if kind not in QUESTION_TYPES:
            raise InvalidInput(_("Choose the kind of answer."), f"{where}.type")
        key = item.get("key")
        if key:
            key = check_text(key, f"{where}.key", required=True, max_length=100)
            if key in {q["key"] for q in questions}:
                raise InvalidInput(_("Two questions have the same key."), f"{where}.key")
        else:
            key = question_key(label, taken)
            taken.add(key)
        raw_options = item.get("options") or []
        if not isinstance(raw_options, list) or len(raw_options) > MAX_OPTIONS:
            raise InvalidInput(
                _("At most %(count)d options.", count=MAX_OPTIONS), f"{where}.options"
            )
        options = []
        for option in raw_options:
            text = check_text(option, f"{where}.options", required=False, max_length=200)
            if text and text not in options:
                options.append(text)
        if kind == "select" and len(options) < 2:
            raise InvalidInput(
                _("A choice needs at least two options, one per line."), f"{where}.options"
            )
        questions.append(
            {
                "key": key,
                "label": label,
                "type": kind,
                "required": bool(item.get("required")),
                "options": options if kind == "select" else [],
            }
        )
    return questions


async def _apply(
    session: AsyncSession, event_type: EventType, host_id: int, fields: dict[str, Any]
) -> None:
    """Check the given fields and write them onto ``event_type`` (only those present)."""
    for name in LIMITS:
        if name in fields:
            optional = name in ("slot_interval", "max_per_day", "booking_window_days")
            check_number(name, fields[name], optional=optional)
    if "title" in fields:
        event_type.title = check_text(
            fields["title"], "title", required=True, max_length=200, label=_("Title")
        )
    if "slug" in fields:
        try:
            slug = check_slug(fields["slug"])
        except InvalidInput:
            raise InvalidInput(
                _(
                    "A slug holds only lowercase letters, digits and dashes (at most 64), "
                    "and is not a reserved word such as “console”."
                ),
                "slug",
            ) from None
        await _check_slug_free(session, host_id, slug, event_type.id)
        event_type.slug = slug
    if "description" in fields:
        event_type.description = check_text(
            fields["description"],
            "description",
            required=False,
            max_length=5000,
            multiline=True,
            label=_("Description"),
        )
    simple = {
        "length_in_minutes": "duration_minutes",
        "slot_interval": "slot_interval_minutes",
        "minimum_booking_notice": "min_notice_minutes",
        "before_event_buffer": "buffer_before_minutes",
        "after_event_buffer": "buffer_after_minutes",
        "requires_confirmation": "requires_approval",
        "hidden": "hidden",
        "disabled": "disabled",
        "booking_requires_authentication": "booking_requires_auth",
        "disable_guests": "disable_guests",
        "max_per_day": "max_per_day",
    }
    for name, column in simple.items():
        if name in fields:
            setattr(event_type, column, fields[name])
    if "locations" in fields:
        event_type.location_type, event_type.location_value = _location_in(
            fields["locations"] or []
        )
    if "booking_fields" in fields:
        event_type.questions, event_type.phone_mode = _booking_fields_in(
            fields["booking_fields"] or []
        )
    if "booking_window" in fields:
        event_type.booking_window_days = _booking_window_in(fields["booking_window"])
    if "booking_window_days" in fields:
        event_type.booking_window_days = fields["booking_window_days"]
    if "questions" in fields:
        event_type.questions = check_questions(fields["questions"])
    if "phone_mode" in fields:
        if fields["phone_mode"] not in PHONE_MODES:
            raise InvalidInput(_("Choose whether to ask for a phone number."), "phone_mode")
        event_type.phone_mode = fields["phone_mode"]
    if "location" in fields:
        kind, value = fields["location"]
        event_type.location_type, event_type.location_value = locations.check_location(kind, value)
    if "reminder_minutes" in fields:
        event_type.reminder_minutes = check_reminder_minutes(
            fields["reminder_minutes"], _("Reminders")
        )
    if "schedule_id" in fields:
        await _check_schedule(session, host_id, fields["schedule_id"])
        event_type.schedule_id = fields["schedule_id"]


async def _all_or_nothing(session: AsyncSession, change: Awaitable[None]) -> None:
    """Run ``change``; if it refuses a field, roll back, so that none of the fields it had
    already set reaches the database (not even through a later flush in the same request)."""
    try:
        await change
    except BookingError:
        await session.rollback()
        raise


async def _commit(session: AsyncSession) -> None:
    """Commit; the unique (host, slug) index catches a slug taken by a concurrent request."""
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(_("You already have an event type with this slug."), "slug") from None


async def create_event_type(session: AsyncSession, host: Host, fields: dict[str, Any]) -> EventType:
    await begin_write(session)
    event_type = EventType(host_id=host.id, title="", slug="", duration_minutes=30)
    await _all_or_nothing(session, _apply(session, event_type, host.id, fields))
    session.add(event_type)
    await _commit(session)
    return event_type


async def update_event_type(
    session: AsyncSession, host_id: int, event_type_id: int, changes: dict[str, Any]
) -> EventType:
    await begin_write(session)
    event_type = await get_event_type(session, host_id, event_type_id)
    await _all_or_nothing(session, _apply(session, event_type, host_id, changes))
    event_type.updated_at = clock.utcnow()
    await _commit(session)
    return event_type


async def delete_event_type(session: AsyncSession, host_id: int, event_type_id: int) -> None:
    await begin_write(session)
    event_type = await get_event_type(session, host_id, event_type_id)
    bookings = select(Booking.id).where(Booking.event_type_id == event_type.id)
    upcoming = bookings.where(Booking.status.in_(HELD_STATUSES), Booking.end > clock.utcnow())
    if await session.scalar(select(exists(upcoming))):
        raise Conflict("This event type has upcoming bookings; cancel them first.")
    if await session.scalar(select(exists(bookings))):
        # Past bookings keep pointing at the row; free the slug and hide it from everything.
        event_type.active = False
        event_type.hidden = True
        event_type.slug = f"deleted-{event_type.id}-{event_type.slug}"[:64]
    else:
        await session.delete(event_type)
    await session.commit()


async def duplicate_event_type(
    session: AsyncSession, host_id: int, event_type_id: int
) -> EventType:
    """A copy of every setting under a free slug (``intro-copy``, ``intro-copy-2``…), hidden
    until the host shows it: a copy should not appear on the booking page by surprise."""
    await begin_write(session)
    original = await get_event_type(session, host_id, event_type_id)
    taken = set(
        (await session.scalars(select(EventType.slug).where(EventType.host_id == host_id))).all()
    )
    base = f"{original.slug[:59]}-copy"
    slug, n = base, 2
    while slug in taken:
        suffix = f"-{n}"
        slug, n = f"{base[: 64 - len(suffix)]}{suffix}", n + 1
    copy = EventType(
        host_id=host_id,
        slug=slug,
        title=_("%(title)s (copy)", title=original.title)[:200],
        hidden=True,
        **{
            column: getattr(original, column)
            for column in (
                "schedule_id",
                "description",
                "duration_minutes",
                "slot_interval_minutes",
                "buffer_before_minutes",
                "buffer_after_minutes",
                "min_notice_minutes",
                "booking_window_days",
                "max_per_day",
                "requires_approval",
                "location_type",
                "location_value",
                "phone_mode",
                "booking_requires_auth",
                "disable_guests",
            )
        },
        questions=[dict(q, options=list(q.get("options") or [])) for q in original.questions],
        reminder_minutes=list(original.reminder_minutes or []),
    )
    session.add(copy)
    await _commit(session)
    return copy
