"""The guest-facing widget: host page, booking page and the htmx fragments it is made of.

Each fragment URL answers an htmx request with its fragment and any other request with the whole
page in the same state, so direct links, the back button and browsers without JavaScript work.
Handlers parse, call the booking service and pick a template; ``app.web.widget_view`` shapes what
the templates show.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import Provide
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings import service
from app.bookings.errors import Conflict, InvalidInput, NotFound, SlotUnavailable
from app.bookings.locations import describe, phone_mode
from app.bookings.tokens import TokenClaims, booking_for_token, check_current
from app.db.models import PENDING, Booking, EventType, Host
from app.i18n import _
from app.notify.ics import build_invite
from app.scheduling import Interval, local_day_window
from app.settings import Settings
from app.web.formats import iso_z
from app.web.forms import check_same_origin, expired_form, form_token, form_token_valid
from app.web.security import NO_STORE, allow_framing
from app.web.widget_view import (
    Guest,
    Month,
    booked_payload,
    booking_ref,
    brand_css,
    build_month,
    clamp_month,
    clock_choices,
    form_message,
    google_calendar_url,
    hex_color,
    month_bounds,
    parse_date,
    parse_month,
    parse_start,
    read_booking_ref,
    zone_choices,
    zone_view,
)

DEFAULT_COLOR = "#2563eb"
FORM_FIELDS = ("inviteeName", "inviteeEmail", "inviteePhone", "inviteeNotes")
SLOT_READS = {"slot_reads": True}  # counted against SLOT_RATE_LIMIT


def slot_taken() -> str:
    return _("Sorry, someone has just taken that time. Please choose another one.")


def pick_again() -> str:
    return _("Please choose one of the available times.")


def moved_on() -> str:
    return _(
        "This booking changed while you were choosing. Please open the link in your latest email."
    )


def page_context(guest: Guest, host: Host, event_type: EventType | None = None) -> dict[str, Any]:
    color = guest.color or hex_color(host.brand_color) or DEFAULT_COLOR
    base = f"/{host.slug}/{event_type.slug}" if event_type else f"/{host.slug}"
    return {
        "guest": guest,
        "host": host,
        "event_type": event_type,
        "base": base,
        "color": color,
        "place": describe(event_type) if event_type else None,
        "phone_mode": phone_mode(event_type) if event_type else "hidden",
    }


def day_slots(slots: list[Interval], day: date, guest: Guest, base: str) -> list[dict[str, str]]:
    return [
        {
            "url": guest.url(f"{base}/form", start=iso_z(slot.start)),
            "label": guest.time(slot.start),
            "aria": guest.span(slot),
        }
        for slot in slots
        if slot.start.astimezone(guest.zone).date() == day
    ]


def form_values(form: FormMultiDict, event_type: EventType) -> dict[str, str]:
    names = [
        "startTime",
        *FORM_FIELDS,
        *(f"customFields.{q['key']}" for q in event_type.questions),
    ]
    return {name: str(form.get(name) or "") for name in names}


def booking_data(values: dict[str, str], event_type: EventType, guest: Guest) -> dict[str, Any]:
    """The booking form's fields under the public API's names, for ``service.create_booking``."""
    start = parse_start(values["startTime"])
    end = start + timedelta(minutes=event_type.duration_minutes) if start else None
    custom: dict[str, Any] = {}
    for question in event_type.questions:
        answer = values[f"customFields.{question['key']}"]
        if answer:
            custom[question["key"]] = answer
    return {
        "startTime": values["startTime"],
        "endTime": iso_z(end) if end else "",
        "inviteeName": values["inviteeName"],
        "inviteeEmail": values["inviteeEmail"],
        "inviteePhone": values["inviteePhone"],
        "inviteeNotes": values["inviteeNotes"],
        "inviteeTimezone": guest.tz,
        "inviteeLocale": guest.locale_tag,
        "customFields": custom,
        "source": guest.source,
    }


def field_error(exc: InvalidInput, values: dict[str, str]) -> tuple[dict[str, str], str]:
    """(errors by form field, general error): a message goes next to its field when it has one,
    in the guest's words."""
    field = exc.field or ""
    if field in values and field != "startTime":
        return {field: form_message(exc.code, field)}, ""
    if field in ("startTime", "endTime"):
        return {}, pick_again()
    if field == "captchaToken":
        return {}, form_message(exc.code, field)
    return {}, _("Please check your details and send the form again.")


