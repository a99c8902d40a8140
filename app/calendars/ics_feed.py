"""ICS feeds (Google's secret iCal address, Outlook's published calendar, any ``.ics`` URL).

Read-only: one calendar per URL, fetched whole with a conditional GET (``If-None-Match`` with the
ETag, ``If-Modified-Since`` with the Last-Modified we stored), so an unchanged feed costs one
304 and no parsing. A feed cannot be written to; ``put_event`` says so.
"""

from __future__ import annotations

import httpx
import icalendar

from app.calendars import expand
from app.calendars.http import host_of, send
from app.calendars.providers import (
    AuthFailed,
    BadData,
    CalendarGone,
    Changes,
    Known,
    NotACalendar,
    RemoteCalendar,
    Unreachable,
    WrittenEvent,
)
from app.scheduling import Interval

FEED_HREF = ""  # a feed is stored as one resource


class IcsFeedProvider:
    """``feeds`` maps each calendar's external id to its URL (a secret: never in a message)."""

    def __init__(
        self, feeds: dict[str, str], http: httpx.AsyncClient, limits: expand.Limits
    ) -> None:
        self.feeds = feeds
        self.http = http
        self.limits = limits

    async def discover(self) -> list[RemoteCalendar]:
        found = []
        for external_id, url in self.feeds.items():
            data, _, _ = await self._get(url, Known())
            calendar = self._parse(url, data or "")
            name = str(calendar.get("X-WR-CALNAME", "")).strip()[:200] or host_of(url)
            found.append(
                RemoteCalendar(
                    external_id=external_id,
                    name=name,
                    read_only=True,
                    timezone=expand.calendar_zone(calendar) or "",
                )
            )
        return found

    async def changes(self, calendar: RemoteCalendar, known: Known, window: Interval) -> Changes:
        url = self.feeds[calendar.external_id]
        data, etag, last_modified = await self._get(url, known)
        if data is None:
            return Changes(unchanged=True, tag=known.tag, last_modified=known.last_modified)
        parsed = self._parse(url, data)
        return Changes(
            upserts={FEED_HREF: (etag, data)},
            complete=True,
            tag=etag,
            last_modified=last_modified,
            timezone=expand.calendar_zone(parsed) or "",
        )

    async def put_event(
        self, calendar: RemoteCalendar, uid: str, data: str, href: str | None
    ) -> WrittenEvent:
        raise NotACalendar("an ICS feed is read-only: bookings cannot be written to it")

    async def delete_event(self, href: str) -> None:
        raise NotACalendar("an ICS feed is read-only: bookings cannot be written to it")

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _get(self, url: str, known: Known) -> tuple[str | None, str, str]:
        """(text or None if unchanged, ETag, Last-Modified)."""
        headers = {"Accept": "text/calendar, */*;q=0.5"}
        if known.tag:
            headers["If-None-Match"] = known.tag
        if known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        response, body, _ = await send(
            self.http, "GET", url, headers=headers, max_bytes=self.limits.max_bytes
        )
        host = host_of(url)
        status = response.status_code
        if status == 304 and (known.tag or known.last_modified):
            return None, known.tag, known.last_modified
        if status in (401, 403):
            raise AuthFailed(f"{host} refused access to the feed ({status})")
        if status in (404, 410):
            raise CalendarGone(f"{host} says the feed does not exist ({status})")
        if status >= 500 or status == 429:
            raise Unreachable(f"{host} answered {status}: try again later")
        if status != 200:
            raise NotACalendar(f"{host} answered {status} instead of the feed")
        text = body.decode(response.encoding or "utf-8", errors="replace")
        return text, response.headers.get("etag", ""), response.headers.get("last-modified", "")

    def _parse(self, url: str, data: str) -> icalendar.Calendar:
        try:
            return expand.parse(data, self.limits)
        except expand.CalendarDataError as exc:
            if "not iCalendar" in exc.args[0]:
                raise NotACalendar(f"{host_of(url)} does not serve an iCalendar feed") from None
            raise BadData(f"{host_of(url)}: {exc.args[0]}") from None
