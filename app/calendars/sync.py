"""Reading remote calendars into local tables, so that a slot request never waits on a server.

A connection is synced by one worker at a time, whatever the number of processes: a worker
*claims* it (a lease: ``locked_until`` and a random ``lease_token``, taken with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, under SQLite's write lock otherwise), talks to the server with no
transaction open, and writes what it learnt in short transactions that first re-check the lease
(``UPDATE … WHERE lease_token = :token``): a worker whose lease expired and was taken over writes
nothing. Connections come due every ``interval``; ``sync now`` makes one due at once.

Per calendar (only the selected ones: the others block nothing and are not read):

1. ask the provider what changed since the stored state (``Known``), for the window the host's
   event types can book (now → the longest booking window, with a week of slack so the window is
   not re-read every day);
2. expand new or changed resources into busy intervals (in a thread: it is CPU work), and all
   stored ones again when the window moved; our own bookings' events (UID ``<booking
   uid>@booking-widget``) are left out, since the bookings already hold their time;
3. one write transaction: replace those resources and their busy rows (``calendar_busy``), drop
   past ones, rebuild the host's merged busy times (``host_busy``, what slot lists read), record
   the calendar's state and warnings.

A failure keeps the last busy times (never silently dropped) and marks the connection: last
error, ``failing_since``; once that is older than ``stale_notify_after`` the host is emailed,
once per outage (through the outbox, like every email). Wrong credentials stop the syncing
(``invalid``) until they are saved again, and are emailed about at once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import clock
from app.calendars import expand
from app.calendars.busy import remerge
from app.calendars.providers import (
    AuthFailed,
    CalendarError,
    CalendarGone,
    Known,
    Provider,
    RemoteCalendar,
)
from app.db.models import (
    Booking,
    CalendarBusy,
    CalendarConnection,
    CalendarObject,
    ConnectedCalendar,
    EventType,
    Host,
)
from app.db.session import begin_write, create_sessionmaker
from app.notify.ics import ical_uid
from app.scheduling import Interval
from app.settings import Settings

log = logging.getLogger("app.calendars")

OWN_SUFFIX = ical_uid("")  # "@booking-widget": the UID of every event we write
MAX_ERROR = 2000


@dataclass(frozen=True)
class SyncOptions:
    interval: timedelta = timedelta(minutes=5)
    lease: timedelta = timedelta(minutes=3)  # longer than ``timeout``
    timeout: float = 120.0  # one connection's whole sync
    request_timeout: float = 20.0  # one HTTP request
    fresh_for: timedelta = timedelta(minutes=2)  # a booking refreshes busy data older than this
    refresh_timeout: float = 3.0  # … and waits at most this long for it
    stale_notify_after: timedelta = timedelta(hours=2)
    retry_after: timedelta = timedelta(minutes=1)  # first retry after a failure (doubles)
    unlimited_window_days: int = 365  # event types without a booking window
    slack: timedelta = timedelta(days=7)
    batch: int = 5
    poll_seconds: float = 15.0
    limits: expand.Limits = field(default_factory=expand.Limits)

    @classmethod
    def from_settings(cls, settings: Settings) -> SyncOptions:
        return cls(
            interval=timedelta(seconds=settings.calendar_sync_seconds),
            fresh_for=timedelta(seconds=settings.calendar_fresh_seconds),
            stale_notify_after=timedelta(minutes=settings.calendar_stale_notify_minutes),
        )


ProviderFactory = Callable[[CalendarConnection, Sequence[ConnectedCalendar]], Provider]


@dataclass(frozen=True)
class Claim:
    connection_id: int
    token: str


@dataclass
class Outcome:
    """What one sync of one connection did (for the CLI and the tests)."""

    connection_id: int
    ok: bool = True
    error: str = ""
    invalid: bool = False  # the server refused the credentials
    calendars: dict[str, str] = field(default_factory=dict)  # name -> "unchanged" / "n busy" / …


class LeaseLost(Exception):
    """Another worker took the connection over (this one was too slow): write nothing."""


# Claiming -----------------------------------------------------------------------------------------


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: datetime,
    options: SyncOptions,
    *,
    connection_ids: Sequence[int] | None = None,
    due_only: bool = True,
) -> list[Claim]:
    """Lease up to ``options.batch`` connections (due ones, or the given ones) to this worker."""
    free = or_(CalendarConnection.locked_until.is_(None), CalendarConnection.locked_until <= now)
    wanted: list[Any] = [free, CalendarConnection.invalid.is_(False)]
    if due_only:
        wanted.append(CalendarConnection.next_sync_at <= now)
    if connection_ids is not None:
        wanted.append(CalendarConnection.id.in_(list(connection_ids)))
    pick = (
        select(CalendarConnection.id)
        .where(*wanted)
        .order_by(CalendarConnection.next_sync_at, CalendarConnection.id)
        .limit(options.batch if connection_ids is None else len(connection_ids))
    )
    async with sessionmaker() as session:
        if session.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        else:
            if not (await session.scalars(pick)).first():  # idle polls never take the lock
                await session.rollback()
                return []
            await begin_write(session)
        ids = list((await session.scalars(pick)).all())
        claims = [Claim(i, secrets.token_hex(16)) for i in ids]
        won: list[Claim] = []
        for item in claims:
            result = await session.execute(
                update(CalendarConnection)
                .where(CalendarConnection.id == item.connection_id, *wanted)
                .values(locked_until=now + options.lease, lease_token=item.token)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                won.append(item)
        await session.commit()
        return won


async def _check_lease(session: AsyncSession, item: Claim, options: SyncOptions) -> None:
    """Inside a write transaction: still ours? Then extend it; else ``LeaseLost``."""
    result = await session.execute(
        update(CalendarConnection)
        .where(
            CalendarConnection.id == item.connection_id,
            CalendarConnection.lease_token == item.token,
        )
        .values(locked_until=clock.utcnow() + options.lease)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost()


# Syncing one connection ----------------------------------------------------------------------------


@dataclass
class _State:
    connection: CalendarConnection
    calendars: list[ConnectedCalendar]
    host_timezone: str
    window_days: int


async def sync_claimed(
    sessionmaker: async_sessionmaker[AsyncSession],
    item: Claim,
    open_provider: ProviderFactory,
    options: SyncOptions,
    *,
    discover: bool = True,
    deadline: float | None = None,
) -> Outcome:
    """Sync a claimed connection and release it; never raises for a server's failure."""
    outcome = Outcome(item.connection_id)
    state = await _load(sessionmaker, item.connection_id, options)
    if state is None:
        return outcome
    provider: Provider | None = None
    try:
        provider = open_provider(state.connection, state.calendars)
        async with asyncio.timeout(deadline or options.timeout):
            await _sync(sessionmaker, item, state, provider, options, outcome, discover)
    except LeaseLost:
        outcome.ok, outcome.error = False, "another worker took this connection over"
        log.warning("calendar connection %s: lease lost, nothing written", item.connection_id)
        return outcome
    except AuthFailed as exc:
        outcome.ok, outcome.error, outcome.invalid = False, exc.message, True
    except CalendarError as exc:
        outcome.ok, outcome.error = False, exc.message
    except TimeoutError:
        outcome.ok = False
        outcome.error = f"the calendar server did not finish in {deadline or options.timeout:g} s"
    except Exception as exc:
        log.exception("calendar connection %s: sync failed", item.connection_id)
        outcome.ok, outcome.error = False, f"internal error: {type(exc).__name__}"
    finally:
        if provider is not None:
            with suppress(Exception):
                await provider.aclose()
    await _finish(sessionmaker, item, state, outcome, options)
    return outcome