class WidgetPages:
    """Loads what a view needs and renders it as a fragment (htmx) or as the whole page."""

    def __init__(
        self,
        request: HTMXRequest,
        session: AsyncSession,
        settings: Settings,
        event_type: EventType,
    ) -> None:
        self.request = request
        self.session = session
        self.settings = settings
        self.event_type = event_type
        self.guest = Guest.from_request(request, event_type.host)
        self.context = page_context(self.guest, event_type.host, event_type)
        self.base: str = self.context["base"]
        self.rescheduling: tuple[Booking, TokenClaims] | None = None
        self.context.update(
            zone=zone_view(self.guest),
            zone_query=None,
            zones=[],
            clock_choices=clock_choices(self.guest),
            clock_now="12" if self.guest.fmt.hour12 else "24",
        )
        allow_framing(request, event_type.host.embed_origins or [])

    async def load_reschedule(self) -> None:
        """In reschedule mode (``?reschedule=<token>``) the page moves that booking instead."""
        token = self.guest.carry.get("reschedule")
        if not token:
            return
        booking, claims = await booking_for_token(self.session, self.settings, "reschedule", token)
        check_current(claims, booking, service.changed_message(booking))
        if booking.event_type_id != self.event_type.id or not booking.is_held:
            raise NotFound(_("This reschedule link is for another booking page."))
        self.rescheduling = (booking, claims)
        self.context["rescheduling"] = self.guest.when(Interval(booking.start, booking.end))

    @property
    def wants_fragment(self) -> bool:
        htmx = self.request.htmx
        return bool(htmx) and not htmx.history_restore_request

    def detect_zone(self) -> Template | None:
        """A first visit without ``?tz=`` gets a light page at once, without free times; widget.js
        asks for them in the browser's zone (one fragment request, not a second page load).
        Without JavaScript the page refreshes itself into the host's zone. (A confirmation needs
        none of this: it shows the booking in the zone it was booked in.)"""
        query = self.request.query_params
        if not self.guest.tz_detect or self.wants_fragment or query.get("booking"):
            return None
        month, day, start = (
            parse_month(query.get("month")),
            parse_date(query.get("date")),
            parse_start(query.get("start")),
        )
        state = {
            "month": month.strftime("%Y-%m") if month else None,
            "date": day.isoformat() if day else None,
            "start": iso_z(start) if start else None,
        }
        detect = self.page_url(**state)
        host_zone = self.page_url(**state, tz=self.event_type.host.timezone)
        context = {
            **self.context,
            "view": "detect",
            "detect_url": detect,
            "host_zone_url": host_zone,
        }
        return Template(template_name="pages/booking.html", context=context)

    def use_zone(self, zone: str) -> None:
        """Show this page in ``zone`` (a confirmation without ``?tz=``: the booking's own zone)."""
        self.guest.tz = zone
        self.guest.__dict__.pop("fmt", None)  # Formats is cached per zone
        self.context["zone"] = zone_view(self.guest)

    def render(
        self, view: str, fragment: str, push_url: str | None = None, status: int = 200
    ) -> Template:
        context = {**self.context, "view": view}
        if self.wants_fragment:
            return HTMXTemplate(
                template_name=f"fragments/{fragment}.html",
                context=context,
                push_url=push_url or False,
                status_code=status,
            )
        return Template(template_name="pages/booking.html", context=context, status_code=status)

    def page_url(self, **state: str | None) -> str:
        return self.guest.url(self.base, **state)

    async def next_free(self, after: datetime) -> dict[str, str] | None:
        """The next date with a free time after ``after``: its label and the page that shows it."""
        slot = await service.next_free_slot(self.session, self.event_type, after)
        if slot is None:
            return None
        day = slot.start.astimezone(self.guest.zone).date()
        return {"label": self.guest.long_date(day), "url": self.page_url(date=day.isoformat())}

    async def load_month(self, month: date, selected: date | None) -> list[Interval]:
        month = clamp_month(month, self.event_type, self.guest)
        first, last = month_bounds(month)
        window = local_day_window(first, last, self.guest.tz)
        slots = await service.slots_for_window(self.session, self.event_type, window)
        view = build_month(month, slots, self.event_type, self.guest, selected)
        self.context["month"] = view
        self.context["next_free"] = None
        if not view.available_days:
            self.context["next_free"] = await self.next_free(window.end)
        return slots

    async def load_day(self, day: date, slots: list[Interval] | None = None) -> None:
        window = local_day_window(day, day, self.guest.tz)
        if slots is None:
            slots = await service.slots_for_window(self.session, self.event_type, window)
        self.context["day"] = day
        self.context["day_label"] = self.guest.long_date(day)
        self.context["slots"] = day_slots(slots, day, self.guest, self.base)
        if not self.context["slots"]:
            self.context["next_free"] = await self.next_free(window.end)

    def load_zones(self, query: str | None, day: date | None) -> None:
        """The zone search's results (or its suggestions while nothing is typed)."""
        when = day.isoformat() if day else None
        self.context["zone_query"] = query
        self.context["zones"] = zone_choices(
            self.guest,
            query,
            lambda zone: self.page_url(tz=zone, date=when),
        )

    async def picker(
        self,
        month: date | None,
        day: date | None,
        message: str = "",
        status: int = 200,
        zone_query: str | None = None,
    ) -> Template:
        """The month date picker with a day's times: the day asked for, else the first free one.

        With no month or day asked for and nothing free this month, it opens the month of the
        next free time; with nothing free at all it says so."""
        asked_day = day
        shown = month or (day or self.guest.today()).replace(day=1)
        slots = await self.load_month(shown, day)
        view: Month = self.context["month"]
        if month is None and day is None and not view.available_days:
            upcoming = await service.next_free_slot(self.session, self.event_type, clock.utcnow())
            if upcoming is None:
                self.context["nothing_free"] = True
            else:
                local = upcoming.start.astimezone(self.guest.zone).date()
                slots = await self.load_month(local.replace(day=1), None)
                view = self.context["month"]
        if day is None:
            day = view.first_free_day
            view.select(day)
        if day is not None:
            first, last = month_bounds(view.month)
            await self.load_day(day, slots if first <= day <= last else None)
        self.load_zones(zone_query, day)
        self.context["message"] = message
        state = {"date": asked_day.isoformat() if asked_day else None}
        if not asked_day:
            state["month"] = view.month.strftime("%Y-%m")
        return self.render("picker", "picker", self.page_url(**state), status)

    def form(
        self,
        slot: Interval,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        general: str = "",
        status: int = 200,
    ) -> Template:
        prefill = {
            "inviteeName": self.guest.carry.get("name", ""),
            "inviteeEmail": self.guest.carry.get("email", ""),
            "inviteeNotes": self.guest.carry.get("notes", ""),
        }
        self.context.update(
            slot=slot,
            start_iso=iso_z(slot.start),
            when=self.guest.when(slot),
            day=slot.start.astimezone(self.guest.zone).date(),
            values=values or prefill,
            errors=errors or {},
            general_error=general,
            form_token=form_token(self.settings, self.event_type.id),
        )
        url = self.page_url(start=iso_z(slot.start))
        return self.render("form", "form", url, status)

    async def slot_if_free(self, start: datetime | None) -> Interval | None:
        if start is None:
            return None
        slot = Interval(start, start + timedelta(minutes=self.event_type.duration_minutes))
        day = start.astimezone(self.guest.zone).date()
        window = local_day_window(day, day, self.guest.tz)
        free = await service.slots_for_window(self.session, self.event_type, window)
        return slot if slot in free else None

    def confirmation(self, booking_uid_ref: str, booking: Booking, just_booked: bool) -> Template:
        slot = Interval(booking.start, booking.end)
        self.context.update(
            booking=booking,
            when=self.guest.when(slot),
            place=describe(self.event_type, booking),
            pending=booking.status == PENDING,
            ics_url=f"{self.base}/invite.ics?booking={booking_uid_ref}",
            google_url=google_calendar_url(booking),
            payload=booked_payload(booking) if just_booked else "",
        )
        url = self.guest.url(f"{self.base}/confirmation", booking=booking_uid_ref)
        return self.render("confirmation", "confirmation", url)


