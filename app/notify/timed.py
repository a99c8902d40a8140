"""Time-driven booking events: the one scheduler for meeting start/end and reminders.

A booking that holds a time may have things due *at* a time: ``MEETING_STARTED`` at its start,
``MEETING_ENDED`` at its end (Cal.com's webhook triggers), reminders some minutes before it. Each
is a future ``booking_event`` outbox row: ``available_at`` is when it is due, and its payload
carries the booking's ``version``, ``start`` and ``end`` as they were when it was planned. The
outbox worker claims it when it comes due, like any event, and expands it into its messages
(``app.notify.events``), unless the booking has moved on since:

- the booking no longer holds that time (cancelled, declined, rescheduled away), or
- its ``version`` changed (any change bumps it), or
- the trigger is no longer planned for it (a reminder switched off since).

Then the row is marked delivered with a note saying why, and nothing is sent. The check is made
again inside the short write transaction that marks the row, under the host's write lock (see
``app.db.session``), so a change committing at the same moment either comes first (and the row
is skipped) or finds the row already delivered (and does not plan it again). Claiming with a
lease and marking with ``WHERE delivered_at IS NULL`` make each row expand once, whatever the
number of workers.

Planning (``schedule_timed_events``) runs wherever a booking starts or changes while holding a
time: ``record_booking_event`` calls it with every change, so callers need do nothing.
- A new booking (created, requested, or the new booking of a reschedule) gets a row per planned
  trigger still in the future. No query: that transaction holds the write lock.
- A change that leaves the booking holding its time (confirmed, marked absent, …) bumped the
  version, so the rows planned before are now stale: it plans again for the new version every
  trigger still in the future, and re-issues those already due but not yet expanded (a worker
  that was down, or a change made the second a meeting started), so none is lost. That costs one
  indexed read of the booking's pending rows.
- A change that ends the hold (cancelled, declined) plans nothing: the pending rows are skipped.

Adding a kind of timed event is a few lines (reminders, issue 12)::

    def reminder_times(booking: Booking) -> list[Timed]:
        return [
            Timed("BOOKING_REMINDER", booking.start - timedelta(minutes=m), key=f"guest-{m}")
            for m in booking.event_type.reminder_minutes   # lead times per event type
        ]

    register_timed("BOOKING_REMINDER", plan=reminder_times, render=reminder_emails)

``plan(booking)`` says what is due when for the booking as it is now (it may look at its status,
event type, attendees); ``render(context)`` turns one due event into outbox rows (``("email",
payload)`` or ``("webhook", payload)``), outside any transaction. The default renderer calls the
webhooks subscribed to the trigger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.db.models import CONFIRMED, EVENT_KIND, HELD_STATUSES, Booking, OutboxMessage, Webhook
from app.notify.webhooks import webhook_body
from app.settings import Settings

MEETING_STARTED = "MEETING_STARTED"
MEETING_ENDED = "MEETING_ENDED"


@dataclass(frozen=True)
class Timed:
    """One trigger due at one instant for a booking; ``key`` tells apart several of a trigger
    (two reminders with different lead times)."""

    trigger: str
    due: datetime
    key: str = ""


@dataclass(frozen=True)
class DueEvent:
    """What a renderer gets: the booking as it is now (still at the planned version), the timed
    event's stored payload, the webhooks subscribed to its trigger, and the settings."""

    settings: Settings
    booking: Booking
    event: dict[str, Any]
    hooks: list[Webhook] = field(default_factory=list)

    @property
    def trigger(self) -> str:
        return str(self.event["trigger"])

    @property
    def due(self) -> datetime:
        return datetime.fromisoformat(self.event["due"])


Plan = Callable[[Booking], Iterable[Timed]]
Render = Callable[[DueEvent], list[tuple[str, dict[str, Any]]]]


@dataclass(frozen=True)
class TimedKind:
    plan: Plan
    render: Render


_KINDS: dict[str, TimedKind] = {}


def register_timed(trigger: str, *, plan: Plan, render: Render | None = None) -> None:
    """Plan ``trigger`` for every booking with ``plan``; ``render`` makes its messages (by
    default: the webhook calls of the subscriptions to ``trigger``)."""
    _KINDS[trigger] = TimedKind(plan, render or call_webhooks)


def timed_triggers() -> tuple[str, ...]:
    return tuple(_KINDS)


def is_timed(event: dict[str, Any]) -> bool:
    return "due" in event


