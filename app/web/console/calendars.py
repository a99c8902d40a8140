"""Console section "Calendars": connect CalDAV accounts and ICS feeds, choose which calendars
block slots and which one receives new bookings, see how fresh each connection is, sync now,
disconnect.

Every rule lives in ``app.calendars.service`` (the same calls as ``/v2/calendars…`` and
``booking calendars …``); this module parses forms, calls it, and says what happened. Connecting
checks the account against the server first, so a wrong password or an unreachable server is a
400 with the server's reason and nothing saved. Passwords and feed addresses are never shown back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.dates import format_timedelta
from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings.errors import InvalidInput, NotFound
from app.calendars import service
from app.calendars.sync import CalendarSyncer, Outcome, SyncOptions
from app.dates import Formats, babel_locale
from app.db.models import CalendarConnection, ConnectedCalendar, Host
from app.db.session import create_sessionmaker
from app.i18n import _
from app.settings import Settings
from app.web.console.base import ConsoleController, done, page
from app.web.security import NO_STORE

HOME = "/console/calendars"
SYNC_DEADLINE = 20.0  # a host clicking "sync now" waits at most this long for the servers


@dataclass(frozen=True)
class Status:
    """How fresh a connection's busy times are, in the host's words."""

    badge: str  # ok | warn | danger | info
    label: str
    explanation: str = ""
    last_synced: str = ""  # "5 minutes ago"
    last_synced_full: str = ""  # the date and time, in the host's zone
    last_synced_iso: str = ""
    error: str = ""  # the server's own answer (English, technical), shown as a detail


def connection_status(
    connection: CalendarConnection, host: Host, options: SyncOptions, now: datetime
) -> Status:
    """The badge and the sentence the page shows for a connection (``options``: the sync's
    own thresholds, so "out of date" here is when the host is emailed about it)."""
    formats = Formats.of(host.locale, host.timezone)
    success = connection.last_success_at
    synced: dict[str, str] = {"error": connection.last_error}
    if success is not None:
        synced |= {
            "last_synced": format_timedelta(
                success - now, add_direction=True, locale=babel_locale(host.locale)
            ),
            "last_synced_full": formats.stamp(success),
            "last_synced_iso": success.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    if connection.invalid:
        return Status(
            "danger",
            _("Password refused"),
            _(
                "The server refused the user name or password, so this calendar is no longer "
                "read. Connect it again with a valid app password; until then its last known "
                "busy times still block your slots."
            ),
            **synced,
        )
    if connection.last_error:
        since = connection.failing_since or now
        stale = now - since >= options.stale_notify_after
        return Status(
            "danger" if stale else "warn",
            _("Out of date") if stale else _("Cannot be read right now"),
            _(
                "We cannot read this calendar since %(when)s. Its last known busy times still "
                "block your slots, but changes made since then do not. We keep trying.",
                when=formats.stamp(since),
            ),
            **synced,
        )
    if success is None:
        return Status(
            "info",
            _("Not read yet"),
            _(
                "Its busy times are read in the background within minutes, or at once with Sync now."
            ),
            **synced,
        )
    if now - success >= options.stale_notify_after:
        return Status(
            "warn",
            _("Out of date"),
            _("This calendar has not been read for a while: its busy times may be out of date."),
            **synced,
        )
    return Status("ok", _("Up to date"), **synced)


def kind_name(connection: CalendarConnection) -> str:
    if connection.integration == "apple_calendar":
        return _("iCloud")
    if connection.kind == "ics_feed":
        return _("ICS feed")
    return _("CalDAV")


def _form_value(form: FormMultiDict, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _ids(values: list[Any]) -> set[int]:
    """Calendar ids from a form (checkbox and radio values); what is no number is left out."""
    found = set()
    for value in values:
        if isinstance(value, str) and value.isdigit() and len(value) < 10:
            found.add(int(value))
    return found


class CalendarsController(ConsoleController):
    path = "/console/calendars"
    section = "calendars"
    cache_control = NO_STORE

    async def _page(
        self,
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        connections = await service.list_connections(db_session, host.id)
        options = SyncOptions.from_settings(settings)
        now = clock.utcnow()
        return page(
            "console/calendars/index.html",
            section="calendars",
            status_code=status_code,
            connections=[
                (c, connection_status(c, host, options, now), kind_name(c)) for c in connections
            ],
            has_writable=any(not cal.read_only for c in connections for cal in c.calendars),
            has_destination=any(cal.destination for c in connections for cal in c.calendars),
            formats=Formats.of(host.locale, host.timezone),
            caldav=context.pop("caldav", {"kind": "caldav", "url": "", "username": ""}),
            **context,
        )

    @get("/", name="console:calendars")
    async def index(self, host: Host, db_session: AsyncSession, settings: Settings) -> Template:
        return await self._page(host, db_session, settings)

    @post("/caldav")
    async def connect_caldav(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
    ) -> Template | Any:
        form = await request.form()
        kind = "apple" if _form_value(form, "kind") == "apple" else "caldav"
        url = _form_value(form, "url").strip()
        username = _form_value(form, "username").strip()
        try:
            connection = await service.connect_caldav(
                db_session,
                settings,
                host,
                calendar=kind,
                username=username,
                password=_form_value(form, "password"),
                url=url if kind == "caldav" else None,
            )
        except InvalidInput as exc:
            return await self._page(
                host,
                db_session,
                settings,
                status_code=400,
                caldav={"kind": kind, "url": url, "username": username},
                caldav_error=exc.message,
                caldav_field=exc.field,
            )
        outcomes = await _sync(request, settings, [connection.id])
        message = _(
            "%(name)s is connected. Calendars found: %(count)s.",
            name=connection.label,
            count=len(connection.calendars),
        )
        return done(request, " ".join([message, *_said(outcomes, connection)]), HOME)

    @post("/ics")
    async def connect_feed(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
    ) -> Template | Any:
        form = await request.form()
        try:
            connection = await service.save_ics_feeds(
                db_session, settings, host, [_form_value(form, "feed_url")]
            )
        except InvalidInput as exc:
            # The feed's address is a secret (Google's private iCal address): not shown back.
            return await self._page(
                host, db_session, settings, status_code=400, ics_error=exc.message
            )
        outcomes = await _sync(request, settings, [connection.id])
        message = _("The feed from %(name)s is connected.", name=connection.label)
        return done(request, " ".join([message, *_said(outcomes, connection)]), HOME)

    @post("/choices")
    async def save_choices(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
    ) -> Template | Any:
        form = await request.form()
        connections = await service.list_connections(db_session, host.id)
        calendars: dict[int, tuple[CalendarConnection, ConnectedCalendar]] = {
            cal.id: (c, cal) for c in connections for cal in c.calendars
        }
        wanted = _ids(form.getall("selected") if "selected" in form else [])
        destination_id = _ids([_form_value(form, "destination")])
        unknown = (wanted | destination_id) - set(calendars)
        if unknown:  # another host's calendar, or one disconnected meanwhile
            raise NotFound(_("No connected calendar %(id)s.", id=min(unknown)))
        # The destination first: the service refuses a read-only one before anything changed.
        for calendar_id in destination_id:
            connection, calendar = calendars[calendar_id]
            if calendar.destination:
                continue
            try:
                await service.set_destination(
                    db_session,
                    host,
                    integration=connection.integration,
                    external_id=calendar.external_id,
                )
            except InvalidInput as exc:
                return await self._page(
                    host, db_session, settings, status_code=400, choices_error=exc.message
                )
        newly_selected = False
        for calendar_id, (connection, calendar) in calendars.items():
            selected = calendar_id in wanted
            if selected != calendar.selected:
                await service.set_selected(
                    db_session,
                    host,
                    integration=connection.integration,
                    external_id=calendar.external_id,
                    credential_id=connection.id,
                    selected=selected,
                )
                newly_selected = newly_selected or selected
        message = _("Your choices are saved.")
        if newly_selected:
            message += " " + _(
                "The calendars you added block your slots once they are read, within a minute "
                "(or at once with Sync now)."
            )
        return done(request, message, HOME)

    @post("/{connection_id:int}/sync")
    async def sync_now(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
        connection_id: int,
    ) -> Any:
        connection = await service.find_connection(db_session, host, connection_id)
        await service.request_sync(db_session, host, connection.id)
        outcomes = await _sync(request, settings, [connection.id])
        said = _said(outcomes, connection)
        failed = any(not o.ok for o in outcomes)
        return done(request, " ".join(said), HOME, "error" if failed else "success")

    @get("/{connection_id:int}/disconnect")
    async def confirm_disconnect(
        self, host: Host, db_session: AsyncSession, connection_id: int
    ) -> Template:
        connection = await service.find_connection(db_session, host, connection_id)
        return page(
            "console/calendars/disconnect.html",
            section="calendars",
            connection=connection,
            kind=kind_name(connection),
        )

    @post("/{connection_id:int}/disconnect")
    async def disconnect(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        connection_id: int,
    ) -> Redirect | Any:
        connection = await service.disconnect(db_session, host, connection_id)
        return done(
            request,
            _(
                "%(name)s is disconnected: its calendars no longer block your slots.",
                name=connection.label,
            ),
            HOME,
        )


async def _sync(
    request: Request[Any, Any, Any], settings: Settings, ids: list[int]
) -> list[Outcome]:
    """Read these connections now, as ``booking calendars sync`` does, waiting a bounded time."""
    syncer = CalendarSyncer(settings, create_sessionmaker(request.app.state.engine))
    return await syncer.sync(ids, deadline=SYNC_DEADLINE)


def _said(outcomes: list[Outcome], connection: CalendarConnection) -> list[str]:
    if not outcomes:
        return [
            _(
                "%(name)s is being read right now: reload this page in a moment.",
                name=connection.label,
            )
        ]
    lines = []
    for outcome in outcomes:
        if outcome.ok:
            lines.append(_("%(name)s is up to date.", name=connection.label))
        elif outcome.invalid:
            lines.append(
                _(
                    "%(name)s refused the user name or password: connect it again with a valid "
                    "app password.",
                    name=connection.label,
                )
            )
        else:
            lines.append(
                _(
                    "%(name)s could not be read: %(reason)s",
                    name=connection.label,
                    reason=outcome.error,
                )
            )
    return lines
