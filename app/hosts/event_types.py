"""A host's event types, in the vocabulary of Cal.com's API v2 (seeds 003, 004).

Callers pass fields by their Cal.com names in snake case (``length_in_minutes``,
``minimum_booking_notice``, …); this module checks what types alone cannot (slugs, locations,
booking fields, the schedule belongs to the host) and maps them onto the ``EventType`` row.

``bookingWindow`` follows Cal.com: ``{"type": "calendarDays", "value": N}`` lets guests book up to
N days ahead, ``{"disabled": true}`` removes the limit. Other window types are refused.

Deleting an event type that has bookings keeps its row (inactive, slug freed) so the bookings keep
their history; one with upcoming held bookings cannot be deleted until they are cancelled.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import clock
from app.bookings.errors import Conflict, InvalidInput, NotFound
from app.bookings.validation import check_text
from app.db.models import HELD_STATUSES, Booking, EventType, Host, Schedule
from app.db.session import begin_write
from app.hosts.service import check_slug

# Cal.com location type -> (our location_type, the key holding its value).
LOCATION_TYPES = {
    "address": ("InPerson", "address"),
    "link": ("Link", "link"),
    "phone": ("Phone", "phone"),
    "attendeePhone": ("AttendeePhone", None),
    "attendeeAddress": ("AttendeeAddress", None),
}
# Cal.com integration names -> our location_type.
INTEGRATIONS = {
    "cal-video": "CalVideo",
    "google-meet": "GoogleMeet",
    "zoom": "Zoom",
    "office365-video": "MSTeams",
}
# Cal.com booking field type -> our question type (a single checkbox is Cal.com's "boolean").
FIELD_TYPES = {"text": "text", "textarea": "textarea", "select": "select", "boolean": "checkbox"}
PHONE_FIELD = "attendeePhoneNumber"
MAX_FIELDS = 30


def location_out(event_type: EventType) -> list[dict[str, str]]:
    """The stored location as Cal.com's ``locations`` list (empty when there is none)."""
    kind, value = event_type.location_type, event_type.location_value
    if not kind:
        return []
    for cal_type, (ours, key) in LOCATION_TYPES.items():
        if kind == ours:
            return [{"type": cal_type, key: value}] if key else [{"type": cal_type}]
    for integration, ours in INTEGRATIONS.items():
        if kind == ours:
            return [{"type": "integration", "integration": integration}]
    return [{"type": "address", "address": value or kind}]


def booking_fields_out(event_type: EventType) -> list[dict[str, Any]]:
    reverse = {ours: cal for cal, ours in FIELD_TYPES.items()}
    fields = [
        {
            "type": reverse.get(q.get("type", "text"), "text"),
            "slug": q["key"],
            "label": q.get("label") or q["key"],
            "required": bool(q.get("required")),
            "options": list(q.get("options") or []),
        }
        for q in event_type.questions
    ]
    if event_type.phone_mode != "hidden":
        fields.append(
            {
                "type": "phone",
                "slug": PHONE_FIELD,
                "label": "Phone number",
                "required": event_type.phone_mode == "required",
                "options": [],
            }
        )
    return fields


def _location_in(locations: list[dict[str, Any]]) -> tuple[str, str]:
    if not locations:
        return "", ""
    if len(locations) > 1:
        raise InvalidInput("locations: only one location per event type is supported.", "locations")
    location = locations[0]
    kind = location.get("type")
    if kind == "integration":
        integration = location.get("integration")
        if integration not in INTEGRATIONS:
            names = ", ".join(INTEGRATIONS)
            raise InvalidInput(f"locations[0].integration must be one of {names}.", "locations")
        return INTEGRATIONS[str(integration)], ""
    if kind not in LOCATION_TYPES:
        names = ", ".join([*LOCATION_TYPES, "integration"])
        raise InvalidInput(f"locations[0].type must be one of {names}.", "locations")
    ours, key = LOCATION_TYPES[str(kind)]
    if key is None:
        return ours, ""
    value = check_text(location.get(key), f"locations[0].{key}", required=True, max_length=500)
    return ours, value


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
    if window.get("type") != "calendarDays":
        raise InvalidInput(
            'bookingWindow.type must be calendarDays (or send {"disabled": true}).',
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


async def list_event_types(session: AsyncSession, host_id: int) -> list[EventType]:
    query = (
        select(EventType)
        .where(EventType.host_id == host_id, EventType.active.is_(True))
        .order_by(EventType.id)
    )
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
        raise Conflict(f"An event type with slug '{slug}' already exists.")


async def _check_schedule(session: AsyncSession, host_id: int, schedule_id: int | None) -> None:
    if schedule_id is None:
        return
    schedule = await session.get(Schedule, schedule_id)
    if schedule is None or schedule.host_id != host_id:
        raise NotFound(f"Schedule {schedule_id} not found.")


async def _apply(
    session: AsyncSession, event_type: EventType, host_id: int, fields: dict[str, Any]
) -> None:
    """Check the given fields and write them onto ``event_type`` (only those present)."""
    if "title" in fields:
        event_type.title = check_text(fields["title"], "title", required=True, max_length=200)
    if "slug" in fields:
        slug = check_slug(fields["slug"])
        await _check_slug_free(session, host_id, slug, event_type.id)
        event_type.slug = slug
    if "description" in fields:
        event_type.description = check_text(
            fields["description"], "description", required=False, max_length=5000, multiline=True
        )
    simple = {
        "length_in_minutes": "duration_minutes",
        "slot_interval": "slot_interval_minutes",
        "minimum_booking_notice": "min_notice_minutes",
        "before_event_buffer": "buffer_before_minutes",
        "after_event_buffer": "buffer_after_minutes",
        "requires_confirmation": "requires_approval",
        "hidden": "hidden",
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
    if "schedule_id" in fields:
        await _check_schedule(session, host_id, fields["schedule_id"])
        event_type.schedule_id = fields["schedule_id"]


async def _commit(session: AsyncSession) -> None:
    """Commit; the unique (host, slug) index catches a slug taken by a concurrent request."""
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("An event type with this slug already exists.") from None


async def create_event_type(session: AsyncSession, host: Host, fields: dict[str, Any]) -> EventType:
    await begin_write(session)
    event_type = EventType(host_id=host.id, title="", slug="", duration_minutes=30)
    await _apply(session, event_type, host.id, fields)
    session.add(event_type)
    await _commit(session)
    return event_type


async def update_event_type(
    session: AsyncSession, host_id: int, event_type_id: int, changes: dict[str, Any]
) -> EventType:
    await begin_write(session)
    event_type = await get_event_type(session, host_id, event_type_id)
    await _apply(session, event_type, host_id, changes)
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