async def _load(
    sessionmaker: async_sessionmaker[AsyncSession], connection_id: int, options: SyncOptions
) -> _State | None:
    async with sessionmaker() as session:
        connection = await session.get(CalendarConnection, connection_id)
        if connection is None:
            return None
        calendars = list(
            await session.scalars(
                select(ConnectedCalendar)
                .where(ConnectedCalendar.connection_id == connection_id)
                .order_by(ConnectedCalendar.id)
            )
        )
        host_timezone = await session.scalar(
            select(Host.timezone).where(Host.id == connection.host_id)
        )
        longest = await session.execute(
            select(
                func.max(EventType.booking_window_days),
                func.count().filter(EventType.booking_window_days.is_(None)),
            ).where(EventType.host_id == connection.host_id, EventType.active.is_(True))
        )
        days, unlimited = longest.one()
        session.expunge_all()
    window_days = options.unlimited_window_days if unlimited or days is None else int(days)
    return _State(connection, calendars, host_timezone or "UTC", window_days)


async def _sync(
    sessionmaker: async_sessionmaker[AsyncSession],
    item: Claim,
    state: _State,
    provider: Provider,
    options: SyncOptions,
    outcome: Outcome,
    discover: bool,
) -> None:
    if discover and state.connection.kind == "caldav":
        remote = await provider.discover()
        state.calendars = await _reconcile(sessionmaker, item, state, remote, options)
    now = clock.utcnow()
    needed = Interval(
        now - timedelta(days=1), now + timedelta(days=state.window_days) + timedelta(days=2)
    )
    failures: list[str] = []
    for calendar in state.calendars:
        if not calendar.selected:
            continue
        try:
            outcome.calendars[calendar.name] = await _sync_calendar(
                sessionmaker, item, state, calendar, provider, needed, options
            )
        except CalendarGone as exc:
            await _forget(sessionmaker, item, calendar, exc.message, options)
            outcome.calendars[calendar.name] = exc.message
            failures.append(f"{calendar.name}: {exc.message}")
        except AuthFailed:
            raise
        except CalendarError as exc:  # this calendar only: the others are still read
            failures.append(f"{calendar.name}: {exc.message}")
            await _note_calendar_error(sessionmaker, item, calendar, exc.message, options)
    if failures:
        outcome.ok, outcome.error = False, "; ".join(failures)


