"""Dates and times as each locale writes them (CLDR, through Babel), for pages and emails alike.

One ``Formats`` per reader: their locale (``de-AT``), their time zone and their clock (12 or 24
hours, by default what the locale uses). Nothing here builds a pattern by hand: full dates are
CLDR's *full* format ("Dienstag, 8. Dezember 2026"), months and times come from skeletons
(``yMMMM``, ``Hm``/``hm``) and ranges from CLDR's interval formats ("11:00–11:30 Uhr",
"11:00 – 11:30 AM"), so an English page and an English email say the same thing the same way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import (
    format_date,
    format_datetime,
    format_interval,
    format_skeleton,
    get_datetime_format,
    get_timezone_gmt,
    get_timezone_location,
    get_timezone_name,
)
from babel.units import format_unit

from app.i18n import DEFAULT, SUPPORTED, language_of

# Zone regions a person lives in; the rest (Etc/*, aliases such as US/Eastern) are left out of
# the picker but still accepted when asked for by name.
REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@lru_cache(maxsize=64)
def babel_locale(tag: str | None) -> Locale:
    """The Babel locale for a reader's tag: its region's formats when Babel knows it (``en-GB``),
    else its language's; a language we have no catalog for reads English, dates included."""
    tag = (tag or DEFAULT).replace("_", "-")
    language = language_of(tag)
    if tag.split("-", 1)[0].lower() != language:
        return Locale.parse(language)
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(language)


@lru_cache(maxsize=64)
def first_week_day(locale: Locale) -> int:
    """The day a week starts on where the reader lives (0 = Monday): their region's, or the
    likely region of their language when they gave none ("ja" -> Japan: Sunday; "ar" -> Egypt:
    Saturday), not CLDR's world default (Monday)."""
    if locale.territory:
        return locale.first_week_day
    likely = get_global("likely_subtags").get(locale.language)
    try:
        return Locale.parse(likely).first_week_day if likely else locale.first_week_day
    except (UnknownLocaleError, ValueError):
        return locale.first_week_day


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def uses_12_hours(locale: Locale) -> bool:
    """Whether the locale's own short time format is a 12-hour clock (en-US, ar: yes; de: no)."""
    return (
        "h" in locale.time_formats["short"].pattern or "K" in locale.time_formats["short"].pattern
    )


def _unquote(pattern: str) -> str:
    """CLDR glue patterns quote literal text (``{1} 'um' {0}``); drop the quotes."""
    return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", pattern)


@dataclass(frozen=True)
class Formats:
    """How one reader sees dates and times: locale, zone and clock."""

    locale: Locale
    zone: ZoneInfo
    hour12: bool

    @classmethod
    def of(cls, tag: str | None, zone: str | None, hour12: bool | None = None) -> Formats:
        locale = babel_locale(tag)
        return cls(locale, zone_of(zone), uses_12_hours(locale) if hour12 is None else hour12)

    @property
    def time_skeleton(self) -> str:
        return "hm" if self.hour12 else "Hm"

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)

    def today(self) -> date:
        return datetime.now(UTC).astimezone(self.zone).date()

    def full_date(self, day: date | datetime) -> str:
        """``Tuesday, December 8, 2026`` / ``Dienstag, 8. Dezember 2026`` / ``2026年12月8日火曜日``."""
        if isinstance(day, datetime):
            day = self.local(day).date()
        return format_date(day, "full", locale=self.locale)

    def short_date(self, day: date | datetime) -> str:
        """``Tue, Dec 8, 2026``: for subjects and tight spaces."""
        if isinstance(day, datetime):
            day = self.local(day).date()
        return format_skeleton("yMMMEd", day, locale=self.locale)

    def month(self, day: date) -> str:
        """``December 2026`` / ``grudzień 2026`` / ``2026年12月``."""
        return format_skeleton("yMMMM", day, locale=self.locale)

    def time(self, instant: datetime) -> str:
        return format_skeleton(self.time_skeleton, self.local(instant), locale=self.locale)

    def times(self, start: datetime, end: datetime) -> str:
        """``11:00 – 11:30 AM`` / ``11:00–11:30 Uhr``: CLDR's interval format for the clock."""
        first, last = self.local(start), self.local(end)
        if first.date() != last.date():
            return self._across_days(first, last)
        return format_interval(first, last, self.time_skeleton, locale=self.locale)

    def when(self, start: datetime, end: datetime) -> str:
        """The full date and the times: ``Tuesday, December 8, 2026, 11:00 – 11:30 AM``."""
        first, last = self.local(start), self.local(end)
        if first.date() != last.date():
            return self._across_days(first, last)
        glue = _unquote(str(get_datetime_format("medium", locale=self.locale)))
        return glue.replace("{1}", self.full_date(first.date())).replace(
            "{0}", self.times(first, last)
        )

    def _across_days(self, first: datetime, last: datetime) -> str:
        """A meeting across midnight: both ends in full, joined by the locale's range pattern."""
        glue = _unquote(str(get_datetime_format("medium", locale=self.locale)))

        def end(moment: datetime) -> str:
            clock = format_skeleton(self.time_skeleton, moment, locale=self.locale)
            return glue.replace("{1}", self.full_date(moment.date())).replace("{0}", clock)

        fallback = self.locale.interval_formats.get(None) or "{0} – {1}"
        return fallback.replace("{0}", end(first)).replace("{1}", end(last))

    def zone_name(self, zone: str | tzinfo | None = None) -> str:
        """``Central European Time`` / ``Mitteleuropäische Zeit`` (CLDR's generic name)."""
        return zone_name(zone or self.zone, self.locale)

    def offset(self, at: datetime | None = None, zone: ZoneInfo | None = None) -> str:
        """``GMT+01:00`` as the zone stands at ``at`` (now by default)."""
        moment = (at or datetime.now(UTC)).astimezone(zone or self.zone)
        return get_timezone_gmt(moment, width="long", locale=self.locale)

    def duration(self, minutes: int) -> str:
        """``30 minutes`` / ``1 Stunde, 30 Minuten`` / ``1 時間 30 分`` (CLDR unit names)."""
        hours, rest = divmod(max(int(minutes), 0), 60)
        parts = [format_unit(hours, "duration-hour", length="long", locale=self.locale)] * bool(
            hours
        )
        if rest or not hours:
            parts.append(format_unit(rest, "duration-minute", length="long", locale=self.locale))
        if len(parts) == 1:
            return parts[0]
        # Babel's own list joining doubles the last item for some locales (ar): use CLDR's
        # two-item pattern directly, the unit one where the locale has it.
        patterns = self.locale.list_patterns
        pattern = (patterns["unit"] if "unit" in patterns else patterns["standard"])["2"]
        return pattern.replace("{0}", parts[0]).replace("{1}", parts[1])

    def stamp(self, instant: datetime) -> str:
        """A full date and time with seconds, for "sent at" lines."""
        return format_datetime(self.local(instant), "medium", locale=self.locale)


