"""The emailed links: pages for guests (cancel, reschedule) and hosts (confirm, decline), and the
JSON equivalents for API users.

Mail scanners open links, so a GET only shows the booking and one button; only the POST from that
page acts. The token in the URL is the only credential: it names one booking, one purpose and one
version of the booking, so acting twice finds the booking changed and says what happened instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings import service
from app.bookings.errors import BookingError, Conflict
from app.bookings.tokens import (
    HOST_PURPOSES,
    InvalidToken,
    SpentToken,
    TokenClaims,
    booking_for_token,
    check_current,
)
from app.bookings.validation import parse_instant
from app.db.models import CANCELLED, DECLINED, PENDING, RESCHEDULED, Booking
from app.i18n import _
from app.notify.email import when
from app.settings import Settings
from app.web.formats import booking_links, public_booking
from app.web.forms import check_same_origin
from app.web.public_api import PublicError, public_errors
from app.web.security import NO_STORE

DEFAULT_COLOR = "#2563eb"
STATUS_TEXT = {
    "Confirmed": "Confirmed",
    PENDING: "Waiting for the host's approval",
    CANCELLED: "Cancelled",
    DECLINED: "Declined",
    RESCHEDULED: "Moved to another time",
}
# What each page asks, its button, whether it asks for a reason, and what it says when done.
ACTIONS = {
    "cancel": ("Cancel this booking?", "Cancel booking", True, "Your booking has been cancelled."),
    "reschedule": ("Move this booking?", "Choose a new time", False, ""),
    "confirm": ("Confirm this booking?", "Confirm booking", False, "The booking is confirmed."),
    "decline": ("Decline this booking?", "Decline booking", True, "The booking has been declined."),
}
DONE_NOTE = {
    "cancel": "The time is free again. We have emailed a confirmation of the cancellation.",
    "confirm": "We have emailed the guest the invitation.",
    "decline": "We have told the guest, and the time is free again.",
}


@dataclass(frozen=True)
class Viewer:
    """What ``base.html`` needs to know about the reader of a link page."""

    locale_tag: str
    embed: bool = False
    parent_origin: str = ""
    tz_detect: bool = False


OUT_OF_DATE = (
    "This link is out of date: the booking has changed since it was sent. "
    "Please use the link in the latest email about it."
)


def _changed(booking: Booking, purpose: str) -> str:
    """What to say when a link's booking moved on: what happened to it, or that a newer email
    has the working link (a guest link for a booking that still holds its time)."""
    if purpose not in HOST_PURPOSES and booking.is_held:
        return OUT_OF_DATE
    return service.changed_message(booking)


def _context(booking: Booking, purpose: str, token: str, **extra: Any) -> dict[str, Any]:
    host = booking.host
    for_host = purpose in HOST_PURPOSES
    zone = host.timezone if for_host else booking.invitee_timezone
    locale = host.locale if for_host else booking.invitee_locale
    title, button, asks_reason, _ = ACTIONS[purpose]
    return {
        "guest": Viewer(locale_tag="en"),  # the page text is English; dates are localised
        "host": host,
        "color": host.brand_color if host.brand_color.startswith("#") else DEFAULT_COLOR,
        "booking": booking,
        "event_type": booking.event_type,
        "when": when(booking.start, booking.end, zone, locale),
        "zone": zone,
        "status_text": STATUS_TEXT.get(booking.status, booking.status),
        "purpose": purpose,
        "token": token,
        "title": title,
        "button": button,
        "asks_reason": asks_reason,
        **extra,
    }


def _problem(exc: BookingError, booking: Booking | None = None) -> Template:
    """A clear page for a bad, expired or spent link; the status says which (404, 410, 409)."""
    reason = getattr(exc, "reason", "used" if isinstance(exc, Conflict) else "invalid")
    headings = {
        "invalid": "This link does not work",
        "expired": "This link has expired",
        "used": "Nothing to do",
    }
    context: dict[str, Any] = {
        "guest": Viewer(locale_tag="en"),
        "host": booking.host if booking else None,
        "color": DEFAULT_COLOR,
        "heading": headings.get(reason, headings["invalid"]),
        "message": exc.message,
        "reason": reason,
        "booking": booking,
    }
    if booking is not None:
        context["color"] = booking.host.brand_color or DEFAULT_COLOR
        context["status_text"] = STATUS_TEXT.get(booking.status, booking.status)
        context["when"] = when(
            booking.start, booking.end, booking.invitee_timezone, booking.invitee_locale
        )
    return Template("links/problem.html", context=context, status_code=exc.status_code)


async def _load(
    session: AsyncSession, settings: Settings, purpose: str, token: str
) -> tuple[Booking, TokenClaims]:
    """The booking of a token that is valid *now*; raises ``InvalidToken`` or ``SpentToken``."""
    booking, claims = await booking_for_token(session, settings, purpose, token)
    check_current(claims, booking, _changed(booking, purpose))
    return booking, claims


async def _act_once(
    session: AsyncSession,
    claims: TokenClaims,
    purpose: str,
    change: Callable[[], Awaitable[Booking]],
) -> Booking:
    """Run the token's ``change``; if another request carrying the same token (or any other
    change) got there first, answer exactly as a later visitor of the link is answered."""
    try:
        return await change()
    except Conflict:
        booking = await service.find_booking(session, claims.uid, fresh=True)
        raise SpentToken(_changed(booking, purpose)) from None


def _refuse_cross_site(request: Request[Any, Any, Any], settings: Settings) -> None:
    """The token is the credential; still, a page on another site has no business posting it:
    the same ``Origin``/``Sec-Fetch-Site`` check as the booking form's."""
    check_same_origin(request, settings, _("This form can only be sent from its own page."))


