"""Calendar connections as a host manages them: connect, select, choose the destination,
disconnect, list with their sync status, busy times. The CLI, ``/v2/calendars…`` and the console
call these; none of them talks to a server except ``connect_*``, which checks the account before
saving it, so a wrong password or a URL that is not a calendar is refused with a clear 400 and
nothing is saved.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import clock
from app.bookings.errors import InvalidInput, NotFound
from app.calendars.busy import remerge
from app.calendars.caldav_provider import CalDAVProvider
from app.calendars.connections import APPLE_URL, open_provider, sealed
from app.calendars.expand import Limits
from app.calendars.ics_feed import IcsFeedProvider
from app.calendars.providers import CalendarError, Provider, RemoteCalendar
from app.db.models import (
    CalendarBusy,
    CalendarConnection,
    CalendarEventRef,
    ConnectedCalendar,
    Host,
)
from app.db.session import begin_write
from app.i18n import _
from app.net import check_outbound_url, outbound_client
from app.settings import Settings

CHECK_TIMEOUT = 20.0  # connecting waits at most this long for the server
MAX_FEEDS = 10

# Cal.com's names: the path's {calendar} and the integration types ``GET /v2/calendars`` lists.
INTEGRATIONS = {"apple": "apple_calendar", "caldav": "caldav_calendar"}
ICS_INTEGRATION = "ics-feed_calendar"
T = TypeVar("T")


@dataclass(frozen=True)
class BusyTime:
    start: datetime
    end: datetime
    calendar: str


# Connecting --------------------------------------------------------------------------------------


async def connect_caldav(
    session: AsyncSession,
    settings: Settings,
    host: Host,
    *,
    calendar: str,
    username: str,
    password: str,
    url: str | None = None,
) -> CalendarConnection:
    """Check the account (it must list at least one event calendar), then save it sealed.

    ``calendar`` is Cal.com's path name: ``apple`` (iCloud's server) or ``caldav`` (``url``).
    Saving the same account again replaces its password (and clears a refused one).
    """
    if calendar not in INTEGRATIONS:
        raise InvalidInput(
            _("Unknown calendar '%(name)s': use apple or caldav.", name=calendar[:40]), "calendar"
        )
    if calendar == "apple":
        url = APPLE_URL
    username, password = (username or "").strip(), password or ""
    if not url:
        raise InvalidInput(_("url is required: the address of the CalDAV server."), "url")
    if not username or len(username) > 320:
        raise InvalidInput(_("username is required (at most 320 characters)."), "username")
    if not password or len(password) > 1000:
        raise InvalidInput(_("password is required (at most 1000 characters)."), "password")
    url = await check_outbound_url(url.strip(), allow_private=settings.allow_private_urls)
    provider = CalDAVProvider(url, username, password, _client(settings))
    remote = await _ask(provider.discover(), provider)
    if not remote:
        raise InvalidInput(_("The account has no calendar for events."), "url")
    existing = (
        await session.scalars(
            select(CalendarConnection)
            .where(
                CalendarConnection.host_id == host.id,
                CalendarConnection.kind == "caldav",
                CalendarConnection.username == username,
                CalendarConnection.label == _label(url),
            )
            .options(selectinload(CalendarConnection.calendars))
        )
    ).first()
    await begin_write(session)
    now = clock.utcnow()
    if existing is not None:
        await session.refresh(existing, ["calendars"])
        existing.password_sealed = sealed(settings, password)
        existing.url_sealed = sealed(settings, url)
        existing.invalid = False
        existing.next_sync_at = now
        existing.last_error = ""
        connection = existing
    else:
        connection = CalendarConnection(
            host_id=host.id,
            kind="caldav",
            integration=INTEGRATIONS[calendar],
            label=_label(url),
            url_sealed=sealed(settings, url),
            username=username,
            password_sealed=sealed(settings, password),
            next_sync_at=now,
            calendars=[],
        )
        session.add(connection)
    _merge_calendars(connection, host, remote)
    await session.flush()
    await _default_destination(session, host.id, connection)
    await session.commit()
    return connection


async def save_ics_feeds(
    session: AsyncSession, settings: Settings, host: Host, urls: list[str]
) -> CalendarConnection:
    """One connection holding the feeds (Cal.com's ``ics-feed/save``), each fetched once first."""
    if not urls:
        raise InvalidInput(_("urls must list at least one feed address."), "urls")
    if len(urls) > MAX_FEEDS:
        raise InvalidInput(_("At most %(n)d feeds at once.", n=MAX_FEEDS), "urls")
    checked: dict[str, str] = {}
    for index, raw in enumerate(urls):
        field = f"urls[{index}]"
        url = (raw or "").strip()
        if url.lower().startswith("webcal://"):
            url = "https://" + url[len("webcal://") :]
        if len(url) > 2000:
            raise InvalidInput(_("%(field)s is too long.", field=field), field)
        url = await check_outbound_url(url, allow_private=settings.allow_private_urls, field=field)
        checked[f"ics-feed:{secrets.token_hex(6)}"] = url
    found: list[RemoteCalendar] = []
    for index, (external_id, url) in enumerate(checked.items()):
        provider = IcsFeedProvider({external_id: url}, _client(settings), Limits())
        found += await _ask(provider.discover(), provider, field=f"urls[{index}]")
    await begin_write(session)
    connection = CalendarConnection(
        host_id=host.id,
        kind="ics_feed",
        integration=ICS_INTEGRATION,
        label=", ".join(sorted({_label(u) for u in checked.values()}))[:200],
        next_sync_at=clock.utcnow(),
        calendars=[
            ConnectedCalendar(
                host_id=host.id,
                external_id=remote.external_id,
                url_sealed=sealed(settings, checked[remote.external_id]),
                name=remote.name,
                timezone=remote.timezone,
                read_only=True,
            )
            for remote in found
        ],
    )
    session.add(connection)
    await session.commit()
    return connection


async def check_connection(
    session: AsyncSession, settings: Settings, host: Host, integration: str
) -> CalendarConnection:
    """Ask the server now whether the host's connection(s) of this kind still work (400 if not),
    and make them due for a sync."""
    connections = await _of_kind(session, host.id, integration)
    if not connections:
        raise NotFound(_("No %(name)s calendar is connected.", name=integration))
    for connection in connections:
        provider = open_provider(
            settings, connection, connection.calendars, request_timeout=CHECK_TIMEOUT
        )
        await _ask(provider.discover(), provider)
    # It works: read it again soon (and again at all, if its password had been refused).
    for connection in connections:
        await request_sync(session, host, connection.id)
    return connections[0]


# Choosing ---------------------------------------------------------------------------------------


async def set_selected(
    session: AsyncSession,
    host: Host,
    *,
    integration: str,
    external_id: str,
    credential_id: int | None,
    selected: bool,
) -> ConnectedCalendar:
    """Whether a calendar's events block the host's slots. Unselecting drops its busy times at
    once; selecting makes its connection due, so they come back on the next sync."""
    calendar = await find_calendar(session, host, integration, external_id, credential_id)
    await begin_write(session)
    await session.execute(
        update(ConnectedCalendar)
        .where(ConnectedCalendar.id == calendar.id)
        .values(selected=selected, synced_from=None, synced_until=None)
    )
    if selected:
        await session.execute(
            update(CalendarConnection)
            .where(CalendarConnection.id == calendar.connection_id)
            .values(next_sync_at=clock.utcnow())
        )
    else:
        await session.execute(delete(CalendarBusy).where(CalendarBusy.calendar_id == calendar.id))
        await remerge(session, host.id)
    await session.commit()
    await session.refresh(calendar)
    return calendar


async def set_destination(
    session: AsyncSession, host: Host, *, integration: str, external_id: str
) -> ConnectedCalendar:
    """The calendar new bookings are written to (a writable CalDAV calendar; one per host)."""
    calendar = await find_calendar(session, host, integration, external_id, None)
    if calendar.read_only:
        raise InvalidInput(
            _(
                "The calendar '%(name)s' is read-only: bookings cannot be written to it.",
                name=calendar.name,
            ),
            "externalId",
        )
    await begin_write(session)
    await session.execute(
        update(ConnectedCalendar)
        .where(ConnectedCalendar.host_id == host.id, ConnectedCalendar.id != calendar.id)
        .values(destination=False)
    )
    await session.execute(
        update(ConnectedCalendar)
        .where(ConnectedCalendar.id == calendar.id)
        .values(destination=True)
    )
    await session.commit()
    await session.refresh(calendar)
    return calendar


async def disconnect(session: AsyncSession, host: Host, credential_id: int) -> CalendarConnection:
    """Forget a connection, its calendars and their busy times (events already written stay in
    the host's calendar; their references say where)."""
    connection = await find_connection(session, host, credential_id)
    await begin_write(session)
    calendar_ids = select(ConnectedCalendar.id).where(
        ConnectedCalendar.connection_id == connection.id
    )
    await session.execute(delete(CalendarBusy).where(CalendarBusy.calendar_id.in_(calendar_ids)))
    await session.execute(
        update(CalendarEventRef)
        .where(CalendarEventRef.calendar_id.in_(calendar_ids))
        .values(calendar_id=None)
    )
    await session.execute(delete(CalendarConnection).where(CalendarConnection.id == connection.id))
    await remerge(session, host.id)
    await session.commit()
    return connection


async def request_sync(session: AsyncSession, host: Host, credential_id: int | None = None) -> None:
    """Make the host's connections (or one) due now: the sync worker reads them next."""
    await begin_write(session)
    query = update(CalendarConnection).where(CalendarConnection.host_id == host.id)
    if credential_id is not None:
        query = query.where(CalendarConnection.id == credential_id)
    await session.execute(query.values(next_sync_at=clock.utcnow(), invalid=False))
    await session.commit()


# Reading ----------------------------------------------------------------------------------------


async def list_connections(session: AsyncSession, host_id: int) -> list[CalendarConnection]:
    return list(
        await session.scalars(
            select(CalendarConnection)
            .where(CalendarConnection.host_id == host_id)
            .options(selectinload(CalendarConnection.calendars))
            .order_by(CalendarConnection.id)
        )
    )


async def find_connection(
    session: AsyncSession, host: Host, credential_id: int
) -> CalendarConnection:
    connection = (
        await session.scalars(
            select(CalendarConnection)
            .where(CalendarConnection.id == credential_id, CalendarConnection.host_id == host.id)
            .options(selectinload(CalendarConnection.calendars))
        )
    ).first()
    if connection is None:
        raise NotFound(_("No calendar connection %(id)s.", id=credential_id))
    return connection


async def find_calendar(
    session: AsyncSession,
    host: Host,
    integration: str,
    external_id: str,
    credential_id: int | None,
) -> ConnectedCalendar:
    query = (
        select(ConnectedCalendar)
        .join(CalendarConnection)
        .where(
            ConnectedCalendar.host_id == host.id,
            ConnectedCalendar.external_id == external_id,
            CalendarConnection.integration == integration,
        )
    )
    if credential_id is not None:
        query = query.where(ConnectedCalendar.connection_id == credential_id)
    calendar = (await session.scalars(query)).first()
    if calendar is None:
        raise NotFound(_("No connected calendar %(id)s.", id=external_id[:200]))
    return calendar


async def busy_times(
    session: AsyncSession,
    host_id: int,
    start: datetime,
    end: datetime,
    *,
    credential_id: int | None = None,
    external_id: str | None = None,
) -> list[BusyTime]:
    """The synced busy times overlapping [start, end) (of one calendar, or all selected ones)."""
    query = (
        select(CalendarBusy.start, CalendarBusy.end, ConnectedCalendar.name)
        .join(ConnectedCalendar, ConnectedCalendar.id == CalendarBusy.calendar_id)
        .where(CalendarBusy.host_id == host_id, CalendarBusy.end > start, CalendarBusy.start < end)
        .order_by(CalendarBusy.start, CalendarBusy.end)
    )
    if credential_id is not None:
        query = query.where(ConnectedCalendar.connection_id == credential_id)
    if external_id is not None:
        query = query.where(ConnectedCalendar.external_id == external_id)
    return [BusyTime(s, e, name) for s, e, name in (await session.execute(query)).all()]


async def destination(session: AsyncSession, host_id: int) -> ConnectedCalendar | None:
    return (
        await session.scalars(
            select(ConnectedCalendar).where(
                ConnectedCalendar.host_id == host_id, ConnectedCalendar.destination.is_(True)
            )
        )
    ).first()


# Helpers ----------------------------------------------------------------------------------------


def _client(settings: Settings) -> httpx.AsyncClient:
    return outbound_client(allow_private=settings.allow_private_urls, timeout=CHECK_TIMEOUT)


async def _ask(work: Awaitable[T], provider: Provider, field: str = "url") -> T:
    """Await a provider call for a host waiting on it: bounded, and failures as a 400."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT + 5):
            return await work
    except CalendarError as exc:
        raise InvalidInput(
            _("The calendar could not be connected: %(reason)s", reason=exc.message), field
        ) from None
    except TimeoutError:
        raise InvalidInput(
            _("The calendar server did not answer in %(n)d seconds.", n=int(CHECK_TIMEOUT)), field
        ) from None
    finally:
        await provider.aclose()


def _label(url: str) -> str:
    from app.calendars.http import host_of

    return host_of(url)[:200]


def _merge_calendars(
    connection: CalendarConnection, host: Host, remote: list[RemoteCalendar]
) -> None:
    known = {c.external_id: c for c in connection.calendars}
    for found in remote:
        calendar = known.get(found.external_id)
        if calendar is None:
            connection.calendars.append(
                ConnectedCalendar(
                    host_id=host.id,
                    external_id=found.external_id,
                    name=found.name,
                    timezone=found.timezone,
                    read_only=found.read_only,
                    selected=True,
                )
            )
        else:
            calendar.name, calendar.read_only = found.name, found.read_only


async def _default_destination(
    session: AsyncSession, host_id: int, connection: CalendarConnection
) -> None:
    """A host's first writable calendar becomes its destination, as in Cal.com."""
    if await destination(session, host_id) is not None:
        return
    for calendar in connection.calendars:
        if not calendar.read_only:
            calendar.destination = True
            return


async def _of_kind(
    session: AsyncSession, host_id: int, integration: str
) -> list[CalendarConnection]:
    return [c for c in await list_connections(session, host_id) if c.integration == integration]
