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
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings import service
from app.bookings.errors import BookingError, Conflict
from app.bookings.followup import current_booking, resend_links
from app.bookings.tokens import (
    GUEST_PURPOSES,
    HOST_PURPOSES,
    InvalidToken,
    SpentToken,
    TokenClaims,
    booking_for_token,
    check_current,
)
from app.bookings.validation import parse_instant
from app.dates import Formats
from app.db.models import CANCELLED, CONFIRMED, DECLINED, PENDING, RESCHEDULED, Booking
from app.i18n import _, current_locale, lazy_gettext, set_locale, text_direction
from app.notify.email import when
from app.settings import Settings
from app.web.formats import booking_links, public_booking
from app.web.forms import check_same_origin
from app.web.public_api import PublicError, public_errors
from app.web.security import NO_STORE

DEFAULT_COLOR = "#2563eb"
STATUS_TEXT = {
    CONFIRMED: lazy_gettext("Confirmed"),
    PENDING: lazy_gettext("Waiting for the host's approval"),
    CANCELLED: lazy_gettext("Cancelled"),
    DECLINED: lazy_gettext("Declined"),
    RESCHEDULED: lazy_gettext("Moved to another time"),
}
# What each page asks, its button, whether it asks for a reason, and what it says when done.
# Lazy: read in the page's language when the page is rendered.
ACTIONS = {
    "cancel": (
        lazy_gettext("Cancel this booking?"),
        lazy_gettext("Cancel booking"),
        True,
        lazy_gettext("Your booking has been cancelled."),
    ),
    "reschedule": (
        lazy_gettext("Move this booking?"),
        lazy_gettext("Choose a new time"),
        False,
        "",
    ),
    "confirm": (
        lazy_gettext("Confirm this booking?"),
        lazy_gettext("Confirm booking"),
        False,
        lazy_gettext("The booking is confirmed."),
    ),
    "decline": (
        lazy_gettext("Decline this booking?"),
        lazy_gettext("Decline booking"),
        True,
        lazy_gettext("The booking has been declined."),
    ),
}
DONE_NOTE = {
    "cancel": lazy_gettext(
        "The time is free again. We have emailed a confirmation of the cancellation."
    ),
    "confirm": lazy_gettext("We have emailed the guest the invitation."),
    "decline": lazy_gettext("We have told the guest, and the time is free again."),
}


@dataclass(frozen=True)
class Viewer:
    """What ``base.html`` needs to know about the reader of a link page."""

    locale_tag: str
    embed: bool = False
    parent_origin: str = ""
    tz_detect: bool = False
    theme: str = ""

    @property
    def dir(self) -> str:
        return text_direction(self.locale_tag)


def _reader(booking: Booking, purpose: str) -> tuple[str, str]:
    """(locale, zone) of who a link is for: the host for confirm/decline, else the guest. The
    page reads in their language and shows times in their zone, whatever the browser says."""
    if purpose in HOST_PURPOSES:
        return booking.host.locale, booking.host.timezone
    return booking.invitee_locale, booking.invitee_timezone


def _changed(booking: Booking, purpose: str) -> str:
    """What to say when a link's booking moved on: what happened to it, or that a newer email
    has the working link (a guest link for a booking that still holds its time)."""
    if purpose not in HOST_PURPOSES and booking.is_held:
        return _(
            "This link is out of date: the booking has changed since it was sent. "
            "Please use the link in the latest email about it."
        )
    return changed_text(booking)


def changed_text(booking: Booking) -> str:
    """``service.changed_message`` in the reader's language."""
    messages = {
        CANCELLED: _("This booking has already been cancelled."),
        DECLINED: _("This booking has been declined."),
        RESCHEDULED: _("This booking has been moved to another time."),
        CONFIRMED: _("This booking has already been confirmed."),
    }
    return messages.get(booking.status, _("This booking has changed since this link was sent."))


def _use_reader(booking: Booking, purpose: str) -> tuple[str, str]:
    locale, zone = _reader(booking, purpose)
    set_locale(locale)
    return locale, zone


