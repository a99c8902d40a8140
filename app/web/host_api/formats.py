"""How the host API's objects look on the wire: Cal.com API v2's shapes, field for field.

Each answer follows the schema Cal.com's OpenAPI document gives it (tests/calcom_contract.py
checks every answer the suite produces): every required field is present with its documented
type; where the document types a field as a string or an object we never send ``null`` (an
optional field we have nothing for is left out; a required one gets its documented empty value).
Instants are UTC ``…Z``; booking statuses are Cal.com's lower-case words.

Which Cal.com version's shapes each resource serves (the ``cal-api-version`` header is accepted
and need not be sent): bookings ``2024-08-13``, event types ``2024-06-14``, schedules
``2024-06-11``, slots ``2024-09-04``; ``/v2/me`` and webhooks are not versioned.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

import msgspec

from app.bookings import calendar_links as calendar
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
from app.hosts import cal_locations
from app.hosts import event_types as event_type_service
from app.hosts import schedules as schedule_service
from app.hosts import webhooks as webhook_service
from app.notify.ics import ical_uid
from app.settings import Settings
from app.web.formats import iso_z
from app.web.widget_view import booking_ref

BOOKING_STATUS = {
    CONFIRMED: "accepted",
    PENDING: "pending",
    CANCELLED: "cancelled",
    RESCHEDULED: "cancelled",
    DECLINED: "rejected",
}
# The attendee languages Cal.com's booking answers allow (BookingAttendee.language).
CAL_LANGUAGES = frozenset(
    [
        "ar",
        "ca",
        "de",
        "es",
        "eu",
        "he",
        "id",
        "ja",
        "lv",
        "pl",
        "ro",
        "sr",
        "th",
        "vi",
        "az",
        "cs",
        "el",
        "es-419",
        "fi",
        "hr",
        "it",
        "km",
        "nl",
        "pt",
        "ru",
        "sv",
        "tr",
        "zh-CN",
        "bg",
        "da",
        "en",
        "et",
        "fr",
        "hu",
        "iw",
        "ko",
        "no",
        "pt-BR",
        "sk",
        "ta",
        "uk",
        "zh-TW",
        "bn",
    ]
)
# Cal.com cannot say "24:00" (its times are HH:MM, 00:00-23:59): a day's end is "23:59".
END_OF_DAY = "23:59"


class Camel(msgspec.Struct, rename="camel", kw_only=True):
    """Base of the answers: snake case in Python, camel case on the wire."""


class Optional(Camel, omit_defaults=True):
    """An answer whose optional fields are left out when empty (never ``null``)."""


# Me ---------------------------------------------------------------------------------------------


class Me(Optional):
    id: int
    username: str
    email: str
    name: str
    time_format: int
    default_schedule_id: int | None
    week_start: str
    time_zone: str
    organization_id: None
    locale: str = ""
    avatar_url: str = ""
    bio: str = ""
    metadata: dict[str, Any] = {}


# Event types ------------------------------------------------------------------------------------


class User(Camel):
    """The owner, as event types list their ``users``."""

    id: int
    name: str
    username: str
    avatar_url: str | None
    week_start: str
    brand_color: str | None
    dark_brand_color: str | None
    metadata: dict[str, Any]


class EventTypeOut(Optional):
    id: int
    owner_id: int
    title: str
    slug: str
    description: str
    length_in_minutes: int
    locations: list[dict[str, Any]]
    booking_fields: list[dict[str, Any]]
    disable_guests: bool
    slot_interval: int | None
    minimum_booking_notice: int
    before_event_buffer: int
    after_event_buffer: int
    recurrence: None
    metadata: dict[str, Any]
    price: int
    currency: str
    lock_time_zone_toggle_on_booking_page: bool
    forward_params_success_redirect: None
    success_redirect_url: None
    is_instant_event: bool
    schedule_id: int | None
    booking_window: dict[str, Any]
    booking_limits_count: dict[str, Any]
    confirmation_policy: dict[str, Any]
    hidden: bool
    booking_requires_authentication: bool
    users: list[User]
    # Not Cal.com's (it says confirmationPolicy), kept for clients of our earlier answers.
    requires_confirmation: bool = False


class DeletedEventType(Camel):
    id: int
    length_in_minutes: int
    title: str
    slug: str


def user(host: Host) -> User:
    return User(
        id=host.id,
        name=host.name,
        username=host.slug,
        avatar_url=host.avatar_url or None,
        week_start=host.week_start,
        brand_color=host.brand_color or None,
        dark_brand_color=None,
        metadata=dict(host.meta or {}),
    )


def event_type(row: EventType, host: Host) -> EventTypeOut:
    approval = (
        {"type": "always", "blockUnconfirmedBookingsInBooker": True}
        if row.requires_approval
        else {"disabled": True}
    )
    return EventTypeOut(
        id=row.id,
        owner_id=row.host_id,
        title=row.title,
        slug=row.slug,
        description=row.description,
        length_in_minutes=row.duration_minutes,
        locations=event_type_service.location_out(row),
        booking_fields=event_type_service.booking_fields_out(row),
        disable_guests=row.disable_guests,
        slot_interval=row.slot_interval_minutes,
        minimum_booking_notice=row.min_notice_minutes,
        before_event_buffer=row.buffer_before_minutes,
        after_event_buffer=row.buffer_after_minutes,
        recurrence=None,
        metadata={},
        price=0,
        currency="usd",
        lock_time_zone_toggle_on_booking_page=False,
        forward_params_success_redirect=None,
        success_redirect_url=None,
        is_instant_event=False,
        schedule_id=row.schedule_id,
        booking_window=event_type_service.booking_window_out(row),
        booking_limits_count=(
            {"day": row.max_per_day} if row.max_per_day is not None else {"disabled": True}
        ),
        confirmation_policy=approval,
        hidden=row.hidden,
        booking_requires_authentication=row.booking_requires_auth,
        users=[user(host)],
        requires_confirmation=row.requires_approval,
    )


def deleted_event_type(row: EventType) -> DeletedEventType:
    return DeletedEventType(
        id=row.id, length_in_minutes=row.duration_minutes, title=row.title, slug=row.slug
    )


# Schedules --------------------------------------------------------------------------------------


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


def _cal_time(value: str) -> str:
    return END_OF_DAY if value == "24:00" else value


def schedule(row: Schedule) -> ScheduleOut:
    return ScheduleOut(
        id=row.id,
        owner_id=row.host_id,
        name=row.name,
        time_zone=row.timezone,
        is_default=row.is_default,
        availability=[
            Availability(
                days=a["days"], start_time=a["start_time"], end_time=_cal_time(a["end_time"])
            )
            for a in schedule_service.availability_out(row)
        ],
        overrides=[
            Override(date=o["date"], start_time=o["start_time"], end_time=_cal_time(o["end_time"]))
            for o in schedule_service.overrides_out(row)
        ],
    )


# Slots ------------------------------------------------------------------------------------------


class Slot(Optional):
    start: str
    end: str = ""


# Bookings ---------------------------------------------------------------------------------------


class HostOut(Camel):
    id: int
    name: str
    email: str
    username: str
    time_zone: str


class AttendeeOut(Optional):
    name: str
    email: str
    time_zone: str
    absent: bool
    language: str = ""
    phone_number: str = ""


class EventTypeRef(Camel):
    id: int
    slug: str


class BookingOut(Optional):
    id: int
    uid: str
    title: str
    description: str
    hosts: list[HostOut]
    status: str
    start: str
    end: str
    duration: int
    event_type_id: int
    event_type: EventTypeRef
    location: str
    absent_host: bool
    attendees: list[AttendeeOut]
    booking_fields_responses: dict[str, Any]
    created_at: str
    updated_at: str
    cancellation_reason: str = ""
    rejection_reason: str = ""
    rescheduling_reason: str = ""
    rescheduled_from_uid: str = ""
    rescheduled_to_uid: str = ""
    meeting_url: str = ""
    metadata: dict[str, Any] = {}
    ics_uid: str = ""
    guests: list[str] = []


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


def language(locale: str) -> str:
    """The attendee's language as Cal.com names it, or "" when it has no name for it."""
    if locale in CAL_LANGUAGES:
        return locale
    primary = locale.split("-")[0].lower()
    return primary if primary in CAL_LANGUAGES else ""


