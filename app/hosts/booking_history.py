"""A booking's history as the host reads it: created, moved, confirmed, declined, cancelled.

Every change of a booking records one outbox row of kind ``booking_event`` in its own transaction
(``app.notify.events.record_booking_event``): the trigger, who acted (``by``: guest, host,
system), when (``at``), the reasons as they stood, and for a reschedule the uid it replaced
(``previousUid``). A reschedule makes a new booking, so one meeting is a chain of bookings
(``rescheduled_from_uid`` / ``rescheduled_to_uid``); its history is the events of the whole chain,
in order. Time-driven rows (reminders, meeting start and end) are not changes and are left out.

Where a change left no event (a booking older than the events, a row removed by hand), the
booking's own fields still tell it: its creation time, its reasons, the booking it was moved to;
such an entry has no ``by``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import CANCELLED, DECLINED, EVENT_KIND, Booking, OutboxMessage
from app.notify.events import CHANGE_TRIGGERS

MAX_CHAIN = 50  # a meeting moved more often than this shows its latest moves

CREATED = "created"
REQUESTED = "requested"
CONFIRMED = "confirmed"
DECLINED_ENTRY = "declined"
CANCELLED_ENTRY = "cancelled"
RESCHEDULED = "rescheduled"
NO_SHOW = "no_show"
KINDS = {
    "BOOKING_CREATED": CREATED,
    "BOOKING_REQUESTED": REQUESTED,
    "BOOKING_CONFIRMED": CONFIRMED,
    "BOOKING_DECLINED": DECLINED_ENTRY,
    "BOOKING_CANCELLED": CANCELLED_ENTRY,
    "BOOKING_RESCHEDULED": RESCHEDULED,
    "BOOKING_NO_SHOW_UPDATED": NO_SHOW,
}


@dataclass(frozen=True)
class HistoryEntry:
    """One change. ``uid``: the booking it happened to (for a reschedule, the new one, and
    ``previous`` the one it replaced); ``by``: ``guest``, ``host``, ``system`` or "" (unknown)."""

    kind: str
    at: datetime
    uid: str
    by: str = ""
    reason: str = ""
    previous: Booking | None = None
    booking: Booking | None = None
    absent: list[str] = field(default_factory=list)
    absent_host: bool = False


@dataclass(frozen=True)
class History:
    entries: list[HistoryEntry]
    chain: dict[str, Booking]


async def _chain(session: AsyncSession, booking: Booking) -> dict[str, Booking]:
    """The bookings of one meeting, ``booking`` included, by uid (earlier and later moves)."""
    found = {booking.uid: booking}
    for attribute in ("rescheduled_from_uid", "rescheduled_to_uid"):
        current = booking
        while len(found) < MAX_CHAIN:
            uid = getattr(current, attribute)
            if not uid or uid in found:
                break
            query = select(Booking).where(Booking.uid == uid, Booking.host_id == booking.host_id)
            following = (await session.scalars(query)).first()
            if following is None:
                break
            found[uid] = following
            current = following
    return found


def _at(payload: dict[str, Any], fallback: datetime) -> datetime:
    try:
        return datetime.fromisoformat(str(payload.get("at")))
    except ValueError:
        return fallback


def _from_event(row: OutboxMessage, chain: dict[str, Booking]) -> HistoryEntry | None:
    payload = row.payload or {}
    trigger = payload.get("trigger")
    if "due" in payload or trigger not in CHANGE_TRIGGERS or row.booking_uid not in chain:
        return None
    kind = KINDS[str(trigger)]
    reason = ""
    if kind == CANCELLED_ENTRY:
        reason = str(payload.get("cancellationReason") or "")
    elif kind == DECLINED_ENTRY:
        reason = str(payload.get("declineReason") or "")
    elif kind == RESCHEDULED:
        reason = str(payload.get("reschedulingReason") or "")
    previous = chain.get(str(payload.get("previousUid") or ""))
    uid = str(row.booking_uid)
    return HistoryEntry(
        kind=kind,
        at=_at(payload, row.created_at),
        uid=uid,
        by=str(payload.get("by") or ""),
        reason=reason,
        previous=previous,
        booking=chain[uid],
        absent=[str(email) for email in payload.get("absentAttendees") or []],
        absent_host=bool(payload.get("absentHost")),
    )


def _from_fields(chain: dict[str, Booking], entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """What the bookings' own fields say happened that no event recorded."""
    seen = {(entry.kind, entry.uid) for entry in entries}
    moved_in = {entry.uid for entry in entries if entry.kind == RESCHEDULED}
    extra: list[HistoryEntry] = []
    for uid, booking in chain.items():
        came_from = chain.get(booking.rescheduled_from_uid or "")
        if came_from is not None and uid not in moved_in:
            extra.append(
                HistoryEntry(
                    RESCHEDULED,
                    booking.created_at,
                    uid,
                    reason=booking.rescheduling_reason,
                    previous=came_from,
                    booking=booking,
                )
            )
        elif not booking.rescheduled_from_uid and not seen & {(CREATED, uid), (REQUESTED, uid)}:
            extra.append(HistoryEntry(CREATED, booking.created_at, uid, booking=booking))
        if booking.status == CANCELLED and (CANCELLED_ENTRY, uid) not in seen:
            extra.append(
                HistoryEntry(
                    CANCELLED_ENTRY,
                    booking.updated_at,
                    uid,
                    reason=booking.cancellation_reason,
                    booking=booking,
                )
            )
        if booking.status == DECLINED and (DECLINED_ENTRY, uid) not in seen:
            extra.append(
                HistoryEntry(
                    DECLINED_ENTRY,
                    booking.updated_at,
                    uid,
                    reason=booking.decline_reason,
                    booking=booking,
                )
            )
    return extra


async def booking_history(session: AsyncSession, booking: Booking) -> History:
    """Every change of ``booking``'s meeting (its chain of reschedules), oldest first."""
    chain = await _chain(session, booking)
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == EVENT_KIND, OutboxMessage.booking_uid.in_(list(chain)))
        .order_by(OutboxMessage.id)
    )
    entries = [entry for row in rows if (entry := _from_event(row, chain)) is not None]
    entries += _from_fields(chain, entries)
    entries.sort(key=lambda entry: entry.at)
    return History(entries, chain)
