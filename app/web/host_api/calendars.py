"""``/v2/calendars…``, ``/v2/selected-calendars``, ``/v2/destination-calendars``: calendar
connections in Cal.com's shapes (rules in app/calendars/service.py).

Cal.com's ``{calendar}`` is ``apple`` (iCloud's CalDAV server); ``caldav`` works the same for any
server, its body adding ``url``. Feeds are saved with ``ics-feed/save``. ``credentialId`` is a
connection's id; ``externalId`` a calendar's URL on its server (an opaque name for a feed, whose
URL is a secret). Passwords and feed URLs are never returned.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import InvalidInput
from app.bookings.validation import check_timezone
from app.calendars import service
from app.db.models import CalendarConnection, ConnectedCalendar, Host
from app.i18n import _
from app.scheduling import local_day_window
from app.settings import Settings
from app.web.host_api.envelope import MAX_ID, Envelope, errors, ok

Text = Annotated[str, msgspec.Meta(max_length=2000)]
CalendarName = Annotated[str, Parameter(description="apple, caldav or ics-feed", max_length=40)]
MAX_BUSY_DAYS = 62
TITLES = {
    "apple_calendar": ("Apple Calendar", "apple-calendar"),
    "caldav_calendar": ("CalDav Server", "caldav-calendar"),
    "ics-feed_calendar": ("ICS Feed", "ics-feed"),
}
PATH_NAMES = {
    "apple": "apple_calendar",
    "caldav": "caldav_calendar",
    "ics-feed": "ics-feed_calendar",
}


class CredentialsIn(msgspec.Struct, rename="camel"):
    username: Annotated[str, msgspec.Meta(max_length=320)]
    password: Annotated[str, msgspec.Meta(max_length=1000)]
    url: Text | None = None


class IcsFeedIn(msgspec.Struct, rename="camel"):
    urls: Annotated[list[Text], msgspec.Meta(max_length=service.MAX_FEEDS)]
    read_only: bool = True


class DeleteCredentialsIn(msgspec.Struct, rename="camel"):
    id: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]


class SelectedIn(msgspec.Struct, rename="camel"):
    integration: Annotated[str, msgspec.Meta(max_length=40)]
    external_id: Text
    credential_id: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
    delegation_credential_id: str | None = None


class DestinationIn(msgspec.Struct, rename="camel"):
    integration: Annotated[str, msgspec.Meta(max_length=40)]
    external_id: Text
    delegation_credential_id: str | None = None


class CredentialOut(msgspec.Struct, rename="camel"):
    id: int
    type: str
    user_id: int
    team_id: int | None
    app_id: str
    invalid: bool


class IntegrationOut(msgspec.Struct, rename="camel"):
    name: str
    title: str
    description: str
    type: str
    slug: str
    variant: Literal["calendar"] = "calendar"
    categories: list[str] = msgspec.field(default_factory=lambda: ["calendar"])
    logo: str = ""
    publisher: str = "booking-widget"
    url: str = ""
    email: str = ""
    installed: bool = True
    location_option: None = None


class CalendarOut(msgspec.Struct, rename="camel"):
    external_id: str
    integration: str
    name: str
    primary: bool | None
    read_only: bool
    email: str
    is_selected: bool
    credential_id: int
    is_destination: bool
    last_synced_at: datetime | None
    last_error: str


class SyncStatusOut(msgspec.Struct, rename="camel"):
    """Not in Cal.com: how fresh this connection's busy times are."""

    last_success_at: datetime | None
    last_attempt_at: datetime | None
    next_sync_at: datetime
    last_error: str
    failing_since: datetime | None
    invalid: bool


class ConnectedOut(msgspec.Struct, rename="camel", kw_only=True):
    integration: IntegrationOut
    credential_id: int
    calendars: list[CalendarOut]
    sync_status: SyncStatusOut
    delegation_credential_id: None = None
    # Left out (not null) without one: Cal.com types it as an object (Primary).
    primary: CalendarOut | msgspec.UnsetType = msgspec.UNSET


class DestinationOut(msgspec.Struct, rename="camel"):
    id: int
    integration: str
    external_id: str
    primary_email: str | None
    user_id: int
    event_type_id: None
    credential_id: int
    name: str
    primary: bool
    read_only: bool
    email: str
    integration_title: str
    delegation_credential_id: None = None


class ConnectedCalendarsOut(msgspec.Struct, rename="camel", omit_defaults=True):
    connected_calendars: list[ConnectedOut]
    # Left out (not null) while none is chosen, as Cal.com does (tests/calcom_corrections.py).
    destination_calendar: DestinationOut | None = None


