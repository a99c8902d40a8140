"""What the widget templates show, worked out in plain Python so the templates stay dumb.

The guest's state lives in the URL (time zone, locale, embed and prefill parameters), never in a
cookie, because the widget runs in third-party iframes where cookies are blocked. ``Guest`` reads
that state once per request and builds every link and hidden field from it, so it survives each
navigation, with or without JavaScript.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton
from itsdangerous import BadSignature, URLSafeTimedSerializer
from litestar import Request

from app.bookings.errors import InvalidInput
from app.bookings.locations import where
from app.bookings.validation import check_timezone, in_range
from app.dates import Formats, city_name, first_week_day, search_zones, zone_of
from app.db.models import PENDING, Booking, EventType, Host
from app.hosts.service import is_origin
from app.i18n import DEFAULT, _, negotiate, ngettext, supported_tag, text_direction
from app.scheduling import Interval, group_by_date
from app.settings import Settings
from app.web.formats import iso_z

HEX_RE = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
PREFILL = ("name", "email", "notes")
MAX_PARAM = 200
BOOKING_SALT = "booking-view"
BOOKING_LINK_MAX_AGE = 180 * 24 * 3600


def hex_color(value: str | None) -> str | None:
    """``#rrggbb`` from ``#rgb``/``rrggbb``-like input, or None when it is not a hex colour."""
    match = HEX_RE.match((value or "").strip())
    if not match:
        return None
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


THEMES = ("light", "dark")
CLOCKS = {"12": True, "24": False}


@dataclass
class Guest:
    """The guest's side of a request: zone, language, clock, theme, embedding, what to carry."""

    tz: str
    tz_detect: bool
    tz_error: str
    locale_tag: str
    embed: bool
    parent_origin: str
    color: str | None
    theme: str = ""
    hour12: bool | None = None
    carry: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, request: Request[Any, Any, Any], host: Host) -> Guest:
        query = request.query_params
        carry: dict[str, str] = {}
        tz, tz_error = host.timezone, ""
        raw_tz = (query.get("tz") or "").strip()
        if raw_tz:
            try:
                tz = check_timezone(raw_tz, "tz")
                carry["tz"] = tz
            except InvalidInput:
                tz_error = _(
                    "We do not know the time zone “%(zone)s”. Times are shown in %(fallback)s.",
                    zone=raw_tz[:64],
                    fallback=tz,
                )
        locale_tag = supported_tag(query.get("locale"))
        if locale_tag:
            carry["locale"] = locale_tag
        else:
            locale_tag = negotiate(request.headers.get("accept-language")) or DEFAULT
        embed = query.get("embed") == "1"
        parent_origin = (query.get("parentOrigin") or "").strip().rstrip("/")
        if embed:
            carry["embed"] = "1"
            if is_origin(parent_origin):
                carry["parentOrigin"] = parent_origin
            else:
                parent_origin = ""
        color = hex_color(query.get("color"))
        if color:
            carry["color"] = color
        theme = query.get("theme") or ""
        if theme in THEMES:
            carry["theme"] = theme
        else:
            theme = ""
        hour12 = CLOCKS.get(query.get("clock") or "")
        if hour12 is not None:
            carry["clock"] = query["clock"]
        for key in PREFILL:
            if query.get(key):
                carry[key] = query[key][:MAX_PARAM]
        for key, value in query.items():
            if key.startswith("utm_") and len(key) <= 40:
                carry[key] = value[:MAX_PARAM]
        if query.get("reschedule"):
            carry["reschedule"] = query["reschedule"][:500]
        return cls(
            tz=tz,
            tz_detect=not raw_tz,
            tz_error=tz_error,
            locale_tag=locale_tag,
            embed=embed,
            parent_origin=parent_origin if embed else "",
            color=color,
            theme=theme,
            hour12=hour12,
            carry=carry,
        )

    @cached_property
    def fmt(self) -> Formats:
        return Formats.of(self.locale_tag, self.tz, self.hour12)

    @property
    def locale(self) -> Locale:
        return self.fmt.locale

    @property
    def dir(self) -> str:
        return text_direction(self.locale_tag)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def source(self) -> str:
        return "EmbedWidget" if self.embed else "BookingPage"

    @property
    def utm(self) -> dict[str, str]:
        return {k: v for k, v in self.carry.items() if k.startswith("utm_")}

    def url(self, path: str, **extra: str | None) -> str:
        """``path`` with the carried parameters plus ``extra`` (None drops a carried one)."""
        params = {**self.carry, **extra}
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{path}?{query}" if query else path

    def hidden(self, *drop: str) -> list[tuple[str, str]]:
        """The carried parameters as hidden form fields."""
        return [(k, v) for k, v in self.carry.items() if k not in drop]

    def today(self) -> date:
        return self.fmt.today()

    def long_date(self, day: date) -> str:
        return self.fmt.full_date(day)

    def time(self, instant: datetime) -> str:
        return self.fmt.time(instant)

    def span(self, slot: Interval) -> str:
        return self.fmt.times(slot.start, slot.end)

    def when(self, slot: Interval) -> str:
        return self.fmt.when(slot.start, slot.end)


