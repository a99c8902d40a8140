"""Booking changes become outbox messages in two steps: a compact event, then the messages.

1. ``record_booking_event`` runs inside the booking's write transaction (the booking service calls
   it after the change, before the commit). It adds exactly one outbox row of kind
   ``booking_event``: the trigger and a snapshot of what a later change could alter (status,
   version, sequence, reasons) plus the time of the event. No query, no flush, no rendering: that
   transaction holds SQLite's write lock (PostgreSQL: the host's advisory lock), so every other
   booking waits for it, and composing two emails (Jinja, Babel), an ``.ics`` (icalendar), signed
   links (itsdangerous) and webhook bodies there cost each booking several milliseconds of that lock
   and of its own response time. The event commits with the change or not at all, so no change goes
   unannounced and nothing announces a change that was rolled back.
2. ``expand_booking_event`` runs in the outbox worker, later. It loads the booking, puts the
   snapshot back onto it (so the messages describe the booking *as it was when the event happened*,
   even if it has changed since: a booking cancelled before the worker ran still gets its "created"
   email, links and invite of that time, then the "cancelled" ones), renders the guest and host
   emails and the webhook bodies outside any write transaction, and then, in one short write
   transaction, inserts the email and webhook rows and marks the event delivered. That mark is an
   UPDATE guarded by ``delivered_at IS NULL``: if another worker (or a run before a crash that
   already committed) expanded the event first, it matches no row and everything is rolled back, so
   each event becomes its messages exactly once.

Time-driven events (meeting start and end, reminders) are ``booking_event`` rows too, due later:
``record_booking_event`` plans them with each change (``app.notify.timed``), and their expansion
first checks that the booking still holds the time and version they were planned for.

The email and webhook rows have the same payloads as when they were written by the booking
transaction itself, so their delivery (``app.notify.worker``) does not know the difference. Links
are bound to the snapshot's ``version``, so they are the same tokens the change would have signed.
Subscriptions are read at expansion time: a webhook switched off (or added) between the change and
the expansion is (or is not) called, which the short delay between the two makes rare.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from app import clock
from app.actor import current_actor
from app.bookings.tokens import guest_links, host_links
from app.calendars.writeback import needs_write, write_row
from app.db.models import EVENT_KIND, Booking, OutboxMessage, Webhook
from app.db.session import begin_write, lock_host
from app.notify import timed
from app.notify.email import guest_email, host_email
from app.notify.webhooks import ALIASES, CAL_TRIGGERS, calls, delivered_as, event_payload
from app.settings import Settings

log = logging.getLogger("app.notify")

# What a booking change records (``record_booking_event``).
CHANGE_TRIGGERS = (
    "BOOKING_CREATED",
    "BOOKING_REQUESTED",
    "BOOKING_CONFIRMED",
    "BOOKING_DECLINED",
    "BOOKING_CANCELLED",
    "BOOKING_RESCHEDULED",
    "BOOKING_NO_SHOW_UPDATED",
)
# Changes that concern the host's records only: no email to anyone (as on Cal.com).
QUIET_TRIGGERS = ("BOOKING_NO_SHOW_UPDATED",)
# What a webhook can subscribe to: Cal.com's names of the changes and of the time-driven events
# (``app.notify.timed``), and our own names kept as aliases (app/notify/webhooks.py).
TRIGGERS = (*CAL_TRIGGERS, *ALIASES)
# A subscription that names none gets every change and event, once each (Cal.com's names).
DEFAULT_TRIGGERS = CAL_TRIGGERS
# Changes that make a booking: nothing was planned for it yet.
STARTING_TRIGGERS = ("BOOKING_CREATED", "BOOKING_REQUESTED", "BOOKING_RESCHEDULED")
ENDING_TRIGGERS = ("BOOKING_CANCELLED", "BOOKING_DECLINED")
# Events that only email the guest (no host email, no webhook, no change): the current links,
# sent again on request (``app.bookings.followup``).
LINKS_TRIGGER = "BOOKING_LINKS"
GUEST_ONLY_TRIGGERS = (LINKS_TRIGGER,)
__all__ = ["EVENT_KIND", "TRIGGERS", "expand_booking_event", "record_booking_event"]
# The booking's attributes a later change can alter, by their key in the event's payload.
SNAPSHOT = {
    "status": "status",
    "version": "version",
    "sequence": "sequence",
    "cancellationReason": "cancellation_reason",
    "reschedulingReason": "rescheduling_reason",
    "declineReason": "decline_reason",
    "absentHost": "absent_host",
    "absentAttendees": "absent_attendees",
}


async def first_uid(session: AsyncSession, booking: Booking) -> str:
    """The uid of the booking this one was rescheduled from, first of the chain (the iCal UID)."""
    uid, seen = booking.uid, {booking.uid}
    parent = booking.rescheduled_from_uid
    while parent and parent not in seen:
        seen.add(parent)
        uid = parent
        query = select(Booking.rescheduled_from_uid).where(Booking.uid == parent)
        parent = (await session.execute(query)).scalar_one_or_none()
    return uid


async def record_booking_event(
    session: AsyncSession, booking: Booking, trigger: str, previous: Booking | None = None
) -> None:
    """Queue one ``booking_event`` row for ``trigger``; the worker turns it into the messages.

    ``previous`` is the booking a reschedule replaces; ``booking`` is then the new one. Call it
    inside the change's transaction, once ``booking`` has its uid and state (a new booking has them
    set up front and is inserted after this call). It also plans the booking's time-driven events
    for its new state (``app.notify.timed.schedule_timed_events``). For a new booking it runs no
    query and does not flush (see the module docstring for why): the rows are written at the
    commit. A change that keeps the booking's time reads its pending timed rows (one indexed read).
    """
    if trigger not in CHANGE_TRIGGERS + GUEST_ONLY_TRIGGERS:
        raise ValueError(f"unknown trigger {trigger}")
    now = clock.utcnow()
    payload: dict[str, Any] = {
        "trigger": trigger,
        "previousUid": previous.uid if previous is not None else None,
        # Who made the change (guest, host, system), as the request's door says: the emails
        # tell the reader.
        "by": current_actor(),
        **{key: getattr(booking, attribute) for key, attribute in SNAPSHOT.items()},
        "at": now.isoformat(),
    }
    session.add(
        OutboxMessage(
            kind=EVENT_KIND,
            booking_uid=booking.uid,
            payload=payload,
            available_at=now,
            created_at=now,
        )
    )
    if trigger not in ENDING_TRIGGERS + GUEST_ONLY_TRIGGERS:
        new = trigger in STARTING_TRIGGERS
        await timed.schedule_timed_events(session, booking, new=new, now=now)


async def expand_booking_event(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, message: OutboxMessage
) -> bool:
    """Turn one ``booking_event`` row into its emails and webhook calls, at most once.

    Returns False if the event had already been expanded (by another worker): nothing is written.
    If the booking no longer exists the event is marked delivered with a note and nothing is sent.
    Raises if loading or rendering fails; nothing is written then and the worker retries later.

    The booking is read in a plain read transaction, then detached (``expunge``) *before* the
    snapshot is put back onto it: the object then describes the booking as it was at the event,
    which is not the database's state, and a detached object can never be flushed, so no autoflush
    or commit can write that old state back over the booking.
    """
    if message.kind != EVENT_KIND:
        raise ValueError(f"not a booking event: {message.kind!r}")
    event = message.payload
    trigger = event["trigger"]
    is_timed = timed.is_timed(event)
    if not is_timed and trigger not in CHANGE_TRIGGERS + GUEST_ONLY_TRIGGERS:
        raise ValueError(f"unknown trigger {trigger}")
    at = datetime.fromisoformat(event["at"])

    previous: Booking | None = None
    hooks: list[Webhook] = []
    root = ""
    write_calendar = False
    note = ""
    async with sessionmaker() as session:
        booking = await _load_booking(session, message.booking_uid)
        if booking is not None:
            query = (
                select(Webhook)
                .where(Webhook.host_id == booking.host_id, Webhook.active.is_(True))
                .order_by(Webhook.id)
            )
            hooks = [
                h
                for h in await session.scalars(query)
                if delivered_as(trigger, h.triggers or []) is not None
                and h.event_type_id in (None, booking.event_type_id)
            ]
            root = await first_uid(session, booking)
            if is_timed:
                # A timed event fires for the booking as it is now, which must be as planned.
                note = timed.stale_reason(event, **_state(booking), booking=booking)
                session.expunge(booking)
            else:
                if event.get("previousUid"):
                    previous = await _load_booking(session, event["previousUid"])
                write_calendar = await needs_write(session, booking.host_id, root)
                session.expunge(booking)
                for key, attribute in SNAPSHOT.items():
                    if key in event:
                        setattr(booking, attribute, event[key])
    # The read transaction has ended: render with no transaction (and no lock) open.
    now = clock.utcnow()
    rows: list[OutboxMessage] = []
    if booking is None:
        note = f"booking {message.booking_uid} no longer exists: nothing sent"
    elif is_timed:
        if not note:
            context = timed.DueEvent(settings, booking, event, hooks, root)
            rows = _rows(timed.render(context), booking.uid, now)
    else:
        by = str(event.get("by") or "")
        rows = _messages(settings, booking, trigger, previous, root, hooks, at, now, by)
        if write_calendar:  # the host's destination calendar (app/calendars/writeback.py)
            rows.append(write_row(booking.uid, root, now))

    async with sessionmaker() as session:
        await begin_write(session)
        if is_timed and booking is not None and not note:
            # Again under the host's write lock: a change committed since the read above wins.
            await lock_host(session, booking.host_id)
            note = await _still_due(session, event, booking.uid)
            if note:
                rows = []
        won = await session.scalar(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.delivered_at.is_(None))
            .values(
                delivered_at=now,
                attempts=OutboxMessage.attempts + 1,
                locked_until=None,
                last_error=note,
            )
            .returning(OutboxMessage.id)
        )
        if won is None:
            await session.rollback()
            log.info("outbox %s: already expanded elsewhere", message.message_id)
            return False
        session.add_all(rows)
        await session.commit()
    if note:
        (log.info if is_timed else log.warning)("outbox %s: %s", message.message_id, note)
    return True


def _state(booking: Booking) -> dict[str, Any]:
    return {
        "status": booking.status,
        "version": booking.version,
        "start": booking.start,
        "end": booking.end,
    }


async def _still_due(session: AsyncSession, event: dict[str, Any], uid: str) -> str:
    """Why the timed ``event`` must not fire, read inside the write transaction ("" if it must)."""
    query = select(Booking.status, Booking.version, Booking.start, Booking.end).where(
        Booking.uid == uid
    )
    row = (await session.execute(query)).first()
    if row is None:
        return f"booking {uid} no longer exists: nothing sent"
    return timed.stale_reason(
        event, status=row.status, version=row.version, start=row.start, end=row.end
    )


def _rows(
    payloads: list[tuple[str, dict[str, Any]]], booking_uid: str, now: datetime
) -> list[OutboxMessage]:
    return [
        OutboxMessage(
            kind=kind,
            booking_uid=booking_uid,
            payload=payload,
            available_at=now,
            created_at=now,
        )
        for kind, payload in payloads
    ]


async def _load_booking(session: AsyncSession, uid: str | None) -> Booking | None:
    if uid is None:
        return None
    query = (
        select(Booking)
        .where(Booking.uid == uid)
        .options(selectinload(Booking.event_type), selectinload(Booking.host))
    )
    return (await session.scalars(query)).first()


def _messages(
    settings: Settings,
    booking: Booking,
    trigger: str,
    previous: Booking | None,
    root_uid: str,
    hooks: list[Webhook],
    at: datetime,
    now: datetime,
    by: str = "",
) -> list[OutboxMessage]:
    """The guest and host emails (each in its reader's language, with its own invite) and one
    webhook call per subscription, due ``now``."""
    payloads: list[tuple[str, dict[str, Any]]] = []
    if trigger not in QUIET_TRIGGERS:
        method = "CANCEL" if trigger in ENDING_TRIGGERS else "REQUEST"
        links = guest_links(settings, booking)
        emails = [guest_email(booking, trigger, links, None, method, previous, by, root_uid)]
        if trigger not in GUEST_ONLY_TRIGGERS:
            links = host_links(settings, booking)
            emails.append(host_email(booking, trigger, links, None, method, previous, by, root_uid))
        payloads += [("email", {"trigger": trigger, **email.as_payload()}) for email in emails]
    if hooks:
        payloads += calls(hooks, trigger, at, event_payload(booking, trigger, previous, root_uid))
    return _rows(payloads, booking.uid, now)
