"""The outbox worker: claims due rows with a lease, expands booking events, delivers messages.

A booking change writes one compact ``booking_event`` row in its own transaction (see
``app.notify.events``: that transaction holds SQLite's write lock, so it records the event and
renders nothing). The worker turns each event into its messages, then delivers those:

1. Claim (one short transaction): pick due rows (not delivered, not given up, ``available_at``
   passed, no live lease) and set ``locked_until`` = now + lease and ``locked_by`` = this worker.
   On PostgreSQL the pick is ``SELECT … FOR UPDATE SKIP LOCKED``, so concurrent workers take
   different rows without waiting; on SQLite the transaction begins IMMEDIATE (one writer at a
   time). Either way the UPDATE repeats the "no live lease" condition, so a row is claimed by one
   worker only. A claim takes only rows whose destination has room (below), and keeps each
   booking's messages in order (``_in_order``): "Cancelled" never overtakes "Confirmed".
2. Handle each row outside any transaction, concurrently, at most ``max_in_flight`` at once and
   at most ``per_destination`` at once per destination (a webhook's host, the SMTP server), each
   within a short timeout: a slow receiver holds up only its own calls, never another host's
   emails. While rows are in flight the worker renews their leases every third of a lease (a
   heartbeat), so the lease can be short: rows claimed by a worker that crashed come back after
   ``lease_seconds`` (10 s), and a cancelled worker (a server shutting down) gives its rows back
   at once.
   - a ``booking_event`` is expanded (``expand_booking_event``): the emails and webhook calls are
     rendered, then inserted, due at once, in the same short write transaction that marks the event
     delivered, guarded by ``delivered_at IS NULL`` so that an event is expanded once even if two
     workers got hold of it (an expired lease). The expansion records its own outcome, so step 3
     only records its failures. ``run_forever`` claims again as soon as anything finished, so
     the new messages go out at once;
   - an ``email`` or ``webhook`` is delivered (SMTP or HTTP may be slow).
3. Mark: ``delivered_at``, or ``attempts + 1``, ``last_error`` and ``available_at`` = now +
   exponential backoff; after ``MAX_ATTEMPTS`` the row gets ``failed_at`` and is left alone. A failed
   expansion is retried the same way.

A process killed between 1 and 3 leaves a lease that expires: the row is handled again after a
restart, so nothing is lost. The guarantee is *at least once*, with an idempotency key: a crash
after the receiver accepted a message but before step 3 resends it with the same ``message_id``
(the email's Message-ID, the webhook's ``X-Booking-Delivery``), which the receiver can dedupe.
Events are expanded *exactly once*: their rows and their mark commit together.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from asyncio import FIRST_COMPLETED
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import ColumnElement, Row, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from app import clock
from app.calendars.writeback import CALENDAR_KIND, write_booking
from app.crypto import unseal
from app.db.faults import is_unavailable
from app.db.models import OutboxMessage, Webhook
from app.db.session import begin_write, create_sessionmaker
from app.net import outbound_client
from app.notify.email import build_message, log_email, send_email
from app.notify.events import EVENT_KIND, expand_booking_event
from app.notify.webhooks import SubscriptionGone, post_webhook
from app.settings import Settings

log = logging.getLogger("app.notify")

MAX_ATTEMPTS = 10
MAX_BACKOFF = timedelta(hours=1)
WEBHOOK_TIMEOUT_SECONDS = 10.0
MAX_OUTAGE_PAUSE = 30.0
RELEASE_TIMEOUT_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 5.0  # for a worker asked to stop to finish its current step


@dataclass(frozen=True)
class WorkerOptions:
    poll_seconds: float = 1.0
    lease_seconds: float = 10.0  # renewed while a delivery runs; a crashed worker's rows return
    retry_base_seconds: float = 10.0
    batch: int = 20  # rows one claim takes at most
    max_in_flight: int = 16  # deliveries at once
    per_destination: int = 2  # deliveries at once to one webhook host (the SMTP server: 4)


SMTP_CONNECTIONS = 4


class Outage:
    """The worker's failures in a row: what to log (the first and the end) and how long to wait."""

    def __init__(self) -> None:
        self.failures = 0
        self.since = 0.0

    def failed(self, error: Exception, poll_seconds: float) -> float:
        """Log the first failure of a streak; return the pause before the next try."""
        self.failures += 1
        if self.failures == 1:
            self.since = time.monotonic()
            if is_unavailable(error):
                log.warning(
                    "outbox worker: the database is unavailable (%s: %s); "
                    "retrying with backoff, quietly until it is back",
                    type(error).__name__,
                    str(error).splitlines()[0][:300] if str(error) else "",
                )
            else:
                log.exception("outbox worker: polling failed; retrying with backoff")
        return min(poll_seconds * 2 ** (self.failures - 1), MAX_OUTAGE_PAUSE)

    def ended(self) -> None:
        if self.failures:
            log.warning(
                "outbox worker: working again after %.0f s (%d failed polls)",
                time.monotonic() - self.since,
                self.failures,
            )
            self.failures = 0


