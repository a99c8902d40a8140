"""``/v2/bookings``: list, read, create and change bookings, Cal.com's 2024-08-13 shapes.

Every change goes through app/bookings/service.py with the key's host as owner, so the API books,
cancels, reschedules, confirms and declines exactly as the widget and the emailed links do
(same checks, emails and webhooks); another host's booking is 404.

Reading, cancelling and rescheduling a booking by its uid need the host's key, although Cal.com's
document lists them without Authorization: here a booking's uid is in every invite it sends
(the iCalendar UID) and in the host's own calendar, so it would be a bearer credential for the
guest's details and for cancelling. Guests act through their signed, single-purpose links.
``POST /v2/bookings`` is public, as on Cal.com: without a key it is a guest's booking of any
host's event type (rate limited like the public booking API, and the host's CAPTCHA applies:
send its solution as ``captchaToken``); the event type's host, by key, books as the host.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings import service
from app.bookings.errors import InvalidInput
from app.bookings.validation import parse_instant
from app.calendars.writeback import booking_references
from app.db.models import Booking, Host
from app.hosts import booking_filters as filters
from app.hosts import bookings as host_bookings
from app.notify.events import first_uid
from app.settings import Settings
from app.web.host_api import formats
from app.web.host_api.envelope import Envelope, Id, errors, ok
from app.web.host_api.fields import refuse_unknown_parameters

Short = Annotated[str, msgspec.Meta(max_length=320)]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class AttendeeIn(msgspec.Struct, rename="camel"):
    name: Short
    email: Short
    time_zone: Short
    phone_number: Short | None = None
    language: Short | None = None


class BookingCreate(msgspec.Struct, rename="camel"):
    """Cal.com's CreateBookingInput_2024_08_13: by ``eventTypeId``, or by ``eventTypeSlug`` and
    ``username``; ``start`` in UTC. ``captchaToken`` (ours) carries the host's CAPTCHA solution
    for a booking made without a key."""

    start: Annotated[str, msgspec.Meta(max_length=40, examples=["2026-05-04T09:00:00Z"])]
    attendee: AttendeeIn
    event_type_id: Id | None = None
    event_type_slug: Short | None = None
    username: Short | None = None
    booking_fields_responses: dict[str, Any] = {}
    guests: list[Short] = []
    metadata: dict[str, Any] = {}
    length_in_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] | None = None
    location: dict[str, Any] | None = None
    captcha_token: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    # Cal.com's that we cannot honour (refused unless empty).
    team_slug: Short | None = None
    organization_slug: Short | None = None
    meeting_url: Short | None = None
    routing: dict[str, Any] | None = None
    instant: bool | None = None
    recurrence_count: int | None = None


class CancelIn(msgspec.Struct, rename="camel"):
    cancellation_reason: Reason = ""
    cancel_subsequent_bookings: bool | None = None
    seat_uid: Short | None = None


class RescheduleIn(msgspec.Struct, rename="camel"):
    start: Annotated[str, msgspec.Meta(max_length=40, examples=["2026-05-05T09:00:00Z"])]
    rescheduling_reason: Reason = ""
    rescheduled_by: Short | None = None
    seat_uid: Short | None = None


class DeclineIn(msgspec.Struct, rename="camel"):
    reason: Reason = ""


class AbsentAttendee(msgspec.Struct, rename="camel"):
    email: Short
    absent: bool


class MarkAbsentIn(msgspec.Struct, rename="camel"):
    """Cal.com's MarkAbsentBookingInput_2024_08_13: the host, and attendees by e-mail.

    The handler takes the body as a plain object and converts it here: Litestar reports a body
    field's validation error under the field's name, and a body field named like a dependency
    (``host``) would be taken for a failed dependency, a 500."""

    host: bool | None = None
    attendees: Annotated[list[AbsentAttendee], msgspec.Meta(max_length=50)] = []


def mark_absent_input(body: dict[str, Any]) -> MarkAbsentIn:
    try:
        return msgspec.convert(body, MarkAbsentIn)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"Invalid request: {exc}", "host") from None


LIST_PARAMETERS = (
    "status",
    "attendeeEmail",
    "attendeeName",
    "bookingUid",
    "eventTypeIds",
    "eventTypeId",
    "teamsIds",
    "teamId",
    *filters.BOUNDS,
    *filters.SORTS,
    "take",
    "skip",
)


def _all(request: Request[Any, Any, Any], name: str) -> list[str]:
    """Every value of a parameter, in either array spelling (``a=1&a=2``, ``a[]=1``)."""
    params = request.query_params
    return [*params.getall(name, []), *params.getall(f"{name}[]", [])]


def _one(request: Request[Any, Any, Any], name: str) -> str | None:
    found = _all(request, name)
    if len(found) > 1:
        raise InvalidInput(f"{name} takes one value.", name)
    return found[0] if found else None


def list_filters(request: Request[Any, Any, Any], take: int, skip: int) -> filters.BookingFilters:
    """Cal.com's query parameters, every one read (app/hosts/booking_filters.py)."""
    refuse_unknown_parameters(request, LIST_PARAMETERS)
    if _all(request, "teamsIds") or _all(request, "teamId"):
        raise InvalidInput("teamId and teamsIds are not supported: there are no teams here.")
    found = filters.BookingFilters(take=take, skip=skip)
    found.statuses = filters.parse_statuses(_all(request, "status"))
    found.attendee_email = _one(request, "attendeeEmail")
    found.attendee_name = _one(request, "attendeeName")
    found.booking_uid = _one(request, "bookingUid")
    found.event_type_ids = filters.parse_ids(
        _all(request, "eventTypeIds") + _all(request, "eventTypeId"), "eventTypeIds"
    )
    for name in filters.BOUNDS:
        value = _one(request, name)
        if value is not None:
            found.bounds[name] = filters.parse_moment(value, name)
    for name in request.query_params:
        if name.rstrip("[]") in filters.SORTS:
            key = name.rstrip("[]")
            found.sorts.append(filters.parse_sort(_one(request, key) or "", key))
    return found