class BusyTimeOut(msgspec.Struct, rename="camel"):
    start: datetime
    end: datetime
    source: str | None


class ChosenOut(msgspec.Struct, rename="camel"):
    user_id: int
    integration: str
    external_id: str
    credential_id: int | None


class CheckOut(msgspec.Struct, rename="camel"):
    credential_id: int
    valid: bool


def _credential(connection: CalendarConnection, host: Host) -> CredentialOut:
    slug = TITLES.get(connection.integration, ("", connection.integration))[1]
    return CredentialOut(
        id=connection.id,
        type=connection.integration,
        user_id=host.id,
        team_id=None,
        app_id=slug,
        invalid=connection.invalid,
    )


def _calendar(calendar: ConnectedCalendar, connection: CalendarConnection) -> CalendarOut:
    return CalendarOut(
        external_id=calendar.external_id,
        integration=connection.integration,
        name=calendar.name,
        primary=calendar.destination or None,
        read_only=calendar.read_only,
        email=connection.username,
        is_selected=calendar.selected,
        credential_id=connection.id,
        is_destination=calendar.destination,
        last_synced_at=calendar.last_synced_at,
        last_error=calendar.last_error,
    )


def _connected(connection: CalendarConnection) -> ConnectedOut:
    title, slug = TITLES.get(
        connection.integration, (connection.integration, connection.integration)
    )
    calendars = [_calendar(c, connection) for c in connection.calendars]
    return ConnectedOut(
        integration=IntegrationOut(
            name=title,
            title=title,
            description=connection.label,
            type=connection.integration,
            slug=slug,
            email=connection.username,
        ),
        credential_id=connection.id,
        primary=next(
            (c for c in calendars if c.is_destination),
            calendars[0] if calendars else msgspec.UNSET,
        ),
        calendars=calendars,
        sync_status=SyncStatusOut(
            last_success_at=connection.last_success_at,
            last_attempt_at=connection.last_attempt_at,
            next_sync_at=connection.next_sync_at,
            last_error=connection.last_error,
            failing_since=connection.failing_since,
            invalid=connection.invalid,
        ),
    )


def _integration(path_name: str, allowed: tuple[str, ...]) -> str:
    integration = PATH_NAMES.get(path_name)
    if integration is None or path_name not in allowed:
        raise InvalidInput(
            _(
                "Unknown calendar '%(name)s': use one of %(names)s.",
                name=path_name[:40],
                names=", ".join(allowed),
            ),
            "calendar",
        )
    return integration