# The time zone and the clock ---------------------------------------------------------------------


@dataclass(frozen=True)
class ZoneView:
    """A zone as the guest reads it: ``Central European Time``, ``Berlin``, ``GMT+01:00``, the
    time there now, and the link that shows the page in it."""

    zone: str
    name: str
    city: str
    offset: str
    now: str
    url: str = ""
    current: bool = False


def zone_view(guest: Guest, zone: str | None = None, url: str = "") -> ZoneView:
    name = zone or guest.tz
    fmt = guest.fmt
    moment = datetime.now(UTC)
    tz = zone_of(name)
    return ZoneView(
        zone=name,
        name=fmt.zone_name(tz),
        city=city_name(name, fmt.locale),
        offset=fmt.offset(moment, tz),
        now=format_skeleton(fmt.time_skeleton, moment.astimezone(tz), locale=fmt.locale),
        url=url,
        current=name == guest.tz,
    )


def zone_choices(guest: Guest, query: str | None, page_url: Callable[[str], str]) -> list[ZoneView]:
    """The zones the search finds (nothing before the guest types: every page carries this)."""
    zones = search_zones(query, guest.locale_tag) if query else []
    return [zone_view(guest, zone, page_url(zone)) for zone in zones]


def clock_choices(guest: Guest) -> list[tuple[str, str, str]]:
    """(value, accessible name, example) for the 12/24-hour toggle: the example is 13:00 as each
    clock writes it in the guest's language ("1:00 PM" / "13:00")."""
    one_pm = datetime(2026, 1, 1, 13, 0)
    return [
        ("12", _("12-hour clock"), format_skeleton("hm", one_pm, locale=guest.locale)),
        ("24", _("24-hour clock"), format_skeleton("Hm", one_pm, locale=guest.locale)),
    ]


# What the form says about a field's problem ------------------------------------------------------


def form_message(code: str, field: str) -> str:
    """A validation problem in the guest's words (the API's message names API fields)."""
    if field == "captchaToken":
        return _("Please complete the spam check and send the form again.")
    messages = {
        "required": _("Please fill this in."),
        "too_long": _("This is too long. Please shorten it."),
        "email": _("Please enter a valid email address, such as name@example.com."),
        "phone": _("Please enter a valid phone number, with the country code if you are abroad."),
        "checkbox": _("Please tick this box to continue."),
        "choice": _("Please choose one of the options."),
    }
    return messages.get(code, _("Please check this field."))


# The month date picker ---------------------------------------------------------------------------


# The widget reads a missing, malformed or far-off (``in_range``) value in its address as no value:
# the guest sees the current month rather than an error page.


def parse_month(value: str | None) -> date | None:
    try:
        month = datetime.strptime(value or "", "%Y-%m").date() if value else None
    except ValueError:
        return None
    return month if month and in_range(month) else None