async def _sync_calendar(
    sessionmaker: async_sessionmaker[AsyncSession],
    item: Claim,
    state: _State,
    calendar: ConnectedCalendar,
    provider: Provider,
    needed: Interval,
    options: SyncOptions,
) -> str:
    stored = (
        Interval(calendar.synced_from, calendar.synced_until)
        if calendar.synced_from and calendar.synced_until
        else None
    )
    covered = stored is not None and stored.start <= needed.start and stored.end >= needed.end
    target = stored if covered and stored else Interval(needed.start, needed.end + options.slack)
    async with sessionmaker() as session:
        etag_rows = await session.execute(
            select(CalendarObject.href, CalendarObject.etag).where(
                CalendarObject.calendar_id == calendar.id
            )
        )
        etags = {href: etag for href, etag in etag_rows}
    known = Known(
        tag=calendar.ctag if state.connection.kind == "caldav" else calendar.etag,
        last_modified=calendar.last_modified,
        etags=etags,
        window=stored,
    )
    remote = RemoteCalendar(calendar.external_id, calendar.name, calendar.read_only)
    changes = await provider.changes(remote, known, target)
    if changes.unchanged and covered:
        await _touch_calendar(sessionmaker, item, calendar, options)
        return "unchanged"
    # What to expand: the new resources, and every stored one too when the window moved.
    to_expand = dict(changes.upserts)
    if not covered:
        async with sessionmaker() as session:
            stored_rows = await session.execute(
                select(CalendarObject.href, CalendarObject.etag, CalendarObject.data).where(
                    CalendarObject.calendar_id == calendar.id
                )
            )
            for href, etag, data in stored_rows:
                if href not in to_expand and href not in changes.removed and not changes.complete:
                    to_expand[href] = (etag, data)
    timezone = calendar.timezone or changes.timezone or state.host_timezone
    expanded, warnings = await asyncio.to_thread(
        _expand_all, to_expand, target, timezone, options.limits
    )
    own = await _own_uids(sessionmaker, state.connection.host_id, expanded)
    busy = 0
    async with sessionmaker() as session:
        await begin_write(session)
        await _check_lease(session, item, options)
        id_rows = await session.execute(
            select(CalendarObject.href, CalendarObject.id).where(
                CalendarObject.calendar_id == calendar.id
            )
        )
        stored_ids = {href: object_id for href, object_id in id_rows}
        gone = [
            stored_ids[href]
            for href in stored_ids
            if href in changes.removed or (changes.complete and href not in changes.upserts)
        ]
        if gone:
            await session.execute(delete(CalendarBusy).where(CalendarBusy.object_id.in_(gone)))
            await session.execute(delete(CalendarObject).where(CalendarObject.id.in_(gone)))
        for href, (etag, data) in to_expand.items():
            object_id = stored_ids.get(href)
            if object_id is None:
                object_id = (
                    await session.execute(
                        insert(CalendarObject)
                        .values(calendar_id=calendar.id, href=href, etag=etag, data=data)
                        .returning(CalendarObject.id)
                    )
                ).scalar_one()
            elif href in changes.upserts:
                await session.execute(
                    update(CalendarObject)
                    .where(CalendarObject.id == object_id)
                    .values(etag=etag, data=data)
                )
            await session.execute(delete(CalendarBusy).where(CalendarBusy.object_id == object_id))
            rows = [
                {
                    "host_id": state.connection.host_id,
                    "calendar_id": calendar.id,
                    "object_id": object_id,
                    "start": span.start,
                    "end": span.end,
                }
                for span in expanded.get(href, ())
                if span.uid not in own
            ]
            if rows:
                await session.execute(insert(CalendarBusy), rows)
            busy += len(rows)
        now = clock.utcnow()
        await session.execute(
            delete(CalendarBusy).where(
                CalendarBusy.calendar_id == calendar.id,
                CalendarBusy.end < now - timedelta(days=2),
            )
        )
        await session.execute(
            update(ConnectedCalendar)
            .where(ConnectedCalendar.id == calendar.id)
            .values(
                ctag=changes.tag if state.connection.kind == "caldav" else calendar.ctag,
                etag=changes.tag if state.connection.kind != "caldav" else calendar.etag,
                last_modified=changes.last_modified,
                timezone=calendar.timezone or changes.timezone,
                synced_from=target.start,
                synced_until=target.end,
                last_synced_at=now,
                last_error="\n".join(warnings)[:MAX_ERROR],
            )
        )
        await remerge(session, state.connection.host_id)
        await session.commit()
    return f"{len(to_expand)} read, {busy} busy"


