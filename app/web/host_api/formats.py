"""How the host API's objects look on the wire: Cal.com API v2's names (seeds 003, 004).

Instants are UTC ``…Z``; booking statuses are Cal.com's lower-case words.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from app.db.models import (
    CANCELLED,
    CONFIRMED,
    DECLINED,
    PENDING,
    RESCHEDULED,
    Booking,
    EventType,
    Host,
    Schedule,
    Webhook,
)
from app.hosts import event_types as event_type_service
from app.hosts import schedules as schedule_service
from app.hosts import webhooks as webhook_service
from app.notify.ics import ical_uid
from app.web.formats import iso_z

BOOKING_STATUS = {
    CONFIRMED: "accepted",
    PENDING: "pending",
    CANCELLED: "cancelled",
    RESCHEDULED: "cancelled",
    DECLINED: "rejected",
}


class Camel(msgspec.Struct, rename="camel", kw_only=True):
    """Base of the answers: snake case in Python, camel case on the wire."""


class Me(Camel):
    id: int
    username: str
    email: str
    name: str
    time_zone: str
    locale: str
    avatar_url: str | None
    default_schedule_id: int | None
    week_start: str = "Monday"
    time_format: int = 24


class Location(Camel, omit_defaults=True):
    type: str
    address: str | None = None
    link: str | None = None
    phone: str | None = None
    integration: str | None = None


class BookingField(Camel):
    type: str
    slug: str
    label: str
    required: bool
    options: list[str] = []


class BookingWindow(Camel, omit_defaults=True):
    """``{"type": "calendarDays", "value": 60}``, or ``{"disabled": true}`` for no limit."""

    type: str | None = None
    value: int | None = None
    rolling: bool | None = None
    disabled: bool | None = None


class EventTypeOut(Camel):
    id: int
    owner_id: int
    title: str
    slug: str
    description: str
    length_in_minutes: int
    locations: list[Location]
    booking_fields: list[BookingField]
    slot_interval: int | None
    minimum_booking_notice: int
    before_event_buffer: int
    after_event_buffer: int
    booking_window: BookingWindow
    requires_confirmation: bool
    hidden: bool
    schedule_id: int | None


class Availability(Camel):
    days: list[str]
    start_time: str
    end_time: str


class Override(Camel):
    date: str
    start_time: str
    end_time: str


class ScheduleOut(Camel):
    id: int
    owner_id: int
    name: str
    time_zone: str
    is_default: bool
    availability: list[Availability]
    overrides: list[Override]


class Slot(Camel, omit_defaults=True):
    start: str
    end: str | None = None


class HostOut(Camel):
    id: int
    name: str
    email: str
    username: str
    time_zone: str


class AttendeeOut(Camel):
    name: str
    email: str
    time_zone: str
    phone_number: str | None
    language: str
    absent: bool = False


class EventTypeRef(Camel):
    id: int
    slug: str


class BookingOut(Camel):
    id: int
    uid: str
    title: str
    description: str
    hosts: list[HostOut]
    status: str
    cancellation_reason: str | None
    rejection_reason: str | None
    rescheduling_reason: str | None
    rescheduled_from_uid: str | None
    rescheduled_to_uid: str | None
    start: str
    end: str
    duration: int
    event_type_id: int
    event_type: EventTypeRef
    location: str | None
    meeting_url: str | None
    attendees: list[AttendeeOut]
    guests: list[str]
    booking_fields_responses: dict[str, Any]
    metadata: dict[str, Any]
    created_at: str
    updated_at: str
    ics_uid: str


class Pagination(Camel):
    total_items: int
    remaining_items: int
    returned_items: int
    items_per_page: int
    current_page: int
    total_pages: int
    has_next_page: bool
    has_previous_page: bool


class BookingPage(Camel, kw_only=True):
    """Cal.com's list answer: the page under ``data`` and the counts under ``pagination``."""

    status: Literal["success"] = "success"
    data: list[BookingOut]
    pagination: Pagination


class WebhookOut(Camel):
    id: int
    owner_id: int
    subscriber_url: str
    triggers: list[str]
    active: bool
    secret: Annotated[
        str | None,
        msgspec.Meta(
            description="The signing secret: in full once, when it was generated for a new "
            "webhook; afterwards its last characters only (None: deliveries are unsigned)."
        ),
    ]
    payload_template: str | None = None


