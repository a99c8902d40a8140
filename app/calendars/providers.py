"""The one interface every kind of calendar connection implements, and the errors it raises.

A provider talks to one account on one server. The sync module asks it three things, and the
write-back two more; nothing else in the package knows which kind of server it talks to, so an
OAuth provider (Google, Microsoft) is one more class here, not a change to the slot engine:

- ``discover()``: the account's calendars (what the host can select and write to);
- ``changes(calendar, known, window)``: what changed in a calendar since the state we stored
  (``known``: the server's change tag and the etag of each resource we hold), for the window we
  need. A provider answers as incrementally as its server allows: nothing at all when the change
  tag (CalDAV ctag/sync-token, a feed's ETag/Last-Modified) says nothing changed, else only the
  resources whose etag moved;
- ``put_event(calendar, uid, data, href)`` and ``delete_event(href)``: the booking's event in the
  destination calendar.

Every failure is a ``CalendarError`` whose message a host can act on (wrong password, not a CalDAV
server, timed out, …); ``retry`` says whether trying again later can help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from app.scheduling import Interval


class CalendarError(Exception):
    """A calendar server could not be used; ``message`` says why, for the host."""

    retry = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthFailed(CalendarError):
    """The server refused the user name or password (401/403): retrying will not help."""

    retry = False


class NotACalendar(CalendarError):
    """The URL answers, but not as a CalDAV server or an iCalendar feed."""

    retry = False


class CalendarGone(CalendarError):
    """The calendar (or feed) no longer exists on the server (404/410)."""

    retry = False


class Unreachable(CalendarError):
    """Connection refused or reset, DNS failure, TLS failure, timeout, 5xx: try again later."""


class BadData(CalendarError):
    """The server sent data we refuse (too large, not iCalendar)."""


@dataclass(frozen=True)
class RemoteCalendar:
    external_id: str  # the calendar's URL (CalDAV) or an opaque name (a feed)
    name: str
    read_only: bool
    timezone: str = ""  # the calendar's own zone, if it says


@dataclass(frozen=True)
class Known:
    """What we stored after the last sync of a calendar."""

    tag: str = ""  # CalDAV ctag or sync-token; a feed's ETag
    last_modified: str = ""  # a feed's Last-Modified
    etags: dict[str, str] = field(default_factory=dict)  # href -> etag of the resources we hold
    window: Interval | None = None  # the window those resources were read for


@dataclass
class Changes:
    """What to apply to the stored copy of a calendar.

    ``unchanged``: nothing moved on the server (the stored resources stand). Otherwise
    ``upserts`` (href -> (etag, data)) are new or changed resources and ``removed`` are hrefs to
    forget; with ``complete`` the upserts are the whole calendar (a feed) and anything else
    stored is removed.
    """

    unchanged: bool = False
    upserts: dict[str, tuple[str, str]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    complete: bool = False
    tag: str = ""
    last_modified: str = ""
    timezone: str = ""


@dataclass(frozen=True)
class WrittenEvent:
    href: str
    etag: str = ""


class Provider(Protocol):
    async def discover(self) -> list[RemoteCalendar]: ...

    async def changes(
        self, calendar: RemoteCalendar, known: Known, window: Interval
    ) -> Changes: ...

    async def put_event(
        self, calendar: RemoteCalendar, uid: str, data: str, href: str | None
    ) -> WrittenEvent: ...

    async def delete_event(self, href: str) -> None: ...

    async def aclose(self) -> None: ...
