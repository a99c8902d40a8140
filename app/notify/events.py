"""Turn a booking change into outbox messages, inside the transaction that makes the change."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Booking

TRIGGERS = (
    "BOOKING_CREATED",
    "BOOKING_REQUESTED",
    "BOOKING_CONFIRMED",
    "BOOKING_DECLINED",
    "BOOKING_CANCELLED",
    "BOOKING_RESCHEDULED",
)


async def record_booking_event(
    session: AsyncSession, booking: Booking, trigger: str, previous: Booking | None = None
) -> None:
    """Queue the emails and webhook calls that ``trigger`` on ``booking`` causes.

    Called by the booking service before it commits, so the messages and the change land together.
    The emails and webhooks themselves arrive with the lifecycle work (issue 4).
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger}")