def _context(booking: Booking, purpose: str, token: str, **extra: Any) -> dict[str, Any]:
    host = booking.host
    locale, zone = _use_reader(booking, purpose)
    title, button, asks_reason, _done = ACTIONS[purpose]
    return {
        "guest": Viewer(locale_tag=locale),
        "host": host,
        "color": host.brand_color if host.brand_color.startswith("#") else DEFAULT_COLOR,
        "booking": booking,
        "event_type": booking.event_type,
        "when": when(booking.start, booking.end, zone, locale),
        "zone": Formats.of(locale, zone).zone_name(),
        "status_text": STATUS_TEXT.get(booking.status, booking.status),
        "purpose": purpose,
        "token": token,
        "title": title,
        "button": button,
        "asks_reason": asks_reason,
        **extra,
    }


def _problem(
    exc: BookingError,
    booking: Booking | None = None,
    purpose: str = "",
    current: Booking | None = None,
    token: str = "",
) -> Template:
    """A clear page for a bad, expired or spent link; the status says which (404, 410, 409).

    A guest's link to a booking that was moved since shows the booking as it is now (``current``)
    and offers to email its current links."""
    reason = getattr(exc, "reason", "used" if isinstance(exc, Conflict) else "invalid")
    headings = {
        "invalid": _("This link does not work"),
        "expired": _("This link has expired"),
        "used": _("Nothing to do"),
    }
    message = exc.message
    if isinstance(exc, InvalidToken) and reason in ("invalid", "expired"):
        message = (
            _("This link has expired: the meeting has already started.")
            if reason == "expired" and purpose not in HOST_PURPOSES
            else _("This link has expired: the requested time has already passed.")
            if reason == "expired"
            else _("This link is not valid. Please use the link from your email.")
        )
    context: dict[str, Any] = {
        "guest": Viewer(locale_tag=current_locale()),
        "host": booking.host if booking else None,
        "color": DEFAULT_COLOR,
        "heading": headings.get(reason, headings["invalid"]),
        "message": message,
        "reason": reason,
        "booking": booking,
        "current": None,
    }
    if booking is not None:
        locale, zone = _use_reader(booking, purpose)
        if reason == "used":
            context["message"] = _changed(booking, purpose)
        context["guest"] = Viewer(locale_tag=locale)
        context["color"] = booking.host.brand_color or DEFAULT_COLOR
        context["status_text"] = STATUS_TEXT.get(booking.status, booking.status)
        context["when"] = when(booking.start, booking.end, zone, locale)
        context["zone"] = Formats.of(locale, zone).zone_name()
        if current is not None and current.uid != booking.uid:
            context["heading"] = _("This booking has moved")
            context["message"] = _("Your booking was moved. This is the booking as it is now.")
            context["current"] = current
            context["current_when"] = when(current.start, current.end, zone, locale)
            context["current_status"] = STATUS_TEXT.get(current.status, current.status)
            context["resend_url"] = f"/booking/{token}/{purpose}/resend" if current.is_held else ""
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
            current = None
            if booking is not None and purpose in GUEST_PURPOSES:
                current = await current_booking(session, booking)
            return _problem(exc, booking, purpose, current, token)
        except InvalidToken as exc:
            return _problem(exc, purpose=purpose)
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
            return _problem(exc, booking, purpose)
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
            query = urlencode({"reschedule": token, "locale": booking.invitee_locale})
            page.context["next_url"] = f"{slug}?{query}"
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

    @post(["/cancel/resend", "/reschedule/resend"], status_code=200, opt={"rate_limited": True})
    async def resend(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        settings: Settings,
        token: str,
    ) -> Template:
        """An old guest link asks for the current links: they go to the booking's own email
        address (never one typed here), at most once every ten minutes."""
        _refuse_cross_site(request, settings)
        purpose = request.url.path.rstrip("/").split("/")[-2]
        try:
            booking, _claims = await booking_for_token(db_session, settings, purpose, token)
        except InvalidToken as exc:
            return _problem(exc, purpose=purpose)
        current = await current_booking(db_session, booking)
        sent = await resend_links(db_session, current)
        _use_reader(current, purpose)
        note = (
            _("We have emailed the current links to %(email)s.", email=current.invitee_email)
            if sent
            else _("We sent the links a few minutes ago. Please check your inbox and spam folder.")
            if current.is_held
            else changed_text(current)
        )
        context = _context(current, purpose, token, done=_("Check your email"))
        context["note"] = note
        return Template("links/done.html", context=context)


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
