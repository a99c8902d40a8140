"""Console → Bookings: the host's bookings by tab and filter, one booking's page, and its actions.

Every action goes through the booking services the guest's links and ``/v2`` use
(``app.bookings.service``: confirm, decline, cancel, reschedule; ``app.hosts.bookings``:
mark absent), so the same rules, emails and webhooks apply. The forms carry the booking's version:
the service compares and bumps it, so a second submit of one form (or a change made elsewhere in
the meantime) does nothing and the host is told the booking changed. The console is the host's
door (``app.web.context``), so the emails say the host made the change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from babel.dates import format_skeleton
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings import service
from app.bookings.errors import BookingError, Conflict, NotFound, SlotUnavailable
from app.bookings.locations import describe
from app.bookings.validation import parse_instant
from app.dates import Formats, babel_locale
from app.db.models import CANCELLED, CONFIRMED, DECLINED, PENDING, RESCHEDULED, Booking, Host
from app.hosts import booking_list
from app.hosts.booking_history import booking_history
from app.hosts.booking_moves import move_choices
from app.hosts.bookings import attendee_emails, mark_absent
from app.i18n import _
from app.settings import Settings
from app.web.console.base import ConsoleController, done, page
from app.web.formats import iso_z

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
FormData = Annotated[dict[str, Any], Form]
Answer = Redirect | ClientRedirect
SECTION = "bookings"


def _fmt(host: Host) -> Formats:
    return Formats.of(host.locale, host.timezone)


def _url(booking: Booking | str, action: str = "") -> str:
    uid = booking if isinstance(booking, str) else booking.uid
    return f"/console/bookings/{uid}" + (f"/{action}" if action else "")


def _field(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value)


def _version(data: dict[str, Any]) -> int | None:
    text = _field(data, "version").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _date(value: str | None) -> date | None:
    """A date from a form or query (``2026-12-31``); ``ValueError`` if it is not one."""
    text = (value or "").strip()
    return date.fromisoformat(text) if text else None


def _date_or_none(value: str | None) -> date | None:
    try:
        return _date(value)
    except ValueError:
        return None


def status_badge(booking: Booking, now: datetime) -> tuple[str, str]:
    """The booking's state in the host's words, and its badge's class."""
    if booking.status == PENDING:
        if booking.end <= now:
            return _("Expired without approval"), "badge"
        return _("Waiting for approval"), "badge-warn"
    if booking.status == CANCELLED:
        return _("Cancelled"), "badge-danger"
    if booking.status == DECLINED:
        return _("Declined"), "badge-danger"
    if booking.status == RESCHEDULED:
        return _("Moved to another time"), "badge-info"
    if booking.absent_attendees:
        return _("No-show"), "badge-warn"
    if booking.end <= now:
        return _("Took place"), "badge"
    return _("Confirmed"), "badge-ok"


def _changed(request: Request[Any, Any, Any], booking_uid: str) -> Answer:
    return done(
        request,
        _(
            "This booking changed since you opened it (someone acted on it, or the form was sent "
            "twice), so nothing was done. Here it is as it is now."
        ),
        _url(booking_uid),
        "error",
    )


async def _start_over(db_session: AsyncSession, host: Host) -> None:
    """End a change the service refused (it may have rolled back already, which expires every
    object) and read the host again: the page about the refusal shows the host's name."""
    await db_session.rollback()
    await db_session.refresh(host)


def _reason_error(exc: BookingError) -> str:
    return _("The reason cannot contain control characters.") if exc.field else exc.message


def _missing() -> Template:
    return page(
        "console/bookings/missing.html",
        section=SECTION,
        status_code=404,
    )


def _answers(booking: Booking) -> list[tuple[str, str]]:
    """The guest's answers to the event type's questions, under the questions' labels (answers to
    questions removed since come last, under their key)."""
    answers = dict(booking.custom_fields or {})
    shown: list[tuple[str, str]] = []

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return str(value)

    for question in booking.event_type.questions or []:
        key = question.get("key")
        if key in answers:
            shown.append((str(question.get("label") or key), text(answers.pop(key))))
    shown += [(str(key), text(value)) for key, value in answers.items()]
    return [(label, value) for label, value in shown if value != ""]


def _language(tag: str, host: Host) -> str:
    try:
        name = babel_locale(tag).get_display_name(babel_locale(host.locale))
    except (ValueError, AttributeError):
        name = None
    return f"{name} ({tag})" if name else tag