def me(host: Host, default_schedule_id: int | None) -> Me:
    return Me(
        id=host.id,
        username=host.slug,
        email=host.email,
        name=host.name,
        time_zone=host.timezone,
        locale=host.locale,
        avatar_url=host.avatar_url or None,
        default_schedule_id=default_schedule_id,
    )


def event_type(row: EventType) -> EventTypeOut:
    return EventTypeOut(
        id=row.id,
        owner_id=row.host_id,
        title=row.title,
        slug=row.slug,
        description=row.description,
        length_in_minutes=row.duration_minutes,
        locations=[Location(**item) for item in event_type_service.location_out(row)],
        booking_fields=[BookingField(**f) for f in event_type_service.booking_fields_out(row)],
        slot_interval=row.slot_interval_minutes,
        minimum_booking_notice=row.min_notice_minutes,
        before_event_buffer=row.buffer_before_minutes,
        after_event_buffer=row.buffer_after_minutes,
        booking_window=BookingWindow(**event_type_service.booking_window_out(row)),
        requires_confirmation=row.requires_approval,
        hidden=row.hidden,
        schedule_id=row.schedule_id,
    )


def schedule(row: Schedule) -> ScheduleOut:
    return ScheduleOut(
        id=row.id,
        owner_id=row.host_id,
        name=row.name,
        time_zone=row.timezone,
        is_default=row.is_default,
        availability=[Availability(**a) for a in schedule_service.availability_out(row)],
        overrides=[Override(**o) for o in schedule_service.overrides_out(row)],
    )


def booking(row: Booking, root_uid: str | None = None) -> BookingOut:
    """``root_uid``: the first booking of a reschedule chain, whose uid the invite's UID keeps."""
    host, kind = row.host, row.event_type
    locations = event_type_service.location_out(kind)
    where = next((v for k, v in (locations[0] if locations else {}).items() if k != "type"), None)
    return BookingOut(
        id=row.id,
        uid=row.uid,
        title=f"{kind.title} between {host.name} and {row.invitee_name}",
        description=row.notes,
        hosts=[
            HostOut(
                id=host.id,
                name=host.name,
                email=host.email,
                username=host.slug,
                time_zone=host.timezone,
            )
        ],
        status=BOOKING_STATUS.get(row.status, row.status.lower()),
        cancellation_reason=row.cancellation_reason or None,
        rejection_reason=row.decline_reason or None,
        rescheduling_reason=row.rescheduling_reason or None,
        rescheduled_from_uid=row.rescheduled_from_uid,
        rescheduled_to_uid=row.rescheduled_to_uid,
        start=iso_z(row.start),
        end=iso_z(row.end),
        duration=int((row.end - row.start).total_seconds() // 60),
        event_type_id=kind.id,
        event_type=EventTypeRef(id=kind.id, slug=kind.slug),
        location=where,
        meeting_url=kind.location_value if kind.location_type == "Link" else None,
        attendees=[
            AttendeeOut(
                name=row.invitee_name,
                email=row.invitee_email,
                time_zone=row.invitee_timezone,
                phone_number=row.invitee_phone or None,
                language=row.invitee_locale,
            )
        ],
        guests=list(row.guests),
        booking_fields_responses=dict(row.custom_fields),
        metadata=dict(row.meta),
        created_at=iso_z(row.created_at),
        updated_at=iso_z(row.updated_at),
        ics_uid=ical_uid(root_uid or row.uid),
    )


def booking_page(
    rows: list[Booking], roots: list[str], total: int, take: int, skip: int
) -> BookingPage:
    return BookingPage(
        data=[booking(row, root) for row, root in zip(rows, roots, strict=True)],
        pagination=Pagination(
            total_items=total,
            remaining_items=max(total - skip - len(rows), 0),
            returned_items=len(rows),
            items_per_page=take,
            current_page=skip // take + 1,
            total_pages=(total + take - 1) // take,
            has_next_page=skip + len(rows) < total,
            has_previous_page=skip > 0,
        ),
    )


def webhook(row: Webhook, shown_secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=row.id,
        owner_id=row.host_id,
        subscriber_url=row.subscriber_url,
        triggers=list(row.triggers),
        active=row.active,
        secret=shown_secret or webhook_service.masked_secret(row),
    )
