"""``/v2/event-types``: a host's event types, Cal.com's names and shapes."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Host
from app.hosts import event_types as service
from app.web.host_api import formats
from app.web.host_api.envelope import Envelope, Id, PathId, errors, ok
from app.web.host_api.fields import changes

Minutes = Annotated[int, msgspec.Meta(ge=0, le=525_600)]
Length = Annotated[int, msgspec.Meta(ge=1, le=1440)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Long = Annotated[str, msgspec.Meta(max_length=5000)]
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class LocationIn(msgspec.Struct, rename="camel"):
    """One of Cal.com's location kinds: address, link, phone, attendeePhone, attendeeAddress,
    or integration (cal-video, google-meet, zoom, office365-video)."""

    type: Short
    address: Short | None = None
    link: Short | None = None
    phone: Short | None = None
    integration: Short | None = None


class BookingFieldIn(msgspec.Struct, rename="camel"):
    """A question on the booking form: text, textarea, select, boolean, or the attendee's phone
    (type phone, slug attendeePhoneNumber)."""

    type: Short
    slug: Short | None = None
    label: Short | None = None
    required: bool = False
    options: Annotated[list[Short], msgspec.Meta(max_length=50)] | None = None


class BookingWindowIn(msgspec.Struct, rename="camel"):
    """``{"type": "calendarDays", "value": 30}`` or ``{"disabled": true}``."""

    type: Short | None = None
    value: int | None = None
    rolling: bool | None = None
    disabled: bool | None = None


class EventTypeCreate(msgspec.Struct, rename="camel"):
    title: Short
    slug: Short
    length_in_minutes: Length
    description: Long = ""
    locations: list[LocationIn] | None = None
    booking_fields: list[BookingFieldIn] | None = None
    slot_interval: Length | None = None
    minimum_booking_notice: Minutes = 0
    before_event_buffer: Minutes = 0
    after_event_buffer: Minutes = 0
    booking_window: BookingWindowIn | None = None
    requires_confirmation: bool = False
    hidden: bool = False
    schedule_id: Id | None = None


class EventTypeUpdate(msgspec.Struct, rename="camel"):
    """Only the fields sent change."""

    title: Short | Unset = UNSET
    slug: Short | Unset = UNSET
    length_in_minutes: Length | Unset = UNSET
    description: Long | Unset = UNSET
    locations: list[LocationIn] | Unset | None = UNSET
    booking_fields: list[BookingFieldIn] | Unset | None = UNSET
    slot_interval: Length | Unset | None = UNSET
    minimum_booking_notice: Minutes | Unset = UNSET
    before_event_buffer: Minutes | Unset = UNSET
    after_event_buffer: Minutes | Unset = UNSET
    booking_window: BookingWindowIn | Unset | None = UNSET
    requires_confirmation: bool | Unset = UNSET
    hidden: bool | Unset = UNSET
    schedule_id: int | Unset | None = UNSET


class EventTypeController(Controller):
    path = "/event-types"
    tags = ["Event types"]

    @get("/", summary="All event types of the host", responses=errors())
    async def list_event_types(
        self, host: Host, db_session: AsyncSession
    ) -> Envelope[list[formats.EventTypeOut]]:
        rows = await service.list_event_types(db_session, host.id)
        return ok([formats.event_type(row) for row in rows])

    @post("/", summary="Create an event type", responses=errors(404, 409))
    async def create_event_type(
        self, host: Host, db_session: AsyncSession, data: EventTypeCreate
    ) -> Envelope[formats.EventTypeOut]:
        fields = changes(data)
        if data.booking_window is None:
            fields.pop("booking_window")  # keep the default window (60 days)
        row = await service.create_event_type(db_session, host, fields)
        return ok(formats.event_type(row))

    @get("/{event_type_id:int}", summary="One event type", responses=errors(404))
    async def get_event_type(
        self, host: Host, db_session: AsyncSession, event_type_id: PathId
    ) -> Envelope[formats.EventTypeOut]:
        row = await service.get_event_type(db_session, host.id, event_type_id)
        return ok(formats.event_type(row))

    @patch("/{event_type_id:int}", summary="Change an event type", responses=errors(404, 409))
    async def update_event_type(
        self, host: Host, db_session: AsyncSession, event_type_id: PathId, data: EventTypeUpdate
    ) -> Envelope[formats.EventTypeOut]:
        row = await service.update_event_type(db_session, host.id, event_type_id, changes(data))
        return ok(formats.event_type(row))

    @delete(
        "/{event_type_id:int}",
        summary="Delete an event type (kept, hidden, while bookings refer to it)",
        status_code=HTTP_200_OK,
        responses=errors(404, 409),
    )
    async def delete_event_type(
        self, host: Host, db_session: AsyncSession, event_type_id: PathId
    ) -> Envelope[None]:
        await service.delete_event_type(db_session, host.id, event_type_id)
        return ok(None)