class BookingsController(ConsoleController):
    path = "/console/bookings"
    section = SECTION

    @get("/", name="console:bookings")
    async def list_page(
        self,
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
        tab: str | None = None,
        event_type: str | None = None,
        date_from: Annotated[str | None, Parameter(query="from")] = None,
        date_to: Annotated[str | None, Parameter(query="to")] = None,
        guest: str | None = None,
        page_number: Annotated[str | None, Parameter(query="page")] = None,
    ) -> Template:
        query = booking_list.parse_list_query(
            tab, event_type, date_from, date_to, guest, page_number
        )
        found = await booking_list.list_for_console(db_session, host, query)
        event_types = await booking_list.host_event_types(db_session, host)
        ever = found.total > 0 or await booking_list.has_bookings(db_session, host)
        return page(
            "console/bookings/list.html",
            section=SECTION,
            status_code=400 if query.errors else 200,
            query=query,
            found=found,
            event_types=event_types,
            waiting=await booking_list.waiting_count(db_session, host),
            ever=ever,
            public_url=f"{settings.public_url.rstrip('/')}/{host.slug}",
            fmt=_fmt(host),
            now=clock.utcnow(),
            badge=status_badge,
        )

    @get("/{uid:str}", name="console:booking")
    async def booking_page(self, host: Host, db_session: AsyncSession, uid: str) -> Template:
        try:
            booking = await service.find_booking(db_session, uid, host_id=host.id)
        except NotFound:
            return _missing()
        history = await booking_history(db_session, booking)
        fmt = _fmt(host)
        guest_fmt = Formats.of(host.locale, booking.invitee_timezone)
        return page(
            "console/bookings/detail.html",
            section=SECTION,
            booking=booking,
            history=history,
            fmt=fmt,
            guest_fmt=guest_fmt,
            now=clock.utcnow(),
            badge=status_badge,
            answers=_answers(booking),
            place=describe(booking.event_type, booking, for_host=True),
            language=_language(booking.invitee_locale, host),
            attendees=attendee_emails(booking),
            absent={email.lower() for email in booking.absent_attendees or []},
            statuses={"pending": PENDING, "confirmed": CONFIRMED},
        )

    # Confirm and decline (bookings waiting for approval) ----------------------------------

    @post("/{uid:str}/confirm")
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        uid: str,
        data: FormData,
    ) -> Answer | Template:
        version = _version(data)
        if version is None:
            return _changed(request, uid)
        try:
            await service.confirm_booking(
                db_session, uid, expected_version=version, host_id=host.id
            )
        except NotFound:
            return _missing()
        except Conflict:
            return _changed(request, uid)
        return done(request, _("Booking confirmed. The guest gets an email."), _url(uid))

    @get("/{uid:str}/decline")
    async def decline_page(self, host: Host, db_session: AsyncSession, uid: str) -> Template:
        return await self._ask(db_session, host, uid, "decline")

    @post("/{uid:str}/decline")
    async def decline(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        uid: str,
        data: FormData,
    ) -> Answer | Template:
        return await self._end(request, db_session, host, uid, data, "decline")

    # Cancel ---------------------------------------------------------------------------------

    @get("/{uid:str}/cancel")
    async def cancel_page(self, host: Host, db_session: AsyncSession, uid: str) -> Template:
        return await self._ask(db_session, host, uid, "cancel")

    @post("/{uid:str}/cancel")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        uid: str,
        data: FormData,
    ) -> Answer | Template:
        return await self._end(request, db_session, host, uid, data, "cancel")

    async def _ask(
        self,
        db_session: AsyncSession,
        host: Host,
        uid: str,
        action: str,
        *,
        reason: str = "",
        error: str = "",
        status_code: int = 200,
    ) -> Template:
        """The confirmation page of a cancel or decline: a form with the reason."""
        try:
            booking = await service.find_booking(db_session, uid, host_id=host.id)
        except NotFound:
            return _missing()
        return page(
            "console/bookings/end.html",
            section=SECTION,
            status_code=status_code,
            booking=booking,
            action=action,
            allowed=booking.status == PENDING if action == "decline" else booking.is_held,
            reason=reason,
            error=error,
            fmt=_fmt(host),
            now=clock.utcnow(),
            badge=status_badge,
        )

    async def _end(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        host: Host,
        uid: str,
        data: dict[str, Any],
        action: str,
    ) -> Answer | Template:
        version = _version(data)
        reason = _field(data, "reason")
        if version is None:
            return _changed(request, uid)
        try:
            if action == "cancel":
                await service.cancel_booking(
                    db_session, uid, reason, expected_version=version, host_id=host.id
                )
                message = _("Booking cancelled. The guest gets an email saying so.")
            else:
                await service.decline_booking(
                    db_session, uid, reason, expected_version=version, host_id=host.id
                )
                message = _("Booking declined. The guest gets an email saying so.")
        except NotFound:
            return _missing()
        except Conflict:
            return _changed(request, uid)
        except BookingError as exc:
            await _start_over(db_session, host)
            return await self._ask(
                db_session,
                host,
                uid,
                action,
                reason=reason,
                error=_reason_error(exc),
                status_code=400,
            )
        return done(request, message, _url(uid))

    # Reschedule on the guest's behalf -------------------------------------------------------

    @get("/{uid:str}/reschedule")
    async def reschedule_page(
        self,
        host: Host,
        db_session: AsyncSession,
        uid: str,
        day: str | None = None,
        days_from: Annotated[str | None, Parameter(query="from")] = None,
    ) -> Template:
        error = ""
        try:
            chosen = _date(day)
        except ValueError:
            chosen, error = None, _("Enter a date such as 2026-12-31.")
        return await self._move_page(
            db_session,
            host,
            uid,
            chosen,
            _date_or_none(days_from),
            day_error=error,
            status_code=400 if error else 200,
        )

    async def _move_page(
        self,
        db_session: AsyncSession,
        host: Host,
        uid: str,
        day: date | None,
        days_from: date | None = None,
        *,
        day_error: str = "",
        error: str = "",
        reason: str = "",
        status_code: int = 200,
    ) -> Template:
        try:
            booking = await service.find_booking(db_session, uid, host_id=host.id)
        except NotFound:
            return _missing()
        now, fmt = clock.utcnow(), _fmt(host)
        choices = None
        if booking.is_held and booking.end > now:
            choices = await move_choices(
                db_session, booking, host.timezone, day, now, start=days_from
            )
        return page(
            "console/bookings/reschedule.html",
            section=SECTION,
            status_code=status_code,
            booking=booking,
            choices=choices,
            fmt=fmt,
            now=now,
            badge=status_badge,
            day_error=day_error,
            error=error,
            reason=reason,
            iso_z=iso_z,
            day_label=lambda day: format_skeleton("MMMEd", day, locale=fmt.locale),
        )

    @post("/{uid:str}/reschedule")
    async def reschedule(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        uid: str,
        data: FormData,
    ) -> Answer | Template:
        version = _version(data)
        reason = _field(data, "reason")
        start_text = _field(data, "start").strip()
        day = _date_or_none(_field(data, "day"))
        days_from = _date_or_none(_field(data, "from"))
        if version is None:
            return _changed(request, uid)
        if not start_text:
            return await self._move_page(
                db_session,
                host,
                uid,
                day,
                days_from,
                error=_("Choose one of the free times."),
                reason=reason,
                status_code=400,
            )
        try:
            start = parse_instant(start_text, "start")
            moved = await service.reschedule_booking(
                db_session, uid, start, reason=reason, expected_version=version, host_id=host.id
            )
        except NotFound:
            return _missing()
        except Conflict:
            return _changed(request, uid)
        except SlotUnavailable:
            await _start_over(db_session, host)
            error = _("Someone has just taken that time. Nothing was changed: choose another one.")
            return await self._move_page(
                db_session, host, uid, day, days_from, error=error, reason=reason, status_code=409
            )
        except BookingError as exc:
            await _start_over(db_session, host)
            error = (
                _reason_error(exc)
                if exc.field == "reschedulingReason"
                else _(
                    "That time is not one of this event type's free times. Nothing was changed: "
                    "choose one of the times listed."
                )
            )
            return await self._move_page(
                db_session, host, uid, day, days_from, error=error, reason=reason, status_code=400
            )
        return done(
            request,
            _(
                "Booking moved to %(when)s. The guest gets an email with the new time.",
                when=_fmt(host).when(moved.start, moved.end),
            ),
            _url(moved),
        )

    # No-show -------------------------------------------------------------------------------

    @post("/{uid:str}/no-show")
    async def no_show(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        uid: str,
        data: FormData,
    ) -> Answer | Template:
        marked = data.get("absent", [])
        marked = {str(e).lower() for e in (marked if isinstance(marked, list) else [marked])}
        try:
            booking = await service.find_booking(db_session, uid, host_id=host.id)
            attendees = {email: email in marked for email in attendee_emails(booking)}
            host_absent = bool(data.get("host_absent"))
            await mark_absent(
                db_session, uid, host_id=host.id, host=host_absent, attendees=attendees
            )
        except NotFound:
            return _missing()
        except BookingError:
            await _start_over(db_session, host)
            return done(
                request,
                _("Only a confirmed booking that has started can be marked as a no-show."),
                _url(uid),
                "error",
            )
        return done(request, _("Attendance saved."), _url(uid))
