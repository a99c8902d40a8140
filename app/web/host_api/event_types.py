"""``/v2/event-types``: a host's event types, Cal.com's 2024-06-14 names and shapes.

Every field of Cal.com's create/update body is read. Those we model are applied (app/hosts/
event_types.py checks them); Cal.com's own booker settings we have no equivalent for are accepted
only with their "off" value (``false``, ``""``, ``{"disabled": true}``) and refused with a 400
that names them otherwise: a setting is never silently dropped.

``GET /v2/event-types`` lists the key's own event types; with ``username`` (and optionally
``eventSlug``) it lists that host's public ones, as Cal.com does, with or without a key.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import InvalidInput
from app.db.models import Host
from app.hosts import event_types as service
from app.hosts.service import host_by_slug
from app.web.host_api import formats
from app.web.host_api.envelope import Envelope, Id, PathId, errors, ok
from app.web.host_api.fields import changes, refuse_unhonoured

Minutes = Annotated[int, msgspec.Meta(ge=0, le=525_600)]
Length = Annotated[int, msgspec.Meta(ge=1, le=1440)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Long = Annotated[str, msgspec.Meta(max_length=5000)]
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET
# Cal.com's default booking fields: always on here (name, email), or mapped (guests: hidden
# means disableGuests), or accepted while visible (notes and the rest).
DEFAULT_FIELDS = ("name", "email", "location", "title", "notes", "guests", "rescheduleReason")


class EventTypeFields(msgspec.Struct, rename="camel", kw_only=True):
    """Cal.com's UpdateEventTypeInput_2024_06_14: only the fields sent change."""

    title: Short | Unset = UNSET
    slug: Short | Unset = UNSET
    length_in_minutes: Length | Unset = UNSET
    description: Long | Unset = UNSET
    locations: list[dict[str, Any]] | Unset | None = UNSET
    booking_fields: list[dict[str, Any]] | Unset | None = UNSET
    disable_guests: bool | Unset = UNSET
    slot_interval: Length | Unset | None = UNSET
    minimum_booking_notice: Minutes | Unset = UNSET
    before_event_buffer: Minutes | Unset = UNSET
    after_event_buffer: Minutes | Unset = UNSET
    schedule_id: Id | Unset | None = UNSET
    booking_window: dict[str, Any] | Unset | None = UNSET
    booking_limits_count: dict[str, Any] | Unset | None = UNSET
    confirmation_policy: dict[str, Any] | Unset | None = UNSET
    requires_confirmation: bool | Unset = UNSET  # our earlier name for confirmationPolicy
    hidden: bool | Unset = UNSET
    booking_requires_authentication: bool | Unset = UNSET
    # Cal.com booker settings with no equivalent here: their "off" value only.
    length_in_minutes_options: list[Any] | Unset | None = UNSET
    booking_limits_duration: dict[str, Any] | Unset | None = UNSET
    only_show_first_available_slot: bool | Unset = UNSET
    offset_start: int | Unset | None = UNSET
    booker_layouts: dict[str, Any] | Unset | None = UNSET
    recurrence: dict[str, Any] | Unset | None = UNSET
    requires_booker_email_verification: bool | Unset = UNSET
    hide_calendar_notes: bool | Unset = UNSET
    lock_time_zone_toggle_on_booking_page: bool | Unset = UNSET
    color: dict[str, Any] | Unset | None = UNSET
    seats: dict[str, Any] | Unset | None = UNSET
    custom_name: str | Unset | None = UNSET
    destination_calendar: dict[str, Any] | Unset | None = UNSET
    use_destination_calendar_email: bool | Unset = UNSET
    hide_calendar_event_details: bool | Unset = UNSET
    success_redirect_url: str | Unset | None = UNSET
    hide_organizer_email: bool | Unset = UNSET
    cal_video_settings: dict[str, Any] | Unset | None = UNSET


class EventTypeCreate(EventTypeFields, kw_only=True):
    """Cal.com's CreateEventTypeInput_2024_06_14."""

    title: Short
    slug: Short
    length_in_minutes: Length


UNHONOURED = (
    "length_in_minutes_options",
    "booking_limits_duration",
    "only_show_first_available_slot",
    "offset_start",
    "booker_layouts",
    "recurrence",
    "requires_booker_email_verification",
    "hide_calendar_notes",
    "lock_time_zone_toggle_on_booking_page",
    "color",
    "seats",
    "custom_name",
    "destination_calendar",
    "use_destination_calendar_email",
    "hide_calendar_event_details",
    "success_redirect_url",
    "hide_organizer_email",
    "cal_video_settings",
)


def _booking_fields(fields: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool | None]:
    """Cal.com's booking fields -> (the host's own questions, disableGuests if it says)."""
    custom: list[dict[str, Any]] = []
    disable_guests = None
    for index, field in enumerate(fields):
        slug = field.get("slug") if isinstance(field, dict) else None
        if slug not in DEFAULT_FIELDS or not isinstance(field, dict):
            custom.append(field)
            continue
        hidden = bool(field.get("hidden"))
        if slug == "guests":
            disable_guests = hidden
        elif hidden or (slug not in ("name", "email") and field.get("required")):
            raise InvalidInput(
                f"bookingFields[{index}]: the default field '{slug}' is always shown and "
                "optional here (name and email are required).",
                "bookingFields",
            )
    return custom, disable_guests