async def provide_pages(
    request: HTMXRequest,
    db_session: AsyncSession,
    settings: Settings,
    user_slug: str,
    event_slug: str,
) -> WidgetPages:
    """The event type's pages for this request (and the booking a reschedule link names)."""
    event_type = await service.find_event_type(db_session, user_slug, event_slug)
    pages = WidgetPages(request, db_session, settings, event_type)
    await pages.load_reschedule()
    return pages


class WidgetController(Controller):
    """Pages a guest sees, framable by the host's embed origins (see app/web/security.py)."""

    opt = {"frameable": True}
    dependencies = {"pages": Provide(provide_pages)}
    # Slots change by the minute; confirmations show the guest's details; reschedule-mode pages
    # carry the link's token in their URLs.
    cache_control = NO_STORE

    @get("/{user_slug:str}", include_in_schema=False)
    async def host_page(
        self, request: HTMXRequest, db_session: AsyncSession, user_slug: str
    ) -> Template:
        host = await service.find_host(db_session, user_slug)
        guest = Guest.from_request(request, host)
        allow_framing(request, host.embed_origins or [])
        context = page_context(guest, host)
        context["event_types"] = await service.visible_event_types(db_session, host)
        return Template(template_name="pages/host.html", context=context)

    @get("/{user_slug:str}/{event_slug:str}", include_in_schema=False, opt=SLOT_READS)
    async def booking_page(self, pages: WidgetPages) -> Template:
        """The booking page in the state its query describes: month, day, chosen time, booking."""
        if (shell := pages.detect_zone()) is not None:
            return shell
        query = pages.request.query_params
        if query.get("booking"):
            return await self._confirmation(pages, query["booking"])
        if query.get("start"):
            slot = await pages.slot_if_free(parse_start(query["start"]))
            if slot is not None:
                return pages.form(slot)
            day = parse_date(query.get("date"))
            return await pages.picker(
                None, day, slot_taken() if parse_start(query["start"]) else pick_again()
            )
        return await pages.picker(parse_month(query.get("month")), parse_date(query.get("date")))

    @get("/{user_slug:str}/{event_slug:str}/calendar", include_in_schema=False, opt=SLOT_READS)
    async def calendar(self, pages: WidgetPages) -> Template:
        if (shell := pages.detect_zone()) is not None:
            return shell
        month = parse_month(pages.request.query_params.get("month"))
        if not pages.wants_fragment:
            return await pages.picker(month, None)
        await pages.load_month(month or pages.guest.today(), None)
        url = pages.page_url(month=pages.context["month"].month.strftime("%Y-%m"))
        return pages.render("picker", "calendar", url)

    @get("/{user_slug:str}/{event_slug:str}/slots", include_in_schema=False, opt=SLOT_READS)
    async def slots(self, pages: WidgetPages) -> Template:
        if (shell := pages.detect_zone()) is not None:
            return shell
        day = parse_date(pages.request.query_params.get("date"))
        if day is None or not pages.wants_fragment:
            return await pages.picker(None, day)
        await pages.load_day(day)
        return pages.render("picker", "slots", pages.page_url(date=day.isoformat()))

    @get("/{user_slug:str}/{event_slug:str}/zones", include_in_schema=False)
    async def zones(self, pages: WidgetPages) -> Template:
        """The time zone search: the matching zones (htmx), or the picker showing them."""
        if (shell := pages.detect_zone()) is not None:
            return shell
        query = (pages.request.query_params.get("q") or "").strip()[:80]
        day = parse_date(pages.request.query_params.get("date"))
        if not pages.wants_fragment:
            return await pages.picker(None, day, zone_query=query)
        pages.load_zones(query, day)
        return pages.render("picker", "zones")

    @get("/{user_slug:str}/{event_slug:str}/form", include_in_schema=False, opt=SLOT_READS)
    async def form(self, pages: WidgetPages) -> Template:
        if (shell := pages.detect_zone()) is not None:
            return shell
        start = parse_start(pages.request.query_params.get("start"))
        slot = await pages.slot_if_free(start)
        if slot is None:
            day = start.astimezone(pages.guest.zone).date() if start else None
            return await pages.picker(None, day, slot_taken() if start else pick_again())
        return pages.form(slot)

    @post(
        "/{user_slug:str}/{event_slug:str}/book",
        include_in_schema=False,
        opt={"rate_limited": True},
        status_code=200,
    )
    async def book(
        self,
        request: HTMXRequest,
        db_session: AsyncSession,
        settings: Settings,
        user_slug: str,
        event_slug: str,
    ) -> Response[Any]:
        """The booking form's POST: re-render with errors, or show the confirmation."""
        check_same_origin(request, settings)
        pages = await provide_pages(request, db_session, settings, user_slug, event_slug)
        form = await request.form()
        values = form_values(form, pages.event_type)
        start = parse_start(values["startTime"])
        if start is None:
            return await pages.picker(None, None, pick_again(), status=400)
        slot = Interval(start, start + timedelta(minutes=pages.event_type.duration_minutes))
        if not form_token_valid(settings, str(form.get("formToken") or ""), pages.event_type.id):
            return pages.form(slot, values, general=expired_form(), status=400)
        if pages.rescheduling is not None:
            return await self._reschedule(pages, slot, str(form.get("reason") or ""))
        data = booking_data(values, pages.event_type, pages.guest)
        data["honeypotValue"] = form.get("honeypotValue") or ""
        data["captchaToken"] = form.get("captchaToken") or form.get("altcha") or None
        try:
            booking = await service.create_booking(
                db_session,
                user_slug,
                event_slug,
                data,
                metadata=pages.guest.utm,
                settings=settings,
            )
        except SlotUnavailable:
            day = start.astimezone(pages.guest.zone).date()
            return await pages.picker(None, day, slot_taken(), status=409)
        except InvalidInput as exc:
            errors, general = field_error(exc, values)
            return pages.form(slot, values, errors, general, status=422)
        ref = booking_ref(settings, booking)
        if not pages.wants_fragment:
            return Redirect(
                pages.guest.url(f"{pages.base}/confirmation", booking=ref), status_code=303
            )
        return pages.confirmation(ref, booking, just_booked=True)

    async def _reschedule(self, pages: WidgetPages, slot: Interval, reason: str) -> Response[Any]:
        """Move the booking of the reschedule link; the link is spent once this commits."""
        assert pages.rescheduling is not None
        old, claims = pages.rescheduling
        try:
            booking = await service.reschedule_booking(
                pages.session, old.uid, slot.start, reason=reason, expected_version=claims.version
            )
        except SlotUnavailable:
            day = slot.start.astimezone(pages.guest.zone).date()
            return await pages.picker(None, day, slot_taken(), status=409)
        except InvalidInput as exc:
            return pages.form(slot, general=field_error(exc, {})[1], status=exc.status_code)
        except Conflict:
            return pages.form(slot, general=moved_on(), status=409)
        pages.guest.carry.pop("reschedule", None)
        pages.context.pop("rescheduling", None)
        ref = booking_ref(pages.settings, booking)
        if not pages.wants_fragment:
            return Redirect(
                pages.guest.url(f"{pages.base}/confirmation", booking=ref), status_code=303
            )
        return pages.confirmation(ref, booking, just_booked=True)

    @get("/{user_slug:str}/{event_slug:str}/confirmation", include_in_schema=False)
    async def confirmation(self, pages: WidgetPages) -> Template:
        return await self._confirmation(pages, pages.request.query_params.get("booking") or "")

    async def _confirmation(self, pages: WidgetPages, ref: str) -> Template:
        uid = read_booking_ref(pages.settings, ref)
        if uid is None:
            raise NotFound(
                _("We could not find this booking. Please use the link from your email.")
            )
        booking = await service.find_booking(pages.session, uid, host_id=pages.event_type.host_id)
        if pages.guest.tz_detect:
            pages.use_zone(booking.invitee_timezone)
        return pages.confirmation(ref, booking, just_booked=False)

    @get(
        "/{user_slug:str}/{event_slug:str}/invite.ics",
        include_in_schema=False,
        opt={"frameable": False},
    )
    async def invite(
        self,
        db_session: AsyncSession,
        settings: Settings,
        user_slug: str,
        event_slug: str,
        booking: str,
    ) -> Response[bytes]:
        """The booking as an .ics file; the signed reference keeps bookings from being listed."""
        uid = read_booking_ref(settings, booking)
        if uid is None:
            raise NotFound("Booking not found.")
        event_type = await service.find_event_type(db_session, user_slug, event_slug)
        found = await service.find_booking(db_session, uid, host_id=event_type.host_id)
        return Response(
            build_invite(found, method="PUBLISH"),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="invite.ics"'},
        )


@get("/brand.css", include_in_schema=False, cache=False)
async def brand_stylesheet(c: str = "") -> Response[str]:
    """The host's colour as CSS variables: the CSP allows no inline styles, so it is a file."""
    color = hex_color(c) or DEFAULT_COLOR
    return Response(
        brand_css(color),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
