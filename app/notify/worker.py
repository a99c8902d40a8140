"""The outbox worker: claims due rows with a lease, expands booking events, delivers messages.

A booking change writes one compact ``booking_event`` row in its own transaction (see
``app.notify.events``: that transaction holds SQLite's write lock, so it records the event and
renders nothing). The worker turns each event into its messages, then delivers those:

1. Claim (one short transaction): pick due rows (not delivered, not given up, ``available_at``
   passed, no live lease) and set ``locked_until`` = now + lease. On PostgreSQL the pick is
   ``SELECT … FOR UPDATE SKIP LOCKED``, so concurrent workers take different rows without waiting;
   on SQLite the transaction begins IMMEDIATE (one writer at a time). Either way the UPDATE repeats
   the "no live lease" condition, so a row is claimed by one worker only.
2. Handle the row outside any transaction:
   - a ``booking_event`` is expanded (``expand_booking_event``): the emails and webhook calls are
     rendered, then inserted, due at once, in the same short write transaction that marks the event
     delivered, guarded by ``delivered_at IS NULL`` so that an event is expanded once even if two
     workers got hold of it (an expired lease). The expansion records its own outcome, so step 3
     only records its failures. ``run_forever`` polls again without sleeping after any attempt, so
     the new messages go out on the next turn of the loop;
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
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import clock
from app.crypto import unseal
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
WEBHOOK_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class WorkerOptions:
    poll_seconds: float = 1.0
    lease_seconds: float = 120.0  # longer than any one delivery may take (timeouts are 15-20 s)
    retry_base_seconds: float = 10.0
    batch: int = 10


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """10 s, 20 s, 40 s, … after the 1st, 2nd, 3rd failure, at most an hour."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


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

    async def claim(
        self, now: datetime, kinds: tuple[str, ...] | None = None
    ) -> list[OutboxMessage]:
        """Lease up to ``batch`` due rows (only of ``kinds``, if given), oldest first."""
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
                select(OutboxMessage.id)
                .where(*due)
                .order_by(OutboxMessage.available_at, OutboxMessage.id)
                .limit(self.options.batch)
            )
            if session.get_bind().dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            else:
                # Look before taking SQLite's write lock: an idle poll then never blocks bookings.
                if not (await session.scalars(pick)).first():
                    await session.rollback()
                    return []
                await begin_write(session)
            ids = list((await session.scalars(pick)).all())
            if not ids:
                await session.rollback()
                return []
            won = await session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), *due)
                .values(locked_until=lease_until)
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
        else:
            raise ValueError(f"unknown outbox kind {message.kind!r}")

    async def expand(self, message: OutboxMessage) -> None:
        """Turn a booking event into its messages; it marks the event itself (see step 2)."""
        await expand_booking_event(self.sessionmaker, self.settings, message)

    async def mark(self, message: OutboxMessage, error: str | None, give_up: bool = False) -> None:
        now = clock.utcnow()
        attempts = message.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "locked_until": None}
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

    async def run_once(self) -> int:
        """Expand or deliver what is due now; returns how many rows were attempted."""
        messages = await self.claim(clock.utcnow())
        async with outbound_client(
            allow_private=self.settings.allow_private_urls, timeout=WEBHOOK_TIMEOUT_SECONDS
        ) as http:
            for message in messages:
                await self.attempt(message, lambda m: self.deliver(m, http))
        return len(messages)

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

    async def run_forever(self) -> None:
        log.info("outbox worker started")
        while True:
            try:
                attempted = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox worker: claiming failed; retrying")
                attempted = 0
            if not attempted:
                await asyncio.sleep(self.options.poll_seconds)


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
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    return lifespan


async def run_worker(settings: Settings, engine: AsyncEngine, options: WorkerOptions) -> None:
    """``booking worker``: the worker alone, until the process is stopped."""
    _show_logs()
    await OutboxWorker(settings, create_sessionmaker(engine), options).run_forever()