def _reader(row: type[OutboxMessage]) -> ColumnElement[Any]:
    """Who a row is for: an email's recipient, a webhook's subscription ("" for events)."""
    return func.coalesce(row.payload["to"].as_string(), row.payload["webhookId"].as_string(), "")


def _in_order(now: datetime) -> ColumnElement[bool]:
    """No earlier row of the same booking, kind and reader is still due and undelivered.

    Deliveries run side by side, so without this a booking's "Cancelled" email could reach the
    guest before its "Confirmed" one (and an event expanded early would put its messages ahead).
    A row still in flight counts as undelivered, so the next one waits for it; a row waiting
    for a retry or a future time (a reminder) holds nothing up.
    """
    earlier = aliased(OutboxMessage)
    return ~exists().where(
        earlier.booking_uid == OutboxMessage.booking_uid,
        earlier.kind == OutboxMessage.kind,
        earlier.id < OutboxMessage.id,
        earlier.delivered_at.is_(None),
        earlier.failed_at.is_(None),
        earlier.available_at <= now,
        _reader(earlier) == _reader(OutboxMessage),
    )


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """10 s, 20 s, 40 s, … after the 1st, 2nd, 3rd failure, at most an hour."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def destination(kind: str, url: str | None) -> str:
    """Where a row goes, for the per-destination limit: a webhook's host, or the SMTP server."""
    if kind == "webhook":
        try:
            return "webhook:" + (urlsplit(url or "").netloc.lower() or "?")
        except ValueError:
            return "webhook:?"
    return "smtp" if kind == "email" else kind


