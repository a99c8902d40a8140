"""After a change: where a booking went, and sending its guest the links that work now.

A reschedule replaces a booking by a new one (``rescheduled_to_uid``), and links are bound to the
booking and version they were made for. An old link therefore cannot act, but it can still lead
somewhere: to the booking as it is now, and (on the guest's request) to an email with its current
links, sent to the address the booking already has, so the page reveals nothing new.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import clock
from app.db.models import Booking, OutboxMessage
from app.db.session import begin_write
from app.notify.events import EVENT_KIND, LINKS_TRIGGER, record_booking_event

MAX_HOPS = 50
RESEND_PAUSE = timedelta(minutes=10)


async def current_booking(session: AsyncSession, booking: Booking) -> Booking:
    """The booking this one became after its reschedules (itself if it never moved)."""
    seen = {booking.uid}
    while booking.rescheduled_to_uid and len(seen) < MAX_HOPS:
        query = (
            select(Booking)
            .where(Booking.uid == booking.rescheduled_to_uid)
            .options(selectinload(Booking.event_type), selectinload(Booking.host))
        )
        following = (await session.scalars(query)).first()
        if following is None or following.uid in seen:
            break
        seen.add(following.uid)
        booking = following
    return booking


async def resend_links(
    session: AsyncSession, booking: Booking, now: datetime | None = None
) -> bool:
    """Queue an email with ``booking``'s current links to its guest; False (nothing queued) when
    the booking no longer holds its time or links went out less than ten minutes ago."""
    now = now or clock.utcnow()
    await begin_write(session)
    fresh = await session.get(Booking, booking.id, populate_existing=True)
    if fresh is None or not fresh.is_held:
        await session.rollback()
        return False
    recent = await session.scalars(
        select(OutboxMessage.payload).where(
            OutboxMessage.kind == EVENT_KIND,
            OutboxMessage.booking_uid == fresh.uid,
            OutboxMessage.created_at > now - RESEND_PAUSE,
        )
    )
    if any(payload.get("trigger") == LINKS_TRIGGER for payload in recent):
        await session.rollback()
        return False
    await record_booking_event(session, fresh, LINKS_TRIGGER)
    await session.commit()
    return True