async def _act(session: AsyncSession, purpose: str, claims: TokenClaims, reason: str) -> Booking:
    """The change a host or guest link page makes, acting at most once per token."""
    changes: dict[str, Callable[[], Awaitable[Booking]]] = {
        "cancel": lambda: service.cancel_booking(
            session, claims.uid, reason, expected_version=claims.version
        ),
        "confirm": lambda: service.confirm_booking(
            session, claims.uid, expected_version=claims.version
        ),
        "decline": lambda: service.decline_booking(
            session, claims.uid, reason, expected_version=claims.version
        ),
    }
    return await _act_once(session, claims, purpose, changes[purpose])


class LinkPagesController(Controller):
    """``/booking/{token}/{cancel|reschedule|confirm|decline}``: GET shows, POST acts."""

    path = "/booking/{token:str}"
    include_in_schema = False
    cache_control = NO_STORE

    async def _show(
        self, session: AsyncSession, settings: Settings, purpose: str, token: str
    ) -> Template:
        booking: Booking | None = None
        try:
            booking, claims = await booking_for_token(session, settings, purpose, token)
            check_current(claims, booking, _changed(booking, purpose))
        except SpentToken as exc:
            return _problem(exc, booking)
        except InvalidToken as exc:
            return _problem(exc)
        return Template("links/action.html", context=_context(booking, purpose, token))

    async def _post(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        settings: Settings,
        purpose: str,
        token: str,
        form: dict[str, str],
    ) -> Template:
        _refuse_cross_site(request, settings)
        booking: Booking | None = None
        try:
            booking, claims = await _load(session, settings, purpose, token)
            booking = await _act(session, purpose, claims, str(form.get("reason") or "")[:2000])
        except SpentToken as exc:
            if booking is not None:
                booking = await service.find_booking(session, booking.uid, fresh=True)
            return _problem(exc, booking)
        except InvalidToken as exc:
            return _problem(exc)
        context = _context(booking, purpose, token, done=ACTIONS[purpose][3])
        context["note"] = DONE_NOTE[purpose]
        return Template("links/done.html", context=context)

    @get("/cancel")
    async def cancel_page(
        self, db_session: AsyncSession, settings: Settings, token: str
    ) -> Template:
        return await self._show(db_session, settings, "cancel", token)

    @post("/cancel", status_code=200, opt={"rate_limited": True})
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        settings: Settings,
        token: str,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        return await self._post(request, db_session, settings, "cancel", token, data)

    @get("/reschedule")
    async def reschedule_page(
        self, db_session: AsyncSession, settings: Settings, token: str
    ) -> Template:
        """Shows the booking; its one button opens the booking page in reschedule mode."""
        page = await self._show(db_session, settings, "reschedule", token)
        if page.template_name == "links/action.html":
            booking: Booking = page.context["booking"]
            slug = f"/{booking.host.slug}/{booking.event_type.slug}"
            page.context["next_url"] = f"{slug}?reschedule={token}"
        return page

    @get("/confirm")
    async def confirm_page(
        self, db_session: AsyncSession, settings: Settings, token: str
    ) -> Template:
        return await self._show(db_session, settings, "confirm", token)

    @post("/confirm", status_code=200, opt={"rate_limited": True})
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        settings: Settings,
        token: str,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        return await self._post(request, db_session, settings, "confirm", token, data)

    @get("/decline")
    async def decline_page(
        self, db_session: AsyncSession, settings: Settings, token: str
    ) -> Template:
        return await self._show(db_session, settings, "decline", token)

    @post("/decline", status_code=200, opt={"rate_limited": True})
    async def decline(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        settings: Settings,
        token: str,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        return await self._post(request, db_session, settings, "decline", token, data)


# JSON ------------------------------------------------------------------------------------------


class CancelRequest(msgspec.Struct, rename="camel"):
    cancellation_reason: str | None = None


class RescheduleRequest(msgspec.Struct, rename="camel"):
    start_time: str
    end_time: str | None = None
    rescheduling_reason: str | None = None


def token_errors() -> dict[int, ResponseSpec]:
    """400 bad input, 404 a token we did not sign, 409 the booking changed, 410 the link expired."""
    return {
        **public_errors(404, 409, 429),
        410: ResponseSpec(data_container=PublicError, description="The link has expired."),
    }


class BookingLinksController(Controller):
    """The link actions for API users: errors are ``{"error": …}`` with 400, 404, 409 or 410."""

    path = "/api/public/scheduling/bookings/{token:str}"
    tags = ["Public scheduling API"]
    cache_control = NO_STORE

    @post(
        "/cancel",
        status_code=200,
        opt={"rate_limited": True},
        summary="Cancel by token",
        responses=token_errors(),
    )
    async def cancel(
        self,
        db_session: AsyncSession,
        settings: Settings,
        token: str,
        data: CancelRequest | None = None,
    ) -> dict[str, Any]:
        _, claims = await _load(db_session, settings, "cancel", token)
        reason = (data.cancellation_reason if data else None) or ""
        booking = await _act(db_session, "cancel", claims, reason)
        return public_booking(booking)

    @post(
        "/reschedule",
        status_code=201,
        opt={"rate_limited": True},
        summary="Reschedule by token",
        responses=token_errors(),
    )
    async def reschedule(
        self, db_session: AsyncSession, settings: Settings, token: str, data: RescheduleRequest
    ) -> dict[str, Any]:
        """Moves the booking; the answer is the new booking (``rescheduledFromUid`` = the old)."""
        start = parse_instant(data.start_time, "startTime")
        end = parse_instant(data.end_time, "endTime") if data.end_time else None
        if end is not None and end <= start:
            raise BookingError("endTime must be after startTime.", "endTime")
        _, claims = await _load(db_session, settings, "reschedule", token)
        booking = await _act_once(
            db_session,
            claims,
            "reschedule",
            lambda: service.reschedule_booking(
                db_session,
                claims.uid,
                start,
                end,
                data.rescheduling_reason or "",
                expected_version=claims.version,
            ),
        )
        return {
            **public_booking(booking),
            "rescheduledFromUid": booking.rescheduled_from_uid,
            **booking_links(settings, booking),
        }