class OutboxWorker:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        options: WorkerOptions | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.options = options or WorkerOptions()
        self.worker_id = f"{socket.gethostname()[:20]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.in_flight: dict[int, str] = {}  # row id -> destination, for leases and limits
        # Set to stop run_forever between two steps: a claim is never cut in half (a claim whose
        # commit was interrupted could land after the rows were given back).
        self.stopping = asyncio.Event()

    def limit(self, where: str) -> int:
        if where.startswith("webhook:"):
            return self.options.per_destination
        return SMTP_CONNECTIONS if where == "smtp" else self.options.max_in_flight

    async def claim(
        self, now: datetime, kinds: tuple[str, ...] | None = None, room: int | None = None
    ) -> list[OutboxMessage]:
        """Lease up to ``room`` (at most ``batch``) due rows, oldest first, only of ``kinds`` if
        given, skipping rows whose destination has no room next to what is in flight."""
        room = min(self.options.batch, self.options.batch if room is None else room)
        if room <= 0:
            return []
        lease_until = now + timedelta(seconds=self.options.lease_seconds)
        free = or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now)
        due = (
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.available_at <= now,
            free,
            *([OutboxMessage.kind.in_(kinds)] if kinds is not None else []),
        )
        async with self.sessionmaker() as session:
            pick = (
                select(
                    OutboxMessage.id, OutboxMessage.kind, OutboxMessage.payload["url"].as_string()
                )
                .where(*due, _in_order(now))
                .order_by(OutboxMessage.available_at, OutboxMessage.id)
                .limit(room * 4)  # a few more than needed, in case some destinations are full
            )
            if session.get_bind().dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True, of=OutboxMessage)
            else:
                # Look before taking SQLite's write lock: an idle poll then never blocks bookings.
                if not (await session.execute(pick)).first():
                    await session.rollback()
                    return []
                await begin_write(session)
            ids = self._with_room((await session.execute(pick)).all(), room)
            if not ids:
                await session.rollback()
                return []
            won = await session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), *due)
                .values(locked_until=lease_until, locked_by=self.worker_id)
                .returning(OutboxMessage.id)
            )
            rows = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(list(won.all())))
                .order_by(OutboxMessage.id)
            )
            claimed = list(rows.all())
            await session.commit()
            return claimed

    def _with_room(
        self, candidates: Sequence[Row[tuple[int, str, str | None]]], room: int
    ) -> list[int]:
        busy = Counter(self.in_flight.values())
        chosen = []
        for row_id, kind, url in candidates:
            where = destination(kind, url)
            if busy[where] < self.limit(where):
                busy[where] += 1
                chosen.append(row_id)
                if len(chosen) == room:
                    break
        return chosen

    async def deliver(self, message: OutboxMessage, http: httpx.AsyncClient) -> None:
        if message.kind == EVENT_KIND:
            await self.expand(message)
        elif message.kind == "email":
            if self.settings.smtp_url:
                email = build_message(self.settings, message.payload, message.message_id)
                await send_email(self.settings, email)
            else:
                log_email(message.payload, message.message_id)
        elif message.kind == "webhook":
            async with self.sessionmaker() as session:
                webhook = await session.get(Webhook, message.payload.get("webhookId"))
            if webhook is None or not webhook.active:
                raise SubscriptionGone("the webhook subscription was removed or deactivated")
            secret = unseal(self.settings.secret_keys, webhook.secret) if webhook.secret else ""
            now = int(clock.utcnow().timestamp())
            await post_webhook(
                http, webhook.subscriber_url, secret, message.payload, message.message_id, now
            )
        elif message.kind == CALENDAR_KIND:  # the host's destination calendar
            done = await write_booking(self.settings, self.sessionmaker, message)
            log.info("outbox %s: calendar %s", message.message_id, done)
        else:
            raise ValueError(f"unknown outbox kind {message.kind!r}")

    async def expand(self, message: OutboxMessage) -> None:
        """Turn a booking event into its messages; it marks the event itself (see step 2)."""
        await expand_booking_event(self.sessionmaker, self.settings, message)

    async def mark(self, message: OutboxMessage, error: str | None, give_up: bool = False) -> None:
        now = clock.utcnow()
        attempts = message.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "locked_until": None, "locked_by": ""}
        if error is None:
            values |= {"delivered_at": now, "last_error": ""}
        else:
            values |= {
                "last_error": error[:2000],
                "available_at": now + backoff(attempts, self.options.retry_base_seconds),
            }
            if give_up or attempts >= MAX_ATTEMPTS:
                values["failed_at"] = now
        async with self.sessionmaker() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == message.id).values(**values)
            )
            await session.commit()

    def http_client(self) -> httpx.AsyncClient:
        return outbound_client(
            allow_private=self.settings.allow_private_urls, timeout=WEBHOOK_TIMEOUT_SECONDS
        )

    async def run_once(self) -> int:
        """Claim what is due now and handle it all, concurrently within the limits; returns how
        many rows were attempted."""
        messages = await self.claim(clock.utcnow())
        if not messages:
            return 0
        async with self.http_client() as http, self.heartbeat():
            await asyncio.gather(*(self._start(m, http) for m in messages))
        return len(messages)

    def _start(self, message: OutboxMessage, http: httpx.AsyncClient) -> asyncio.Task[None]:
        """Handle ``message`` in a task of its own, counted in flight until it is marked."""
        self.in_flight[message.id] = destination(message.kind, message.payload.get("url"))

        async def handle() -> None:
            try:
                await self.attempt(message, lambda m: self.deliver(m, http))
            except Exception as exc:  # the outcome could not be recorded: the lease runs out
                log.warning(
                    "outbox %s: attempt not recorded (%s: %s); it is retried when its lease ends",
                    message.message_id,
                    type(exc).__name__,
                    str(exc).splitlines()[0][:300] if str(exc) else "",
                )
            finally:
                self.in_flight.pop(message.id, None)

        return asyncio.create_task(handle(), name=f"outbox-{message.message_id}")

    async def expand_events(self) -> int:
        """Expand every due booking event into its messages, delivering nothing; returns how many
        events were attempted. The messages are then due for ``run_once``."""
        total = 0
        while events := await self.claim(clock.utcnow(), kinds=(EVENT_KIND,)):
            for event in events:
                await self.attempt(event, self.expand)
            total += len(events)
        return total

    async def attempt(
        self, message: OutboxMessage, handle: Callable[[OutboxMessage], Awaitable[None]]
    ) -> None:
        """``handle`` the claimed ``message`` and record the outcome (with backoff on failure)."""
        try:
            await handle(message)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "outbox %s attempt %d failed: %s", message.message_id, message.attempts + 1, error
            )
            await self.mark(message, error, give_up=isinstance(exc, SubscriptionGone))
        else:
            # An expanded event was marked in the transaction that wrote its messages (or by the
            # worker that expanded it first); marking it again would only lose its note.
            if message.kind != EVENT_KIND:
                await self.mark(message, None)

    @asynccontextmanager
    async def heartbeat(self) -> AsyncIterator[None]:
        """Renew the leases of the rows in flight every third of a lease, while the block runs."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.options.lease_seconds / 3)
                with suppress(Exception):  # a missed beat only shortens the lease
                    await self.renew_leases()

        task = asyncio.create_task(beat(), name="outbox-heartbeat")
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def renew_leases(self) -> None:
        ids = list(self.in_flight)
        if not ids:
            return
        until = clock.utcnow() + timedelta(seconds=self.options.lease_seconds)
        async with self.sessionmaker() as session:
            await begin_write(session)
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(ids),
                    OutboxMessage.locked_by == self.worker_id,
                    OutboxMessage.locked_until.is_not(None),
                )
                .values(locked_until=until)
            )
            await session.commit()

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if asked to stop meanwhile."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    async def release(self) -> None:
        """Give back every row this worker holds and has not marked (it is stopping)."""
        async with self.sessionmaker() as session:
            await begin_write(session)
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.locked_by == self.worker_id,
                    OutboxMessage.locked_until.is_not(None),
                )
                .values(locked_until=None, locked_by="")
            )
            await session.commit()

    async def run_forever(self) -> None:
        """Claim and deliver until ``stopping`` is set (or the task is cancelled), keeping up to
        ``max_in_flight`` deliveries going; then stop them and give their rows back at once.

        A database outage is logged once when it starts and once when it ends, and polled with
        a growing pause (up to ``MAX_OUTAGE_PAUSE``) meanwhile."""
        log.info("outbox worker started")
        outage = Outage()
        tasks: set[asyncio.Task[None]] = set()
        try:
            async with self.http_client() as http, self.heartbeat():
                while not self.stopping.is_set():
                    try:
                        room = self.options.max_in_flight - len(tasks)
                        claimed = await self.claim(clock.utcnow(), room=room)
                    except Exception as exc:
                        await self._pause(outage.failed(exc, self.options.poll_seconds))
                        continue
                    outage.ended()
                    tasks.update(self._start(m, http) for m in claimed)
                    if claimed and len(tasks) < self.options.max_in_flight:
                        continue  # more may be due (and events just expanded are)
                    if not tasks:
                        await self._pause(self.options.poll_seconds)
                        continue
                    # Claim again when a delivery ends (its destination has room), at the poll,
                    # or when asked to stop.
                    stop = asyncio.create_task(self.stopping.wait())
                    done, _ = await asyncio.wait(
                        {*tasks, stop},
                        timeout=self.options.poll_seconds,
                        return_when=FIRST_COMPLETED,
                    )
                    stop.cancel()
                    tasks -= done
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await asyncio.wait_for(self.release(), RELEASE_TIMEOUT_SECONDS)
            except Exception as exc:
                log.warning(
                    "outbox worker: could not give back its rows (%s); their leases expire", exc
                )


async def expand_pending_events(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> int:
    """Expand every due booking event into its emails and webhook calls, and deliver nothing."""
    return await OutboxWorker(settings, sessionmaker).expand_events()


def _show_logs() -> None:
    """Make the worker's lines (and the emails written without SMTP) visible under uvicorn."""
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def worker_lifespan(
    settings: Settings, engine: AsyncEngine, options: WorkerOptions | None = None
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A Litestar lifespan that runs the worker beside the server while ``RUN_WORKER`` is on."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        if not settings.run_worker:
            yield
            return
        _show_logs()
        worker = OutboxWorker(settings, create_sessionmaker(engine), options)
        task = asyncio.create_task(worker.run_forever(), name="outbox-worker")
        try:
            yield
        finally:
            # Stop between two steps; cancel only a worker that does not get there in time.
            worker.stopping.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task

    return lifespan


async def run_worker(settings: Settings, engine: AsyncEngine, options: WorkerOptions) -> None:
    """``booking worker``: the worker alone, until the process is stopped."""
    _show_logs()
    await OutboxWorker(settings, create_sessionmaker(engine), options).run_forever()