def zone_name(zone: str | tzinfo, locale: Locale) -> str:
    tz = zone_of(zone) if isinstance(zone, str) else zone
    if getattr(tz, "key", "") in ("UTC", "Etc/UTC"):
        return get_timezone_gmt(datetime.now(UTC), width="long", locale=locale).split("+")[0]
    return get_timezone_name(tz, locale=locale)


def city_name(zone: str, locale: Locale) -> str:
    """The zone's exemplar city in the reader's language: ``Tokyo`` / ``東京`` / ``طوكيو``."""
    if zone in ("UTC", "Etc/UTC"):
        return "UTC"
    return get_timezone_location(zone_of(zone), locale=locale, return_city=True)


@lru_cache(maxsize=1)
def picker_zones() -> tuple[str, ...]:
    """The zones people pick from: canonical names in the inhabited regions, plus UTC (~420)."""
    from zoneinfo import available_timezones

    aliases = get_global("zone_aliases")
    zones = sorted(
        name
        for name in available_timezones()
        if name.split("/", 1)[0] in REGIONS and name not in aliases
    )
    return ("UTC", *zones)


# Finding a zone by what people call it ----------------------------------------------------------

OFFSET_RE = re.compile(r"^(?:gmt|utc)?\s*([+-−])\s*(\d{1,2})(?::?(\d{2}))?$")


def fold(text: str) -> str:
    """Lower case without accents, so "sao paulo" finds "São Paulo" and "zurich" "Zürich"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("_", " ")


@lru_cache(maxsize=len(SUPPORTED) * 2)
def _zone_index(tag: str) -> tuple[tuple[str, str, tuple[str, ...], str], ...]:
    """For every picker zone: the zone, its city in the reader's language, its names (folded,
    reader's language and English) and all the words to search: the cities and names in both
    languages and the IANA id."""
    locale, english = babel_locale(tag), Locale.parse("en")
    rows = []
    for zone in picker_zones():
        city = city_name(zone, locale)
        names = {zone_name(zone, locale), zone_name(zone, english)}
        if zone != "UTC":
            names.add(get_timezone_location(zone_of(zone), locale=locale))
            names.add(get_timezone_location(zone_of(zone), locale=english))
        words = {city, city_name(zone, english), zone, *names}
        rows.append((zone, city, tuple(fold(n) for n in names), fold(" ".join(words))))
    return tuple(rows)


def _offset_minutes(zone: str, at: datetime) -> int:
    offset = at.astimezone(zone_of(zone)).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def search_zones(query: str, tag: str, limit: int = 12, at: datetime | None = None) -> list[str]:
    """Zones whose city, name or IANA id contains every word of ``query`` (in the reader's
    language or English), or whose offset now is the one asked for ("GMT+2", "-05:00").

    Best first: cities starting with the query, then zone names starting with it ("eastern"
    finds Eastern Time), then whole-word matches, then the rest; alphabetical within each."""
    text = fold(query.strip())
    words = text.split()
    if not words:
        return []
    offset = OFFSET_RE.match(text.replace(" ", ""))
    if offset:
        sign = -1 if offset.group(1) in "-−" else 1
        wanted = sign * (int(offset.group(2)) * 60 + int(offset.group(3) or 0))
        moment = at or datetime.now(UTC)
        found = [row[0] for row in _zone_index(tag) if _offset_minutes(row[0], moment) == wanted]
        return found[:limit]

    def rank(city: str, names: tuple[str, ...], haystack: str) -> int:
        if fold(city).startswith(text):
            return 0
        if any(name.startswith(text) for name in names):
            return 1
        return 2 if words[0] in re.split(r"[\s/,.()\-]+", haystack) else 3

    matches = [
        (rank(city, names, haystack), fold(city), zone)
        for zone, city, names, haystack in _zone_index(tag)
        if all(word in haystack for word in words)
    ]
    return [zone for *_, zone in sorted(matches)[:limit]]