def parse_date(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day and in_range(day) else None


def parse_start(value: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat((value or "").replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None or not in_range(parsed.date()):
        return None
    return parsed.astimezone(UTC)


def month_bounds(month: date) -> tuple[date, date]:
    last = calendar.monthrange(month.year, month.month)[1]
    return month.replace(day=1), month.replace(day=last)


def shift_month(month: date, step: int) -> date:
    index = month.year * 12 + month.month - 1 + step
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class Day:
    day: date
    count: int
    label: str
    selected: bool
    today: bool


@dataclass
class Month:
    month: date
    title: str
    weekdays: list[tuple[str, str]]
    weeks: list[list[Day | None]]
    prev: date | None
    next: date | None
    available_days: int

    @property
    def first_free_day(self) -> date | None:
        return next((c.day for week in self.weeks for c in week if c and c.count), None)

    def select(self, day: date | None) -> None:
        for week in self.weeks:
            for cell in week:
                if cell is not None:
                    cell.selected = cell.day == day


def last_bookable_day(event_type: EventType, guest: Guest) -> date | None:
    if event_type.booking_window_days is None:
        return None
    limit = datetime.now(UTC) + timedelta(days=event_type.booking_window_days)
    return limit.astimezone(guest.zone).date()


def clamp_month(month: date, event_type: EventType, guest: Guest) -> date:
    """Months before this one or past the booking window show nothing; fall back to the edge."""
    first = guest.today().replace(day=1)
    last_day = last_bookable_day(event_type, guest)
    if month < first:
        return first
    if last_day is not None and month > last_day.replace(day=1):
        return last_day.replace(day=1)
    return month


def build_month(
    month: date,
    slots: list[Interval],
    event_type: EventType,
    guest: Guest,
    selected: date | None,
) -> Month:
    counts = {day: len(group) for day, group in group_by_date(slots, guest.tz)}
    first_weekday = first_week_day(guest.locale)
    names = guest.locale.days["format"]
    weekdays = [
        (names["abbreviated"][(first_weekday + i) % 7], names["wide"][(first_weekday + i) % 7])
        for i in range(7)
    ]
    today = guest.today()
    first, last = month_bounds(month)
    cells: list[Day | None] = [None] * ((first.weekday() - first_weekday) % 7)
    day = first
    while day <= last:
        count = counts.get(day, 0)
        label = (
            ngettext(
                "%(date)s, %(num)d time available",
                "%(date)s, %(num)d times available",
                count,
                date=guest.long_date(day),
            )
            if count
            else _("%(date)s, no times available", date=guest.long_date(day))
        )
        cells.append(Day(day, count, label, day == selected, day == today))
        day += timedelta(days=1)
    cells += [None] * (-len(cells) % 7)
    last_day = last_bookable_day(event_type, guest)
    following = shift_month(month, 1)
    return Month(
        month=first,
        title=guest.fmt.month(first),
        weekdays=weekdays,
        weeks=[cells[i : i + 7] for i in range(0, len(cells), 7)],
        prev=shift_month(month, -1) if first > today.replace(day=1) else None,
        next=following if last_day is None or following <= last_day else None,
        available_days=sum(1 for c in counts if first <= c <= last),
    )


# The booking -------------------------------------------------------------------------------------


def _booking_serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(list(reversed(settings.secret_keys)), salt=BOOKING_SALT)


def booking_ref(settings: Settings, booking: Booking) -> str:
    """A signed reference to a booking: its confirmation and .ics cannot be enumerated by uid."""
    return str(_booking_serializer(settings).dumps(booking.uid))


def read_booking_ref(settings: Settings, ref: str) -> str | None:
    try:
        uid = _booking_serializer(settings).loads(ref, max_age=BOOKING_LINK_MAX_AGE)
    except BadSignature:
        return None
    return uid if isinstance(uid, str) else None


def booked_payload(booking: Booking) -> str:
    """What the widget posts to the embedding page as ``booking:booked``."""
    pending = booking.status == PENDING
    return json.dumps(
        {
            "id": booking.uid,
            "status": "pending" if pending else "confirmed",
            "requires_confirmation": pending,
            "attendee_name": booking.invitee_name,
            "start_time": iso_z(booking.start),
            "end_time": iso_z(booking.end),
            "event_type": booking.event_type.slug,
        }
    )


def google_calendar_url(booking: Booking) -> str:
    def stamp(value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    event_type = booking.event_type
    query = urlencode(
        {
            "action": "TEMPLATE",
            "text": _("%(event)s with %(host)s", event=event_type.title, host=booking.host.name),
            "dates": f"{stamp(booking.start)}/{stamp(booking.end)}",
            "details": event_type.description,
            "location": where(booking),
        }
    )
    return f"https://calendar.google.com/calendar/render?{query}"


# Branding ----------------------------------------------------------------------------------------


def _luminance(color: str) -> float:
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _darken(color: str, factor: float) -> str:
    parts = (round(int(color[i : i + 2], 16) * factor) for i in (1, 3, 5))
    return "#" + "".join(f"{p:02x}" for p in parts)


def _lighten(color: str, factor: float) -> str:
    """``color`` moved ``factor`` of the way towards white."""
    parts = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(p + (255 - p) * factor):02x}" for p in parts)


LIGHT_BG = "#ffffff"
DARK_BG = "#111827"  # the dark theme's background (static/widget.css)
TINT = 0.26  # bookable days are the brand mixed into the background (14 %, 26 % on hover)


def _mix(color: str, background: str, share: float) -> str:
    a = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(background[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(
        f"{round(x * share + y * (1 - share)):02x}" for x, y in zip(a, b, strict=True)
    )


def brand_css(color: str) -> str:
    """CSS variables for a brand colour, with text colours that keep WCAG AA contrast.

    A host may pick any colour. Text on the colour (buttons, the chosen day) is white or near
    black, whichever reads better; links, outlines and the bookable days' numbers use the colour
    darkened until it reads (4.5:1) on the light theme's tinted day cells, and lightened until it
    reads on the dark theme's.
    """
    on_brand = (
        "#ffffff" if _contrast(color, "#ffffff") >= _contrast(color, "#111111") else "#111111"
    )
    # Measured against the tinted day cells, the darkest (lightest) place the ink is read on.
    light_cell, dark_cell = _mix(color, LIGHT_BG, TINT), _mix(color, DARK_BG, TINT)
    ink, factor = color, 1.0
    while _contrast(ink, light_cell) < 4.5 and factor > 0:
        factor -= 0.05
        ink = _darken(color, max(factor, 0))
    ink_dark, step = color, 0.0
    while _contrast(ink_dark, dark_cell) < 4.5 and step < 1:
        step += 0.05
        ink_dark = _lighten(color, min(step, 1))
    return (
        f":root{{--brand:{color};--on-brand:{on_brand};--brand-ink:{ink};"
        f"--brand-ink-dark:{ink_dark}}}\n"
    )
