"""CalDAV (RFC 4791) accounts: Nextcloud, Fastmail, iCloud, Radicale, Xandikos, …

Built on the ``caldav`` library's async client (``caldav.aio``): its request pipeline, principal
discovery and multistatus parsing. Its HTTP goes through our own client instead of the one it
would pick (niquests), by overriding the one method that sends a request: so every URL the
server points us to (principal, calendar home, calendars) passes ``app.net``'s address checks,
bodies are size-capped, and each failure becomes a ``CalendarError`` with a message for the host.

Reading a calendar is incremental in two steps. A PROPFIND of the calendar's change tag (CalDAV's
``getctag``/``sync-token``) answers "nothing changed" in one small request. When it moved, a
``calendar-query`` over the window asks for ETags only, and a ``calendar-multiget`` fetches just
the resources whose ETag is new. (``sync-collection`` alone cannot be limited to a window, and
would fetch a host's whole history on the first sync.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx
from caldav.aio import AsyncDAVClient, DAVResponse

from app.calendars.http import host_of, send
from app.calendars.providers import (
    AuthFailed,
    CalendarGone,
    Changes,
    Known,
    NotACalendar,
    RemoteCalendar,
    Unreachable,
    WrittenEvent,
)
from app.scheduling import Interval

MAX_RESPONSE_BYTES = 10_000_000
MULTIGET_BATCH = 50
CALDAV = "urn:ietf:params:xml:ns:caldav"
HOME_SET = f"{{{CALDAV}}}calendar-home-set"
WRITE_PRIVILEGES = {"{DAV:}write", "{DAV:}write-content", "{DAV:}bind", "{DAV:}all"}

_NAMESPACES = (
    'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" '
    'xmlns:cs="http://calendarserver.org/ns/"'
)
_CALENDAR_PROPS = (
    '<?xml version="1.0" encoding="utf-8"?>'
    f"<d:propfind {_NAMESPACES}><d:prop>"
    "<d:resourcetype/><d:displayname/><c:supported-calendar-component-set/>"
    "<d:current-user-privilege-set/><c:calendar-timezone/><cs:getctag/><d:sync-token/>"
    "</d:prop></d:propfind>"
)
_CHANGE_TAG = (
    '<?xml version="1.0" encoding="utf-8"?>'
    f"<d:propfind {_NAMESPACES}><d:prop><cs:getctag/><d:sync-token/></d:prop></d:propfind>"
)


def _etags_in(window: Interval) -> str:
    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y%m%dT%H%M%SZ")

    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<c:calendar-query {_NAMESPACES}><d:prop><d:getetag/></d:prop>"
        '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
        f'<c:time-range start="{stamp(window.start)}" end="{stamp(window.end)}"/>'
        "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
    )


def _multiget(hrefs: list[str]) -> str:
    refs = "".join(
        f"<d:href>{_escape(quote(urlsplit(href).path, safe=_HREF_SAFE))}</d:href>" for href in hrefs
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<c:calendar-multiget {_NAMESPACES}><d:prop><d:getetag/><c:calendar-data/></d:prop>"
        f"{refs}</c:calendar-multiget>"
    )


_HREF_SAFE = "/:@!$&'()*+,;=~%"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Client(AsyncDAVClient):
    """caldav's async client, its requests sent by our HTTP client (see the module docstring)."""

    def __init__(self, url: str, username: str, password: str, http: httpx.AsyncClient) -> None:
        self._http = http
        self._auth: httpx.Auth = httpx.BasicAuth(username, password)
        super().__init__(url=url, username=username, password=password, enable_rfc6764=False)

    def _create_session(self) -> None:
        self.session = None  # we send with self._http

    async def close(self) -> None:
        await self._http.aclose()

    async def _async_request(
        self,
        url: str,
        method: str = "GET",
        body: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> DAVResponse:
        url_obj, combined = self._prepare_request(url, method, body, headers)
        content = body.encode() if isinstance(body, str) and body else (body or None)
        response, raw, _ = await send(
            self._http,
            method,
            str(url_obj),
            headers=dict(combined),
            content=content,
            auth=self._auth,
            max_bytes=MAX_RESPONSE_BYTES,
        )
        challenge = response.headers.get("www-authenticate", "").lower()
        if (
            response.status_code == 401
            and challenge.startswith("digest")
            and isinstance(self._auth, httpx.BasicAuth)
        ):
            self._auth = httpx.DigestAuth(self.username or "", self.password or "")
            return await self._async_request(url, method, body, headers)
        if response.status_code == 401:
            raise AuthFailed(f"{host_of(str(url_obj))} refused the user name or password (401)")
        # caldav parses what it is given; hand it the body we read (and capped).
        return DAVResponse(_Read(response, raw), self)


class _Read:
    """An httpx response whose body was read by ``send`` (caldav reads these attributes)."""

    def __init__(self, response: httpx.Response, body: bytes) -> None:
        self.headers = response.headers
        self.status_code = response.status_code
        self.reason_phrase = response.reason_phrase
        self.content = body
        self.text = body.decode("utf-8", errors="replace")


class CalDAVProvider:
    def __init__(self, url: str, username: str, password: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self.host = host_of(url)
        self.client = _Client(url, username, password, http)

    async def aclose(self) -> None:
        await self.client.close()

    # Reading ------------------------------------------------------------------------------------

    async def discover(self) -> list[RemoteCalendar]:
        """The account's event calendars: principal -> calendar home -> calendars."""
        probe = await self.client.propfind(
            self.url, props=["{DAV:}current-user-principal"], depth=0
        )
        if probe.status in (404, 410):
            raise NotACalendar(f"{self.host} has nothing at this URL ({probe.status})")
        if probe.status != 207:
            raise NotACalendar(
                f"{self.host} does not answer as a CalDAV server (HTTP {probe.status})"
            )
        principal = await self.client.get_principal()
        answer = await self.client.propfind(str(principal.url), props=[HOME_SET], depth=0)
        homes = _homes(answer, str(principal.url))
        if not homes:
            raise NotACalendar(f"{self.host} does not say where this account's calendars are")
        calendars: list[RemoteCalendar] = []
        for home in homes:
            listing = await self.client.propfind(home, body=_CALENDAR_PROPS, depth=1)
            for result in _results(listing):
                remote = _calendar(urljoin(home, result.href), result.properties)
                if remote is not None:
                    calendars.append(remote)
            if calendars:
                break
        return calendars

    async def changes(self, calendar: RemoteCalendar, known: Known, window: Interval) -> Changes:
        url = calendar.external_id
        answer = await self.client.propfind(url, body=_CHANGE_TAG, depth=0)
        self._raise_for(answer, url)
        tag = _tag(_results(answer)[0].properties) if _results(answer) else ""
        covered = known.window is not None and (
            known.window.start <= window.start and known.window.end >= window.end
        )
        if tag and tag == known.tag and covered:
            return Changes(unchanged=True, tag=tag)
        listing = await self.client.report(url, _etags_in(window), depth=1)
        self._raise_for(listing, url)
        etags = {
            urljoin(url, r.href): (r.etag or "")
            for r in listing.parse_calendar_query()
            if r.status < 300
        }
        wanted = [href for href, etag in etags.items() if not etag or known.etags.get(href) != etag]
        upserts: dict[str, tuple[str, str]] = {}
        for first in range(0, len(wanted), MULTIGET_BATCH):
            batch = wanted[first : first + MULTIGET_BATCH]
            got = await self.client.report(url, _multiget(batch), depth=1)
            self._raise_for(got, url)
            for result in got.parse_calendar_query():
                if result.status < 300 and result.calendar_data:
                    href = urljoin(url, result.href)
                    upserts[href] = (result.etag or etags.get(href, ""), result.calendar_data)
        removed = [href for href in known.etags if href not in etags]
        return Changes(upserts=upserts, removed=removed, tag=tag)

    # Writing ------------------------------------------------------------------------------------

    async def put_event(
        self, calendar: RemoteCalendar, uid: str, data: str, href: str | None
    ) -> WrittenEvent:
        target = href or urljoin(_folder(calendar.external_id), quote(uid, safe="") + ".ics")
        response = await self.client.put(
            target, data, headers={"Content-Type": "text/calendar; charset=utf-8"}
        )
        if response.status in (200, 201, 204):
            return WrittenEvent(href=target, etag=response.headers.get("etag", ""))
        if response.status == 403:
            raise AuthFailed(f"{self.host} does not let this account write to {calendar.name!r}")
        if response.status == 404:
            raise CalendarGone(f"the calendar {calendar.name!r} no longer exists on {self.host}")
        if response.status >= 500:
            raise Unreachable(f"{self.host} answered {response.status}: try again later")
        raise NotACalendar(f"{self.host} refused the event ({response.status})")

    async def delete_event(self, href: str) -> None:
        response = await self.client.delete(href)
        if response.status in (200, 204, 404, 410):
            return
        if response.status >= 500:
            raise Unreachable(f"{self.host} answered {response.status}: try again later")
        raise NotACalendar(f"{self.host} refused to delete the event ({response.status})")

    def _raise_for(self, response: DAVResponse, url: str) -> None:
        if response.status in (404, 410):
            raise CalendarGone(f"the calendar at {urlsplit(url).path} no longer exists")
        if response.status == 403:
            raise AuthFailed(f"{self.host} does not let this account read the calendar (403)")
        if response.status >= 500 or response.status == 429:
            raise Unreachable(f"{self.host} answered {response.status}: try again later")
        if response.status not in (200, 207):
            raise NotACalendar(f"{self.host} answered {response.status} to a CalDAV request")


def _results(response: DAVResponse) -> list[Any]:
    if response.status != 207:
        return []
    if response.results is None:
        with contextlib.suppress(Exception):
            response.results = list(response.parse_propfind())
    return list(response.results or [])


def _homes(response: DAVResponse, principal_url: str) -> list[str]:
    found: list[str] = []
    for result in _results(response):
        value = result.properties.get(HOME_SET)
        for href in value if isinstance(value, list) else [value] if value else []:
            found.append(urljoin(principal_url, str(href)))
    return found


def _calendar(url: str, properties: dict[str, Any]) -> RemoteCalendar | None:
    kinds = properties.get("{DAV:}resourcetype") or []
    if f"{{{CALDAV}}}calendar" not in (kinds if isinstance(kinds, list) else [kinds]):
        return None
    components = properties.get(f"{{{CALDAV}}}supported-calendar-component-set")
    if components and "VEVENT" not in (components if isinstance(components, list) else []):
        return None  # a task list
    privileges = properties.get("{DAV:}current-user-privilege-set")
    read_only = isinstance(privileges, list) and not WRITE_PRIVILEGES & set(privileges)
    name = str(properties.get("{DAV:}displayname") or "").strip()
    return RemoteCalendar(
        external_id=url,
        name=(name or urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or url)[:200],
        read_only=read_only,
        timezone=_tzid(properties.get(f"{{{CALDAV}}}calendar-timezone")),
    )


def _tag(properties: dict[str, Any]) -> str:
    return str(
        properties.get("{http://calendarserver.org/ns/}getctag")
        or properties.get("{DAV:}sync-token")
        or ""
    )[:300]


def _tzid(vtimezone: Any) -> str:
    """The TZID of a calendar-timezone property, if it is a zone we know."""
    from zoneinfo import ZoneInfo

    if not isinstance(vtimezone, str):
        return ""
    for line in vtimezone.splitlines():
        if line.upper().startswith("TZID:"):
            name = line[5:].strip()
            try:
                ZoneInfo(name)
            except (ValueError, KeyError, OSError):
                return ""
            return name
    return ""


def _folder(url: str) -> str:
    return url if url.endswith("/") else url + "/"
