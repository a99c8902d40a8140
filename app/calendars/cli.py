"""``booking calendars …``: connect, list with sync status, sync now, select, disconnect, and
the slot explainer, from a shell."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import InvalidInput
from app.bookings.service import find_host
from app.db.session import create_engine, create_sessionmaker
from app.settings import Settings

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    # Imported here: app.cli adds this group to itself when it is imported.
    from app.cli import run_with_session

    return run_with_session(settings, work)


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    from app import clock

    seconds = int((clock.utcnow() - moment).total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


@click.group("calendars")
def calendars() -> None:
    """A host's calendar connections (CalDAV accounts, ICS feeds)."""


@calendars.command("connect")
@click.argument("slug")
@click.option("--caldav", "url", help="CalDAV server URL (Nextcloud, Fastmail, Radicale, …).")
@click.option("--apple", is_flag=True, help="iCloud (use an app-specific password).")
@click.option("--ics", "feeds", multiple=True, help="An ICS feed URL (repeat for several).")
@click.option("--username", default="")
@click.option(
    "--password", default="", help="Password (default: asked for, or read from PASSWORD on stdin)."
)
@click.option("--no-sync", is_flag=True, help="Do not read the calendars right away.")
@click.pass_obj
def connect(
    settings: Settings,
    slug: str,
    url: str | None,
    apple: bool,
    feeds: tuple[str, ...],
    username: str,
    password: str,
    no_sync: bool,
) -> None:
    """Connect a CalDAV account (--caldav URL or --apple, with --username) or ICS feeds (--ics)."""
    from app.calendars import service

    if bool(url) + apple + bool(feeds) != 1:
        raise click.UsageError("give exactly one of --caldav URL, --apple or --ics URL")
    if not feeds and not password:
        password = click.prompt("password", hide_input=True)

    async def work(session: AsyncSession) -> int:
        host = await find_host(session, slug)
        if feeds:
            connection = await service.save_ics_feeds(session, settings, host, list(feeds))
        else:
            connection = await service.connect_caldav(
                session,
                settings,
                host,
                calendar="apple" if apple else "caldav",
                username=username,
                password=password,
                url=url,
            )
        return connection.id

    connection_id = _run(settings, work)
    click.echo(f"connected: credential {connection_id}")
    if not no_sync:
        _sync(settings, [connection_id])
    _list(settings, slug)


@calendars.command("list")
@click.argument("slug")
@click.pass_obj
def list_command(settings: Settings, slug: str) -> None:
    """The host's connections and calendars, with how fresh their busy times are."""
    _list(settings, slug)


def _list(settings: Settings, slug: str) -> None:
    from app.calendars import service

    async def work(session: AsyncSession) -> list[str]:
        host = await find_host(session, slug)
        lines = []
        for c in await service.list_connections(session, host.id):
            state = (
                "credentials refused" if c.invalid else ("ok" if not c.last_error else "failing")
            )
            lines.append(
                f"[{c.id}] {c.integration} {c.label} {c.username}: {state}; "
                f"last read {_ago(c.last_success_at)}"
                + (f"; error: {c.last_error}" if c.last_error else "")
            )
            for cal in c.calendars:
                flags = ", ".join(
                    flag
                    for flag, on in (
                        ("blocks slots", cal.selected),
                        ("destination", cal.destination),
                        ("read-only", cal.read_only),
                    )
                    if on
                )
                lines.append(f"    {cal.name} ({flags or 'ignored'}) {cal.external_id}")
                if cal.last_error:
                    lines.append(f"      ! {cal.last_error.splitlines()[0]}")
        return lines or ["no calendars connected"]

    for line in _run(settings, work):
        click.echo(line)


@calendars.command("sync")
@click.argument("slug")
@click.option("--id", "credential_id", type=int, help="Only this connection.")
@click.pass_obj
def sync_command(settings: Settings, slug: str, credential_id: int | None) -> None:
    """Read the host's calendars now (waits for the servers)."""
    from app.calendars import service

    async def work(session: AsyncSession) -> list[int]:
        host = await find_host(session, slug)
        ids = [c.id for c in await service.list_connections(session, host.id)]
        if credential_id is not None and credential_id not in ids:
            raise InvalidInput(f"{slug} has no connection {credential_id}")
        await service.request_sync(session, host, credential_id)
        return [credential_id] if credential_id else ids

    _sync(settings, _run(settings, work))
    _list(settings, slug)


def _sync(settings: Settings, ids: list[int]) -> None:
    from app.calendars.sync import CalendarSyncer

    async def go() -> list[str]:
        engine = create_engine(settings.database_url)
        try:
            outcomes = await CalendarSyncer(settings, create_sessionmaker(engine)).sync(ids)
        finally:
            await engine.dispose()
        return [
            f"credential {o.connection_id}: "
            + ("read" if o.ok else f"failed: {o.error}")
            + "".join(f"\n    {name}: {what}" for name, what in o.calendars.items())
            for o in outcomes
        ] or ["nothing synced (another worker holds these connections right now)"]

    for line in asyncio.run(go()):
        click.echo(line)


@calendars.command("select")
@click.argument("slug")
@click.argument("credential_id", type=int)
@click.argument("external_id")
@click.option("--off", is_flag=True, help="Stop this calendar from blocking slots.")
@click.pass_obj
def select_command(
    settings: Settings, slug: str, credential_id: int, external_id: str, off: bool
) -> None:
    """Let a calendar's events block slots (or not, with --off)."""
    from app.calendars import service

    async def work(session: AsyncSession) -> str:
        host = await find_host(session, slug)
        connection = await service.find_connection(session, host, credential_id)
        calendar = await service.set_selected(
            session,
            host,
            integration=connection.integration,
            external_id=external_id,
            credential_id=credential_id,
            selected=not off,
        )
        return f"{calendar.name}: {'ignored' if off else 'blocks slots'}"

    click.echo(_run(settings, work))


@calendars.command("disconnect")
@click.argument("slug")
@click.argument("credential_id", type=int)
@click.pass_obj
def disconnect_command(settings: Settings, slug: str, credential_id: int) -> None:
    """Forget a connection and its busy times."""
    from app.calendars import service

    async def work(session: AsyncSession) -> str:
        host = await find_host(session, slug)
        connection = await service.disconnect(session, host, credential_id)
        return f"disconnected {connection.integration} {connection.label}"

    click.echo(_run(settings, work))


@calendars.command("explain-slot")
@click.argument("slug")
@click.argument("event_slug")
@click.argument("start")
@click.option("--tz", default=None, help="Zone of START when it has no offset (default: host's).")
@click.pass_obj
def explain_slot_command(
    settings: Settings, slug: str, event_slug: str, start: str, tz: str | None
) -> None:
    """Say why START (like 2026-12-07T10:00) is not bookable for the event type."""
    from app.bookings.explain import describe, explain_slot
    from app.scheduling.wallclock import zone

    async def work(session: AsyncSession) -> list[str]:
        host = await find_host(session, slug)
        try:
            moment = datetime.fromisoformat(start.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone(tz or host.timezone))
        except ValueError as exc:
            raise InvalidInput(
                f"START must be a date and time like 2026-12-07T10:00: {exc}"
            ) from None
        reasons = await explain_slot(session, slug, event_slug, moment)
        if not reasons:
            return ["bookable: this is a free slot"]
        return [f"- {describe(r, host.timezone, 'en')}" for r in reasons]

    for line in _run(settings, work):
        click.echo(line)