def _confirmation(policy: dict[str, Any] | None) -> bool:
    if policy is None or policy.get("disabled") is True:
        return False
    if policy.get("type") == "always" and policy.get("blockUnconfirmedBookingsInBooker") is True:
        return True
    raise InvalidInput(
        'confirmationPolicy must be {"type": "always", "blockUnconfirmedBookingsInBooker": '
        'true} or {"disabled": true}: a booking waiting for approval always holds its time here, '
        "and approval cannot depend on the notice given.",
        "confirmationPolicy",
    )


def _daily_limit(limits: dict[str, Any] | None) -> int | None:
    if limits is None or limits.get("disabled") is True:
        return None
    day = limits.get("day")
    if set(limits) == {"day"} and type(day) is int and 1 <= day <= 1000:
        return day
    raise InvalidInput(
        'bookingLimitsCount must be {"day": N} (1-1000) or {"disabled": true}: weekly, '
        "monthly and yearly limits are not supported.",
        "bookingLimitsCount",
    )


def service_fields(data: EventTypeFields) -> dict[str, Any]:
    """The body in the event type service's vocabulary; 400 for a setting we cannot keep."""
    fields = changes(data)
    refuse_unhonoured(fields, UNHONOURED, lengths=[fields.get("length_in_minutes")])
    for name in UNHONOURED:
        fields.pop(name, None)
    if "booking_fields" in fields:
        custom, disable_guests = _booking_fields(fields["booking_fields"] or [])
        fields["booking_fields"] = custom
        if disable_guests is not None:
            fields.setdefault("disable_guests", disable_guests)
    if "confirmation_policy" in fields:
        fields["requires_confirmation"] = _confirmation(fields.pop("confirmation_policy"))
    if "booking_limits_count" in fields:
        fields["max_per_day"] = _daily_limit(fields.pop("booking_limits_count"))
    return fields


class EventTypeController(Controller):
    path = "/event-types"
    tags = ["Event types"]

    @get(
        "/",
        summary="The key's event types, or a host's public ones by username (and eventSlug)",
        responses=errors(404),
        security=[{}],  # with the router's apiKey: a key is optional
    )
    async def list_event_types(
        self,
        caller: Host | None,
        db_session: AsyncSession,
        username: Annotated[str | None, Parameter(max_length=64)] = None,
        event_slug: Annotated[str | None, Parameter(query="eventSlug", max_length=64)] = None,
        usernames: Annotated[str | None, Parameter(max_length=2000)] = None,
        org_slug: Annotated[str | None, Parameter(query="orgSlug", max_length=200)] = None,
        org_id: Annotated[int | None, Parameter(query="orgId")] = None,
    ) -> Envelope[list[formats.EventTypeOut]]:
        if usernames is not None or org_slug is not None or org_id is not None:
            raise InvalidInput(
                "usernames, orgSlug and orgId are not supported: there are no dynamic group "
                "events or organizations here. Give username (and eventSlug).",
                "usernames",
            )
        if event_slug is not None and username is None:
            raise InvalidInput("eventSlug needs username too.", "username")
        if username is None:
            if caller is None:
                raise InvalidInput(
                    "Give username (a host's public event types), or an API key.", "username"
                )
            owner, public = caller, False
        else:
            owner = await host_by_slug(db_session, username)
            public = caller is None or caller.id != owner.id
        rows = await service.list_event_types(
            db_session, owner.id, slug=event_slug, visible_only=public
        )
        return ok([formats.event_type(row, owner) for row in rows])

    @post("/", summary="Create an event type", responses=errors(404))
    async def create_event_type(
        self, host: Host, db_session: AsyncSession, data: EventTypeCreate
    ) -> Envelope[formats.EventTypeOut]:
        fields = service_fields(data)
        if fields.get("booking_window") is None:
            fields.pop("booking_window", None)  # keep the default window (60 days)
        row = await service.create_event_type(db_session, host, fields)
        return ok(formats.event_type(row, host))

    @get("/{event_type_id:int}", summary="One event type", responses=errors(404))
    async def get_event_type(
        self, host: Host, db_session: AsyncSession, event_type_id: PathId
    ) -> Envelope[formats.EventTypeOut]:
        row = await service.get_event_type(db_session, host.id, event_type_id)
        return ok(formats.event_type(row, host))

    @patch("/{event_type_id:int}", summary="Change an event type", responses=errors(404))
    async def update_event_type(
        self, host: Host, db_session: AsyncSession, event_type_id: PathId, data: EventTypeFields
    ) -> Envelope[formats.EventTypeOut]:
        fields = service_fields(data)
        row = await service.update_event_type(db_session, host.id, event_type_id, fields)
        return ok(formats.event_type(row, host))

    @delete(
        "/{event_type_id:int}",
        summary="Delete an event type (kept, hidden, while bookings refer to it)",
        status_code=HTTP_200_OK,
        responses=errors(404),
    )
    async def delete_event_type(
        self, host: Host, db_session: AsyncSession, event_type_id: PathId
    ) -> Envelope[formats.DeletedEventType]:
        row = await service.get_event_type(db_session, host.id, event_type_id)
        deleted = formats.deleted_event_type(row)
        await service.delete_event_type(db_session, host.id, event_type_id)
        return ok(deleted)
