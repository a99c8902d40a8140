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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from itsdangerous import BadSignature, URLSafeTimedSerializer
from litestar import Request

from app.bookings.errors import InvalidInput
from app.bookings.validation import LOCALE_RE, check_timezone, in_range
from app.db.models import PENDING, Booking, EventType, Host
from app.hosts.service import is_origin
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


def _negotiate_locale(header: str) -> str | None:
    """The first language of an Accept-Language header that Babel knows, by preference."""
    weighted = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        weighted.append((-quality, position, tag.strip()))
    for _, _, tag in sorted(weighted):
        if tag and tag != "*" and _locale_or_none(tag):
            return tag
    return None


def _locale_or_none(tag: str) -> Locale | None:
    if not LOCALE_RE.match(tag):
        return None
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None


@dataclass
class Guest:
    """The guest's side of a request: zone, language, embedding, and the parameters to carry."""

    tz: str
    tz_detect: bool
    tz_error: str
    locale_tag: str
    locale: Locale
    embed: bool
    parent_origin: str
    color: str | None
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
                tz_error = f"Unknown time zone '{raw_tz[:64]}'. Times are shown in {tz}."
        locale_tag = (query.get("locale") or "").strip()
        if locale_tag and _locale_or_none(locale_tag):
            carry["locale"] = locale_tag
        else:
            locale_tag = _negotiate_locale(request.headers.get("accept-language", "")) or "en"
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
            locale=_locale_or_none(locale_tag) or Locale("en"),
            embed=embed,
            parent_origin=parent_origin if embed else "",
            color=color,
            carry=carry,
        )

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
        return datetime.now(UTC).astimezone(self.zone).date()

    def long_date(self, day: date) -> str:
        return format_date(day, "EEEE d MMMM y", locale=self.locale)

    def time(self, instant: datetime) -> str:
        return format_time(instant.astimezone(self.zone), "short", locale=self.locale)

    def span(self, slot: Interval) -> str:
        return f"{self.time(slot.start)} to {self.time(slot.end)}"

    def when(self, slot: Interval) -> str:
        day = slot.start.astimezone(self.zone).date()
        return f"{self.long_date(day)}, {self.span(slot)}"


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
    first_weekday = guest.locale.first_week_day
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
        label = f"{guest.long_date(day)}, " + (
            f"{count} time{'s' if count != 1 else ''} available" if count else "no times available"
        )
        cells.append(Day(day, count, label, day == selected, day == today))
        day += timedelta(days=1)
    cells += [None] * (-len(cells) % 7)
    last_day = last_bookable_day(event_type, guest)
    following = shift_month(month, 1)
    return Month(
        month=first,
        title=format_date(first, "LLLL y", locale=guest.locale),
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


def location_text(event_type: EventType) -> str:
    kind = {"GoogleMeet": "Google Meet", "Zoom": "Zoom", "Phone": "Phone call"}.get(
        event_type.location_type, event_type.location_type
    )
    return ": ".join(part for part in (kind, event_type.location_value) if part)


def google_calendar_url(booking: Booking) -> str:
    def stamp(value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    event_type = booking.event_type
    query = urlencode(
        {
            "action": "TEMPLATE",
            "text": f"{event_type.title} with {booking.host.name}",
            "dates": f"{stamp(booking.start)}/{stamp(booking.end)}",
            "details": event_type.description,
            "location": location_text(event_type),
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


def brand_css(color: str) -> str:
    """CSS variables for a brand colour, with text colours that keep WCAG AA contrast.

    A host may pick a light colour; buttons then get dark text, and links and borders on the white
    page use the colour darkened until it reads (4.5:1).
    """
    on_brand = (
        "#ffffff" if _contrast(color, "#ffffff") >= _contrast(color, "#111111") else "#111111"
    )
    ink, factor = color, 1.0
    while _contrast(ink, "#ffffff") < 4.5 and factor > 0:
        factor -= 0.05
        ink = _darken(color, max(factor, 0))
    return f":root{{--brand:{color};--on-brand:{on_brand};--brand-ink:{ink}}}\n"