def booking(row: Booking, root_uid: str | None = None) -> BookingOut:
    """``root_uid``: the first booking of a reschedule chain, whose uid the invite's UID keeps."""
    host, kind = row.host, row.event_type
    absent = {email.lower() for email in row.absent_attendees or []}
    room = str(getattr(row, "location", "") or "")
    attendees = [
        AttendeeOut(
            name=row.invitee_name,
            email=row.invitee_email,
            time_zone=row.invitee_timezone,
            absent=row.invitee_email.lower() in absent,
            language=language(row.invitee_locale),
            phone_number=row.invitee_phone,
        )
    ] + [
        AttendeeOut(
            name="",
            email=guest,
            time_zone=row.invitee_timezone,
            absent=guest.lower() in absent,
            language=language(row.invitee_locale),
        )
        for guest in row.guests
    ]
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
        cancellation_reason=row.cancellation_reason,
        rejection_reason=row.decline_reason,
        rescheduling_reason=row.rescheduling_reason,
        rescheduled_from_uid=row.rescheduled_from_uid or "",
        rescheduled_to_uid=row.rescheduled_to_uid or "",
        start=iso_z(row.start),
        end=iso_z(row.end),
        duration=int((row.end - row.start).total_seconds() // 60),
        event_type_id=kind.id,
        event_type=EventTypeRef(id=kind.id, slug=kind.slug),
        location=cal_locations.booking_location(
            kind.location_type, kind.location_value, room, row.invitee_phone
        ),
        meeting_url=cal_locations.meeting_url(kind.location_type, kind.location_value, room),
        absent_host=row.absent_host,
        attendees=attendees,
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


class CalendarLink(Camel):
    label: str
    link: str


def calendar_links(settings: Settings, row: Booking) -> list[CalendarLink]:
    """The booking's 'add to calendar' links; the .ics one is the widget's signed download."""
    kind = row.event_type
    out = booking(row)
    entry = calendar.CalendarEntry(
        title=out.title,
        start=row.start,
        end=row.end,
        description=kind.description,
        location=out.meeting_url or out.location,
    )
    ref = quote(booking_ref(settings, row), safe="")
    ics = f"{settings.public_url}/{row.host.slug}/{kind.slug}/invite.ics?booking={ref}"
    return [CalendarLink(label=label, link=link) for label, link in calendar.links(entry, ics)]


class BookingReference(Camel):
    id: int
    type: str
    event_uid: str
    destination_calendar_id: str | None


# Webhooks ---------------------------------------------------------------------------------------

SecretOut = Annotated[
    str,
    msgspec.Meta(
        description="The signing secret: in full once, when it was generated for a new webhook; "
        "afterwards its last characters only (left out: deliveries are unsigned)."
    ),
]


class WebhookOut(Optional):
    """A host's webhook (Cal.com's UserWebhookOutputDto: ``userId``)."""

    id: int
    user_id: int
    subscriber_url: str
    triggers: list[str]
    active: bool
    payload_template: str
    secret: SecretOut = ""


class EventTypeWebhookOut(Optional):
    """A webhook of one event type (Cal.com's EventTypeWebhookOutputDto: ``eventTypeId``)."""

    id: int
    event_type_id: int
    subscriber_url: str
    triggers: list[str]
    active: bool
    payload_template: str
    secret: SecretOut = ""


def me(host: Host, default_schedule_id: int | None) -> Me:
    return Me(
        id=host.id,
        username=host.slug,
        email=host.email,
        name=host.name,
        time_format=host.time_format,
        default_schedule_id=default_schedule_id,
        week_start=host.week_start,
        time_zone=host.timezone,
        organization_id=None,
        locale=host.locale,
        avatar_url=host.avatar_url,
        bio=host.welcome_text,
        metadata=dict(host.meta or {}),
    )


def webhook(row: Webhook, shown_secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=row.id,
        user_id=row.host_id,
        subscriber_url=row.subscriber_url,
        triggers=list(row.triggers),
        active=row.active,
        payload_template=row.payload_template,
        secret=shown_secret or webhook_service.masked_secret(row) or "",
    )


def event_type_webhook(row: Webhook, shown_secret: str | None = None) -> EventTypeWebhookOut:
    return EventTypeWebhookOut(
        id=row.id,
        event_type_id=row.event_type_id or 0,
        subscriber_url=row.subscriber_url,
        triggers=list(row.triggers),
        active=row.active,
        payload_template=row.payload_template,
        secret=shown_secret or webhook_service.masked_secret(row) or "",
    )
