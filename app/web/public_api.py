"""The public scheduling API, exactly as seeds 000 and 001 describe it: no auth, CORS open."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings import service
from app.bookings.validation import parse_day
from app.settings import Settings
from app.web.formats import booking_links, public_booking, public_profile
from app.web.security import NO_STORE


class BookRequest(msgspec.Struct, rename="camel"):
    """Seed 001's request body. Types are checked here; meanings in app/bookings/validation.py."""

    start_time: str
    end_time: str
    invitee_name: str
    invitee_email: str
    invitee_timezone: str
    invitee_phone: str | None = None
    invitee_locale: str | None = None
    custom_fields: dict[str, Any] | None = None
    invitee_notes: str | None = None
    source: str | None = None
    honeypot_value: str | None = None
    captcha_token: str | None = None


class PublicError(msgspec.Struct):
    """Every error of the public API (seed 001): ``{"error": "…"}``."""

    error: str


ERROR_MEANINGS = {
    400: "The request is malformed or not acceptable; the message says why.",
    404: "No such host, event type or booking.",
    409: "The booking's state does not allow this change.",
    429: "Too many requests from this client; wait a minute.",
}


def public_errors(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for a public handler's error answers (400 always: bad parameters)."""
    return {
        code: ResponseSpec(data_container=PublicError, description=ERROR_MEANINGS[code])
        for code in sorted({400, *codes})
    }


def utm_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    """``utm_*`` query parameters, kept with the booking as its metadata."""
    return {k: v[:200] for k, v in request.query_params.items() if k.startswith("utm_")}


class PublicSchedulingController(Controller):
    path = "/api/public/scheduling"
    tags = ["Public scheduling API"]

    @get(
        "/{user_slug:str}",
        summary="Profile, branding and visible event types",
        responses=public_errors(404),
    )
    async def profile(self, db_session: AsyncSession, user_slug: str) -> dict[str, Any]:
        host = await service.find_host(db_session, user_slug)
        return public_profile(host, await service.visible_event_types(db_session, host))

    @get(
        "/{user_slug:str}/{event_slug:str}/slots",
        summary="Free slots grouped by the guest's date",
        description="At most 10,000 slots per answer: a range holding more is refused (400).",
        opt={"slot_reads": True},
        responses=public_errors(404, 429),
    )
    async def slots(
        self,
        db_session: AsyncSession,
        user_slug: str,
        event_slug: str,
        date_from: Annotated[str, Parameter(query="dateFrom", description="YYYY-MM-DD")],
        date_to: Annotated[str, Parameter(query="dateTo", description="YYYY-MM-DD")],
        timezone: Annotated[str, Parameter(description="The guest's IANA time zone")],
    ) -> list[dict[str, Any]]:
        first, last = parse_day(date_from, "dateFrom"), parse_day(date_to, "dateTo")
        event_type = await service.find_event_type(db_session, user_slug, event_slug)
        days = await service.list_slots(db_session, event_type, first, last, timezone)
        # The slot engine's instants are UTC on whole seconds, which msgspec writes as seed 000
        # does (2026-03-16T14:00:00Z), and in C: a month holds hundreds of them.
        return [
            {
                "date": day.day.isoformat(),
                "slots": [{"startTime": s.start, "endTime": s.end} for s in day.slots],
            }
            for day in days
        ]

    @post(
        "/{user_slug:str}/{event_slug:str}/book",
        summary="Create a booking",
        opt={"rate_limited": True},
        status_code=201,
        cache_control=NO_STORE,
        responses=public_errors(404, 409, 429),
    )
    async def book(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        user_slug: str,
        event_slug: str,
        data: BookRequest,
        settings: Settings,
    ) -> dict[str, Any]:
        body = msgspec.to_builtins(data)  # seed 001 (camelCase) names, as the service reads them
        booking = await service.create_booking(
            db_session, user_slug, event_slug, body, metadata=utm_of(request), settings=settings
        )
        return {**public_booking(booking), **booking_links(settings, booking)}