def _expand_all(
    objects: dict[str, tuple[str, str]], window: Interval, timezone: str, limits: expand.Limits
) -> tuple[dict[str, list[expand.BusySpan]], list[str]]:
    """Busy spans per resource, and warnings (a resource we cannot read is one warning)."""
    spans: dict[str, list[expand.BusySpan]] = {}
    warnings: list[str] = []
    for href, (_, data) in objects.items():
        try:
            result = expand.expand_data(data, window, timezone, limits)
        except expand.CalendarDataError as exc:
            warnings.append(f"{_name_of(href)}: {exc.args[0]}")
            spans[href] = []
            continue
        spans[href] = result.spans
        warnings.extend(f"{_name_of(href)}: {w}" if href else w for w in result.warnings)
    return spans, warnings


def _name_of(href: str) -> str:
    return href.rstrip("/").rsplit("/", 1)[-1] or "feed"


async def _own_uids(
    sessionmaker: async_sessionmaker[AsyncSession],
    host_id: int,
    expanded: dict[str, list[expand.BusySpan]],
) -> set[str]:
    """The UIDs among ``expanded`` that are events we wrote for this host's bookings."""
    candidates = {
        span.uid.removesuffix(OWN_SUFFIX): span.uid
        for spans in expanded.values()
        for span in spans
        if span.uid.endswith(OWN_SUFFIX)
    }
    if not candidates:
        return set()
    async with sessionmaker() as session:
        found = await session.scalars(
            select(Booking.uid).where(Booking.host_id == host_id, Booking.uid.in_(list(candidates)))
        )
        return {candidates[uid] for uid in found}