class CalendarController(Controller):
    path = "/calendars"
    tags = ["Calendars"]

    @get("/", summary="The host's connected calendars and destination calendar", responses=errors())
    async def list_calendars(
        self, host: Host, db_session: AsyncSession
    ) -> Envelope[ConnectedCalendarsOut]:
        connections = await service.list_connections(db_session, host.id)
        chosen = None
        for connection in connections:
            for calendar in connection.calendars:
                if calendar.destination:
                    title = TITLES.get(connection.integration, ("", ""))[0]
                    chosen = DestinationOut(
                        id=calendar.id,
                        integration=connection.integration,
                        external_id=calendar.external_id,
                        primary_email=connection.username or None,
                        user_id=host.id,
                        event_type_id=None,
                        credential_id=connection.id,
                        name=calendar.name,
                        primary=True,
                        read_only=calendar.read_only,
                        email=connection.username,
                        integration_title=title,
                    )
        return ok(ConnectedCalendarsOut([_connected(c) for c in connections], chosen))

    @get(
        "/busy-times",
        summary="Busy times synced from the host's calendars",
        responses=errors(),
    )
    async def busy_times(
        self,
        host: Host,
        db_session: AsyncSession,
        logged_in_users_tz: Annotated[str | None, Parameter(query="loggedInUsersTz")] = None,
        time_zone: Annotated[str | None, Parameter(query="timeZone")] = None,
        date_from: Annotated[date | None, Parameter(query="dateFrom")] = None,
        date_to: Annotated[date | None, Parameter(query="dateTo")] = None,
        credential_id: Annotated[
            int | None, Parameter(query="credentialId", ge=1, le=MAX_ID)
        ] = None,
        external_id: Annotated[str | None, Parameter(query="externalId", max_length=2000)] = None,
    ) -> Envelope[list[BusyTimeOut]]:
        zone = check_timezone(time_zone or logged_in_users_tz or host.timezone, "timeZone")
        first = date_from or datetime.now().date()
        last = date_to or first
        if last < first:
            raise InvalidInput(_("dateTo must not be before dateFrom."), "dateTo")
        if (last - first) > timedelta(days=MAX_BUSY_DAYS):
            raise InvalidInput(
                _("The range is too long (at most %(n)d days).", n=MAX_BUSY_DAYS), "dateTo"
            )
        window = local_day_window(first, last, zone)
        rows = await service.busy_times(
            db_session,
            host.id,
            window.start,
            window.end,
            credential_id=credential_id,
            external_id=external_id,
        )
        return ok([BusyTimeOut(r.start, r.end, r.calendar) for r in rows])

    @post("/ics-feed/save", summary="Save ICS feeds (read-only calendars)", responses=errors())
    async def save_ics_feed(
        self, host: Host, db_session: AsyncSession, settings: Settings, data: IcsFeedIn
    ) -> Envelope[CredentialOut]:
        connection = await service.save_ics_feeds(db_session, settings, host, list(data.urls))
        return ok(_credential(connection, host))

    @get("/ics-feed/check", summary="Check the host's ICS feeds now", responses=errors(404))
    async def check_ics_feed(
        self, host: Host, db_session: AsyncSession, settings: Settings
    ) -> Envelope[CheckOut]:
        connection = await service.check_connection(
            db_session, settings, host, service.ICS_INTEGRATION
        )
        return ok(CheckOut(connection.id, True))

    @post(
        "/{calendar:str}/credentials",
        summary="Connect a CalDAV account (apple: iCloud; caldav: any server, with url)",
        responses=errors(),
    )
    async def save_credentials(
        self,
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
        calendar: CalendarName,
        data: CredentialsIn,
    ) -> Envelope[CredentialOut]:
        _integration(calendar, ("apple", "caldav"))
        connection = await service.connect_caldav(
            db_session,
            settings,
            host,
            calendar=calendar,
            username=data.username,
            password=data.password,
            url=data.url,
        )
        return ok(_credential(connection, host))

    @get("/{calendar:str}/check", summary="Check a calendar connection now", responses=errors(404))
    async def check(
        self, host: Host, db_session: AsyncSession, settings: Settings, calendar: CalendarName
    ) -> Envelope[CheckOut]:
        integration = _integration(calendar, ("apple", "caldav", "ics-feed"))
        connection = await service.check_connection(db_session, settings, host, integration)
        return ok(CheckOut(connection.id, True))

    @post(
        "/{calendar:str}/disconnect",
        summary="Disconnect a calendar account",
        status_code=HTTP_200_OK,
        responses=errors(404),
    )
    async def disconnect(
        self,
        host: Host,
        db_session: AsyncSession,
        calendar: CalendarName,
        data: DeleteCredentialsIn,
    ) -> Envelope[CredentialOut]:
        _integration(calendar, ("apple", "caldav", "ics-feed"))
        connection = await service.disconnect(db_session, host, data.id)
        return ok(_credential(connection, host))


class SelectedCalendarController(Controller):
    path = "/selected-calendars"
    tags = ["Selected Calendars"]

    @post("/", summary="Let a calendar's events block slots", responses=errors(404))
    async def add(
        self, host: Host, db_session: AsyncSession, data: SelectedIn
    ) -> Envelope[ChosenOut]:
        calendar = await service.set_selected(
            db_session,
            host,
            integration=data.integration,
            external_id=data.external_id,
            credential_id=data.credential_id,
            selected=True,
        )
        return ok(
            ChosenOut(host.id, data.integration, calendar.external_id, calendar.connection_id)
        )

    @delete(
        "/",
        summary="Stop a calendar's events from blocking slots",
        status_code=HTTP_200_OK,
        responses=errors(404),
    )
    async def remove(
        self,
        host: Host,
        db_session: AsyncSession,
        integration: Annotated[str, Parameter(max_length=40)],
        external_id: Annotated[str, Parameter(query="externalId", max_length=2000)],
        credential_id: Annotated[int, Parameter(query="credentialId", ge=1, le=MAX_ID)],
    ) -> Envelope[ChosenOut]:
        calendar = await service.set_selected(
            db_session,
            host,
            integration=integration,
            external_id=external_id,
            credential_id=credential_id,
            selected=False,
        )
        return ok(ChosenOut(host.id, integration, calendar.external_id, calendar.connection_id))


class DestinationCalendarController(Controller):
    path = "/destination-calendars"
    tags = ["Destination Calendars"]

    @put("/", summary="Write new bookings to this calendar", responses=errors(404))
    async def update(
        self, host: Host, db_session: AsyncSession, data: DestinationIn
    ) -> Envelope[ChosenOut]:
        calendar = await service.set_destination(
            db_session, host, integration=data.integration, external_id=data.external_id
        )
        return ok(
            ChosenOut(host.id, data.integration, calendar.external_id, calendar.connection_id)
        )