async def booking_out(session: AsyncSession, booking: Booking) -> Envelope[formats.BookingOut]:
    return ok(formats.booking(booking, await first_uid(session, booking)))


class BookingController(Controller):
    path = "/bookings"
    tags = ["Bookings"]

    @get("/", summary="The host's bookings, filtered, sorted and paginated", responses=errors())
    async def list_bookings(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        status: Annotated[
            list[str] | None,
            Parameter(
                description="upcoming, unconfirmed, past, cancelled or recurring; several as "
                "status=a,b or status=a&status=b"
            ),
        ] = None,
        attendee_email: Annotated[str | None, Parameter(query="attendeeEmail")] = None,
        attendee_name: Annotated[str | None, Parameter(query="attendeeName")] = None,
        booking_uid: Annotated[str | None, Parameter(query="bookingUid")] = None,
        event_type_ids: Annotated[str | None, Parameter(query="eventTypeIds")] = None,
        event_type_id: Annotated[str | None, Parameter(query="eventTypeId")] = None,
        after_start: Annotated[str | None, Parameter(query="afterStart")] = None,
        before_end: Annotated[str | None, Parameter(query="beforeEnd")] = None,
        after_created_at: Annotated[str | None, Parameter(query="afterCreatedAt")] = None,
        before_created_at: Annotated[str | None, Parameter(query="beforeCreatedAt")] = None,
        after_updated_at: Annotated[str | None, Parameter(query="afterUpdatedAt")] = None,
        before_updated_at: Annotated[str | None, Parameter(query="beforeUpdatedAt")] = None,
        sort_start: Annotated[str | None, Parameter(query="sortStart")] = None,
        sort_end: Annotated[str | None, Parameter(query="sortEnd")] = None,
        sort_created: Annotated[str | None, Parameter(query="sortCreated")] = None,
        sort_updated_at: Annotated[str | None, Parameter(query="sortUpdatedAt")] = None,
        take: Annotated[int, Parameter(ge=1, le=250)] = 100,
        skip: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
    ) -> formats.BookingPage:
        # The typed parameters document the operation; the values are read from the query
        # itself, so that both array spellings and the order of the sorts are kept.
        wanted = list_filters(request, take, skip)
        rows, total = await filters.search_bookings(db_session, host.id, wanted)
        roots = [await first_uid(db_session, row) for row in rows]
        return formats.booking_page(rows, roots, total, take, skip)

    @post(
        "/",
        summary="Create a booking (no key needed: a guest's booking; the host's key books as "
        "the host)",
        responses=errors(403, 404, 429),
        opt={"rate_limited": True},  # the same per-IP budget (BOOK_RATE_LIMIT) as the widget
        security=[{}],  # with the router's apiKey: a key is optional
    )
    async def create_booking(
        self,
        caller: Host | None,
        db_session: AsyncSession,
        settings: Settings,
        data: BookingCreate,
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
            location=data.location,
            captcha_token=data.captcha_token,
            unsupported={
                "teamSlug": data.team_slug,
                "organizationSlug": data.organization_slug,
                "meetingUrl": data.meeting_url,
                "routing": data.routing,
                "instant": data.instant,
                "recurrenceCount": data.recurrence_count,
            },
        )
        booking = await host_bookings.create_api_booking(db_session, caller, request, settings)
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
        responses=errors(404),
    )
    async def cancel_booking(
        self, host: Host, db_session: AsyncSession, uid: str, data: CancelIn | None = None
    ) -> Envelope[formats.BookingOut]:
        if data is not None and (data.seat_uid or data.cancel_subsequent_bookings):
            raise InvalidInput(
                "seatUid and cancelSubsequentBookings are not supported: there are no seated "
                "or recurring bookings here."
            )
        reason = data.cancellation_reason if data else ""
        booking = await service.cancel_booking(db_session, uid, reason, host_id=host.id)
        return await booking_out(db_session, booking)

    @post(
        "/{uid:str}/reschedule",
        summary="Move a booking; answers the new booking (rescheduledFromUid names the old one)",
        responses=errors(404),
    )
    async def reschedule_booking(
        self, host: Host, db_session: AsyncSession, uid: str, data: RescheduleIn
    ) -> Envelope[formats.BookingOut]:
        if data.seat_uid:
            raise InvalidInput("seatUid is not supported: there are no seated bookings here.")
        start = parse_instant(data.start, "start")
        booking = await service.reschedule_booking(
            db_session, uid, start, reason=data.rescheduling_reason, host_id=host.id
        )
        return await booking_out(db_session, booking)

    @post(
        "/{uid:str}/confirm",
        summary="Accept a booking waiting for approval",
        status_code=HTTP_200_OK,
        responses=errors(404),
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
        responses=errors(404),
    )
    async def decline_booking(
        self, host: Host, db_session: AsyncSession, uid: str, data: DeclineIn | None = None
    ) -> Envelope[formats.BookingOut]:
        reason = data.reason if data else ""
        booking = await service.decline_booking(db_session, uid, reason, host_id=host.id)
        return await booking_out(db_session, booking)

    @post(
        "/{uid:str}/mark-absent",
        summary="Mark the host or attendees absent (no-show), once the booking has started",
        status_code=HTTP_200_OK,
        responses=errors(404),
    )
    async def mark_absent(
        self,
        host: Host,
        db_session: AsyncSession,
        uid: str,
        data: Annotated[
            dict[str, Any], Body(description="MarkAbsentBookingInput: host, attendees")
        ],
    ) -> Envelope[formats.BookingOut]:
        wanted = mark_absent_input(data)
        booking = await host_bookings.mark_absent(
            db_session,
            uid,
            host_id=host.id,
            host=wanted.host,
            attendees={a.email: a.absent for a in wanted.attendees},
        )
        return await booking_out(db_session, booking)

    @get(
        "/{uid:str}/calendar-links",
        summary="'Add to calendar' links: Google, Office 365, Outlook, Yahoo and an .ics file",
        responses=errors(404),
    )
    async def calendar_links(
        self, host: Host, db_session: AsyncSession, settings: Settings, uid: str
    ) -> Envelope[list[formats.CalendarLink]]:
        booking = await service.find_booking(db_session, uid, host_id=host.id)
        return ok(formats.calendar_links(settings, booking))

    @get(
        "/{uid:str}/references",
        summary="Where the booking was written outside this server (the host's calendar)",
        description="Empty while the host has no destination calendar connected.",
        responses=errors(404),
    )
    async def references(
        self,
        host: Host,
        db_session: AsyncSession,
        uid: str,
        kind: Annotated[
            str | None, Parameter(query="type", max_length=64, description="e.g. caldav_calendar")
        ] = None,
    ) -> Envelope[list[formats.BookingReference]]:
        booking = await service.find_booking(db_session, uid, host_id=host.id)
        found = await booking_references(db_session, booking.uid)
        return ok(
            [
                formats.BookingReference(
                    id=ref.id,
                    type=ref.type,
                    event_uid=ref.uid,
                    destination_calendar_id=ref.external_calendar_id or None,
                )
                for ref in found
                if ref.status == "written" and kind in (None, ref.type)
            ]
        )