async def _reconcile(
    sessionmaker: async_sessionmaker[AsyncSession],
    item: Claim,
    state: _State,
    remote: list[RemoteCalendar],
    options: SyncOptions,
) -> list[ConnectedCalendar]:
    """Add calendars new on the server (selected: all readable ones block by default), refresh
    names, and forget those deleted there."""
    by_id = {c.external_id: c for c in state.calendars}
    seen = {r.external_id for r in remote}
    async with sessionmaker() as session:
        await begin_write(session)
        await _check_lease(session, item, options)
        for found in remote:
            known = by_id.get(found.external_id)
            if known is None:
                session.add(
                    ConnectedCalendar(
                        connection_id=state.connection.id,
                        host_id=state.connection.host_id,
                        external_id=found.external_id,
                        name=found.name,
                        timezone=found.timezone,
                        read_only=found.read_only,
                    )
                )
            elif (known.name, known.read_only, known.timezone) != (
                found.name,
                found.read_only,
                found.timezone,
            ):
                await session.execute(
                    update(ConnectedCalendar)
                    .where(ConnectedCalendar.id == known.id)
                    .values(name=found.name, read_only=found.read_only, timezone=found.timezone)
                )
        missing = [c.id for c in state.calendars if c.external_id not in seen]
        if missing:
            await session.execute(delete(CalendarBusy).where(CalendarBusy.calendar_id.in_(missing)))
            await session.execute(
                update(ConnectedCalendar)
                .where(ConnectedCalendar.id.in_(missing))
                .values(
                    selected=False,
                    synced_from=None,
                    synced_until=None,
                    last_error="deleted on the server: its busy times no longer count",
                )
            )
            await remerge(session, state.connection.host_id)
        await session.commit()
        calendars = list(
            await session.scalars(
                select(ConnectedCalendar)
                .where(ConnectedCalendar.connection_id == state.connection.id)
                .order_by(ConnectedCalendar.id)
            )
        )
        session.expunge_all()
    return calendars


async def _forget(
    sessionmaker: async_sessionmaker[AsyncSession],
    item: Claim,
    calendar: ConnectedCalendar,
    message: str,
    options: SyncOptions,
) -> None:
    """The calendar is gone on the server: its events are too, so its busy times go."""
    async with sessionmaker() as session:
        await begin_write(session)
        await _check_lease(session, item, options)
        await session.execute(delete(CalendarBusy).where(CalendarBusy.calendar_id == calendar.id))
        await session.execute(
            delete(CalendarObject).where(CalendarObject.calendar_id == calendar.id)
        )
        await session.execute(
            update(ConnectedCalendar)
            .where(ConnectedCalendar.id == calendar.id)
            .values(ctag="", etag="", synced_from=None, synced_until=None, last_error=message)
        )
        await remerge(session, calendar.host_id)
        await session.commit()


async def _note_calendar_error(
    sessionmaker: async_sessionmaker[AsyncSession],
    item: Claim,
    calendar: ConnectedCalendar,
    message: str,
    options: SyncOptions,
) -> None:
    async with sessionmaker() as session:
        await begin_write(session)
        await _check_lease(session, item, options)
        await session.execute(
            update(ConnectedCalendar)
            .where(ConnectedCalendar.id == calendar.id)
            .values(last_error=message[:MAX_ERROR])
        )
        await session.commit()


async def _touch_calendar(
    sessionmaker: async_sessionmaker[AsyncSession],
    item: Claim,
    calendar: ConnectedCalendar,
    options: SyncOptions,
) -> None:
    async with sessionmaker() as session:
        await begin_write(session)
        await _check_lease(session, item, options)
        await session.execute(
            update(ConnectedCalendar)
            .where(ConnectedCalendar.id == calendar.id)
            .values(last_synced_at=clock.utcnow())
        )
        await session.commit()