def planned(booking: Booking) -> list[Timed]:
    """Everything due for ``booking`` as it is now, earliest first."""
    items = [item for kind in _KINDS.values() for item in kind.plan(booking)]
    return sorted(items, key=lambda item: (item.due, item.trigger, item.key))


def render(context: DueEvent) -> list[tuple[str, dict[str, Any]]]:
    kind = _KINDS.get(context.trigger)
    if kind is None:
        raise ValueError(f"unknown timed trigger {context.trigger}")
    return kind.render(context)


def call_webhooks(context: DueEvent) -> list[tuple[str, dict[str, Any]]]:
    """One call per webhook subscribed to the trigger, ``createdAt`` being the time it was due."""
    if not context.hooks:
        return []
    body = webhook_body(context.booking, context.trigger, context.due)
    return [
        (
            "webhook",
            {"trigger": context.trigger, "webhookId": h.id, "url": h.subscriber_url, "body": body},
        )
        for h in context.hooks
    ]


# Cal.com fires these for accepted bookings only: one waiting for approval gets them when it is
# confirmed (those of its start and end still ahead then).
def meeting_started(booking: Booking) -> list[Timed]:
    return [Timed(MEETING_STARTED, booking.start)] if booking.status == CONFIRMED else []


def meeting_ended(booking: Booking) -> list[Timed]:
    return [Timed(MEETING_ENDED, booking.end)] if booking.status == CONFIRMED else []


register_timed(MEETING_STARTED, plan=meeting_started)
register_timed(MEETING_ENDED, plan=meeting_ended)


# Planning ---------------------------------------------------------------------------------------


def _identity(trigger: str, due: datetime, key: str) -> tuple[str, str, str]:
    return trigger, due.isoformat(), key


async def schedule_timed_events(
    session: AsyncSession, booking: Booking, *, new: bool, now: datetime | None = None
) -> int:
    """Add the booking's timed events for its current version; returns how many rows it added.

    ``new``: the booking was just made (nothing was planned for it before, so nothing is read).
    Otherwise its pending timed rows are read, and those still planned but already due are
    issued again for the new version (see the module docstring). Call it inside the change's
    write transaction, after the change; ``record_booking_event`` does.
    """
    if booking.status not in HELD_STATUSES:
        return 0
    items = planned(booking)
    if not items:
        return 0
    now = now or clock.utcnow()
    pending: set[tuple[str, str, str]] = set()
    if not new:
        query = select(OutboxMessage.payload).where(
            OutboxMessage.booking_uid == booking.uid,
            OutboxMessage.kind == EVENT_KIND,
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.failed_at.is_(None),
        )
        for payload in await session.scalars(query):
            if is_timed(payload):
                due = datetime.fromisoformat(payload["due"])
                pending.add(_identity(payload["trigger"], due, payload.get("key", "")))
    rows = [
        _row(booking, item, now)
        for item in items
        if item.due > now or _identity(item.trigger, item.due, item.key) in pending
    ]
    session.add_all(rows)
    return len(rows)


def _row(booking: Booking, item: Timed, now: datetime) -> OutboxMessage:
    payload = {
        "trigger": item.trigger,
        "key": item.key,
        "due": item.due.isoformat(),
        "at": item.due.isoformat(),
        "version": booking.version,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
    }
    return OutboxMessage(
        kind=EVENT_KIND,
        booking_uid=booking.uid,
        payload=payload,
        available_at=max(item.due, now),
        created_at=now,
    )


# Checking at expansion --------------------------------------------------------------------------


def stale_reason(
    event: dict[str, Any],
    *,
    status: str,
    version: int,
    start: datetime,
    end: datetime,
    booking: Booking | None = None,
) -> str:
    """Why a due timed event must not fire for the booking as it is now ("" when it must)."""
    trigger = event["trigger"]
    if status not in HELD_STATUSES:
        return f"{trigger} skipped: the booking is {status.lower()}"
    planned_range = (datetime.fromisoformat(event["start"]), datetime.fromisoformat(event["end"]))
    if (start, end) != planned_range:
        return f"{trigger} skipped: the booking no longer holds that time"
    if version != event["version"]:
        return (
            f"{trigger} skipped: planned for version {event['version']}, the booking is at "
            f"{version} (planned again with the change)"
        )
    if booking is not None:
        due = datetime.fromisoformat(event["due"])
        identity = _identity(trigger, due, event.get("key", ""))
        if identity not in {_identity(t.trigger, t.due, t.key) for t in planned(booking)}:
            return f"{trigger} skipped: no longer planned for this booking"
    return ""
