"""'Add to calendar' links for a booking: Google Calendar, Outlook.com, Office 365, Yahoo, .ics.

Pure functions: the title, times, description and place go into each service's own "new event"
link (its documented query parameters), which the reader opens while signed in there.
Cal.com's ``GET /v2/bookings/{uid}/calendar-links`` answers these as ``{label, link}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class CalendarEntry:
    title: str
    start: datetime
    end: datetime
    description: str = ""
    location: str = ""


def _compact(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _query(values: dict[str, str]) -> str:
    return urlencode({k: v for k, v in values.items() if v}, quote_via=quote)


def google(entry: CalendarEntry) -> str:
    dates = f"{_compact(entry.start)}/{_compact(entry.end)}"
    query = _query(
        {
            "action": "TEMPLATE",
            "text": entry.title,
            "dates": dates,
            "details": entry.description,
            "location": entry.location,
        }
    )
    return f"https://calendar.google.com/calendar/r/eventedit?{query}"


def _microsoft(host: str, entry: CalendarEntry) -> str:
    query = _query(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "startdt": _iso(entry.start),
            "enddt": _iso(entry.end),
            "subject": entry.title,
            "body": entry.description,
            "location": entry.location,
        }
    )
    return f"https://{host}/calendar/0/deeplink/compose?{query}"


def outlook(entry: CalendarEntry) -> str:
    """Outlook.com (personal Microsoft accounts)."""
    return _microsoft("outlook.live.com", entry)


def office365(entry: CalendarEntry) -> str:
    """Outlook on the web for work and school accounts (Microsoft 365)."""
    return _microsoft("outlook.office.com", entry)


def yahoo(entry: CalendarEntry) -> str:
    query = _query(
        {
            "v": "60",
            "title": entry.title,
            "st": _compact(entry.start),
            "et": _compact(entry.end),
            "desc": entry.description,
            "in_loc": entry.location,
        }
    )
    return f"https://calendar.yahoo.com/?{query}"


def links(entry: CalendarEntry, ics_url: str) -> list[tuple[str, str]]:
    """(label, link) for each calendar, Cal.com's labels first, then Yahoo."""
    return [
        ("Google Calendar", google(entry)),
        ("Microsoft Office", office365(entry)),
        ("Microsoft Outlook", outlook(entry)),
        ("Yahoo Calendar", yahoo(entry)),
        ("ICS", ics_url),
    ]
