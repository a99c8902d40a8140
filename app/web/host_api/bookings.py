"""``/v2/bookings``: list, read, create and change bookings, Cal.com's 2024-08-13 shapes.

Every change goes through app/bookings/service.py with the key's host as owner, so the API books,
cancels, reschedules, confirms and declines exactly as the widget and the emailed links do
(same checks, emails and webhooks); another host's booking is 404.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings import service
from app.bookings.validation import parse_instant
from app.db.models import Booking, Host
from app.hosts import bookings as host_bookings
from app.notify.events import first_uid
from app.web.host_api import formats
from app.web.host_api.envelope import MAX_ID, Envelope, Id, errors, ok

Short = Annotated[str, msgspec.Meta(max_length=320)]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]


class AttendeeIn(msgspec.Struct, rename="camel"):
    name: Short
    email: Short
    time_zone: Short
    phone_number: Short | None = None
    language: Short | None = None


class BookingCreate(msgspec.Struct, rename="camel"):
    """Book by ``eventTypeId``, or by ``eventTypeSlug`` and ``username``; ``start`` in UTC."""

    start: Annotated[str, msgspec.Meta(max_length=40, examples=["2026-05-04T09:00:00Z"])]
    attendee: AttendeeIn
    event_type_id: Id | None = None
    event_type_slug: Short | None = None
    username: Short | None = None
    booking_fields_responses: dict[str, Any] = {}
    guests: list[Short] = []
    metadata: dict[str, Any] = {}
    length_in_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] | None = None


class CancelIn(msgspec.Struct, rename="camel"):
    cancellation_reason: Reason = ""


class RescheduleIn(msgspec.Struct, rename="camel"):
    start: Annotated[str, msgspec.Meta(max_length=40, examples=["2026-05-05T09:00:00Z"])]
    rescheduling_reason: Reason = ""


class DeclineIn(msgspec.Struct, rename="camel"):
    reason: Reason = ""


async def booking_out(session: AsyncSession, booking: Booking) -> Envelope[formats.BookingOut]:
    return ok(formats.booking(booking, await first_uid(session, booking)))


class BookingController(Controller):
    path = "/bookings"
    tags = ["Bookings"]

    @get("/", summary="The host's bookings, filtered and paginated", responses=errors())
    async def list_bookings(
        self,
        host: Host,
        db_session: AsyncSession,
        status: Annotated[
            str | None,
            Parameter(description="upcoming, unconfirmed, past or cancelled; comma-separated"),
        ] = None,
        attendee_email: Annotated[str | None, Parameter(query="attendeeEmail")] = None,
        event_type_id: Annotated[
            int | None, Parameter(query="eventTypeId", ge=1, le=MAX_ID)
        ] = None,
        take: Annotated[int, Parameter(ge=1, le=250)] = 100,
        skip: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
    ) -> formats.BookingPage:
        rows, total = await host_bookings.list_bookings(
            db_session,
            host.id,
            statuses=host_bookings.parse_statuses(status),
            attendee_email=attendee_email,
            event_type_id=event_type_id,
            take=take,
            skip=skip,
        )
        roots = [await first_uid(db_session, row) for row in rows]
        return formats.booking_page(rows, roots, total, take, skip)

    @post(
        "/",
        summary="Create a booking",
        responses=errors(404, 429),
        opt={"rate_limited": True},  # the same per-IP budget (BOOK_RATE_LIMIT) as the widget
    )
    async def create_booking(
        self, host: Host, db_session: AsyncSession, data: BookingCreate
    ) -> Envelope[formats.BookingOut]:
        request = host_bookings.NewBooking(
            start=data.start,
            attendee=host_bookings.Attendee(**msgspec.structs.asdict(data.attendee)),
            event_type_id=data.event_type_id,
            event_type_slug=data.event_type_slug,
            username=data.username,
            booking_fields_responses=data.booking_fields_responses,
            guests=data.guests,
            metadata=data.metadata,
            length_in_minutes=data.length_in_minutes,
        )
        booking = await host_bookings.create_api_booking(db_session, host, request)
        return await booking_out(db_session, booking)

    @get("/{uid:str}", summary="One booking", responses=errors(404))
    async def get_booking(
        self, host: Host, db_session: AsyncSession, uid: str
    ) -> Envelope[formats.BookingOut]:
        booking = await service.find_booking(db_session, uid, host_id=host.id)
        return await booking_out(db_session, booking)

    @post(
        "/{uid:str}/cancel",
        summary="Cancel a booking",
        status_code=HTTP_200_OK,
        responses=errors(404, 409),
    )
    async def cancel_booking(
        self, host: Host, db_session: AsyncSession, uid: str, data: CancelIn | None = None
    ) -> Envelope[formats.BookingOut]:
        reason = data.cancellation_reason if data else ""
        booking = await service.cancel_booking(db_session, uid, reason, host_id=host.id)
        return await booking_out(db_session, booking)

    @post(
        "/{uid:str}/reschedule",
        summary="Move a booking; answers the new booking (rescheduledFromUid names the old one)",
        responses=errors(404, 409),
    )
    async def reschedule_booking(
        self, host: Host, db_session: AsyncSession, uid: str, data: RescheduleIn
    ) -> Envelope[formats.BookingOut]:
        start = parse_instant(data.start, "start")
        booking = await service.reschedule_booking(
            db_session, uid, start, reason=data.rescheduling_reason, host_id=host.id
        )
        return await booking_out(db_session, booking)

    @post(
        "/{uid:str}/confirm",
        summary="Accept a booking waiting for approval",
        status_code=HTTP_200_OK,
        responses=errors(404, 409),
    )
    async def confirm_booking(
        self, host: Host, db_session: AsyncSession, uid: str
    ) -> Envelope[formats.BookingOut]:
        booking = await service.confirm_booking(db_session, uid, host_id=host.id)
        return await booking_out(db_session, booking)

    @post(
        "/{uid:str}/decline",
        summary="Refuse a booking waiting for approval",
        status_code=HTTP_200_OK,
        responses=errors(404, 409),
    )
    async def decline_booking(
        self, host: Host, db_session: AsyncSession, uid: str, data: DeclineIn | None = None
    ) -> Envelope[formats.BookingOut]:
        reason = data.reason if data else ""
        booking = await service.decline_booking(db_session, uid, reason, host_id=host.id)
        return await booking_out(db_session, booking)