async def _finish(
    sessionmaker: async_sessionmaker[AsyncSession],
    item: Claim,
    state: _State,
    outcome: Outcome,
    options: SyncOptions,
) -> None:
    """Record how it went, schedule the next sync, release the lease (if still ours)."""
    from app.calendars.alerts import stale_email  # the email needs the web's templates

    now = clock.utcnow()
    connection = state.connection
    values: dict[str, Any] = {"locked_until": None, "lease_token": None, "last_attempt_at": now}
    notify = False
    if outcome.invalid:
        values["invalid"] = True
    if outcome.ok:
        values |= {
            "last_success_at": now,
            "last_error": "",
            "failing_since": None,
            "stale_notified_at": None,
            "next_sync_at": now + options.interval,
        }
    else:
        failing_since = connection.failing_since or now
        streak = max(1, int((now - failing_since) / options.retry_after) + 1)
        retry = min(options.retry_after * 2 ** min(streak - 1, 10), options.interval)
        values |= {
            "last_error": outcome.error[:MAX_ERROR],
            "failing_since": failing_since,
            "next_sync_at": now + retry,
        }
        # Refused credentials are not retried, so the host hears of them at once.
        notify = connection.stale_notified_at is None and (
            outcome.invalid or now - failing_since >= options.stale_notify_after
        )
        if notify:
            values["stale_notified_at"] = now
    async with sessionmaker() as session:
        await begin_write(session)
        result = await session.execute(
            update(CalendarConnection)
            .where(
                CalendarConnection.id == item.connection_id,
                CalendarConnection.lease_token == item.token,
            )
            .values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            await session.rollback()
            return
        if notify:
            host = await session.get(Host, connection.host_id)
            if host is not None:
                session.add(
                    stale_email(
                        host, connection, outcome.error, failing_since, now, outcome.invalid
                    )
                )
        await session.commit()


# Running: the background loop, on demand, and before a booking --------------------------------------


class CalendarSyncer:
    """Claims due connections and syncs them; several may run (each claims different ones)."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        options: SyncOptions | None = None,
        open_provider: ProviderFactory | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.options = options or SyncOptions.from_settings(settings)
        if open_provider is None:
            from app.calendars.connections import provider_factory

            open_provider = provider_factory(settings, self.options)
        self.open_provider = open_provider

    async def sync(
        self,
        connection_ids: Sequence[int] | None = None,
        *,
        discover: bool = True,
        deadline: float | None = None,
    ) -> list[Outcome]:
        """Sync due connections (or these, due or not, unless another worker holds them)."""
        claims = await claim(
            self.sessionmaker,
            clock.utcnow(),
            self.options,
            connection_ids=connection_ids,
            due_only=connection_ids is None,
        )
        outcomes = []
        for item in claims:
            outcome = await sync_claimed(
                self.sessionmaker,
                item,
                self.open_provider,
                self.options,
                discover=discover,
                deadline=deadline,
            )
            outcomes.append(outcome)
        return outcomes

    async def refresh_host(self, host_id: int) -> None:
        """Before a booking: re-read the host's connections whose busy data is older than
        ``fresh_for``, waiting at most ``refresh_timeout``. Failures only leave the data as it
        was (and are recorded); a connection another worker is syncing is left to it."""
        now = clock.utcnow()
        async with self.sessionmaker() as session:
            stale = list(
                await session.scalars(
                    select(CalendarConnection.id).where(
                        CalendarConnection.host_id == host_id,
                        CalendarConnection.invalid.is_(False),
                        or_(
                            CalendarConnection.last_success_at.is_(None),
                            CalendarConnection.last_success_at < now - self.options.fresh_for,
                        ),
                    )
                )
            )
        if not stale:
            return
        await self.sync(stale, discover=False, deadline=self.options.refresh_timeout)

    async def run_forever(self) -> None:
        log.info("calendar sync started")
        while True:
            try:
                synced = await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("calendar sync: claiming failed; retrying")
                synced = []
            if not synced:
                await asyncio.sleep(self.options.poll_seconds)


def sync_lifespan(
    settings: Settings, engine: AsyncEngine
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A Litestar lifespan: the sync loop beside the server while ``RUN_WORKER`` is on, and the
    pre-booking refresh registered for the app's engine either way."""
    from app.calendars import freshness

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        syncer = CalendarSyncer(settings, create_sessionmaker(engine))
        freshness.register(engine, syncer.refresh_host, syncer.options.fresh_for)
        task = None
        if settings.run_worker:
            task = asyncio.create_task(syncer.run_forever(), name="calendar-sync")
        try:
            yield
        finally:
            freshness.unregister(engine)
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task

    return lifespan


async def run_sync_worker(settings: Settings, engine: AsyncEngine) -> None:
    """``booking worker``: the sync loop beside the outbox worker."""
    await CalendarSyncer(settings, create_sessionmaker(engine)).run_forever()
