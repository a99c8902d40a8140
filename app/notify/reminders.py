"""Reminder emails before a meeting, for the guest and the host, on the one time-driven scheduler.

Each event type says how long before the start reminders go out (``EventType.reminder_minutes``,
24 hours and 1 hour unless the host changes it). A confirmed booking gets one reminder per lead
time still ahead when it is made or confirmed (``app.notify.timed`` plans them as future outbox
rows); one that is cancelled, declined or moved before then never gets it, because its row is
skipped when it comes due (the scheduler checks the booking's state and version then, under the
write lock), and the moved booking gets reminders of its own. Several workers may run: each row
is claimed with a lease and expanded once.

Each reminder is written when it is due, in its reader's language, zone and clock, with the
guest's links to cancel or reschedule (signed for the booking as it is then).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app import clock
from app.bookings.errors import InvalidInput
from app.bookings.tokens import guest_links
from app.db.models import CONFIRMED, Booking
from app.i18n import _
from app.notify import timed
from app.notify.email import REMINDER, guest_email, host_email

DEFAULT_MINUTES = (1440, 60)
MAX_REMINDERS = 5
MAX_MINUTES = 14 * 24 * 60


def reminder_times(booking: Booking) -> list[timed.Timed]:
    """One reminder per lead time of the event type, for a confirmed booking (a request waiting
    for the host gets them once confirmed, those still ahead then)."""
    if booking.status != CONFIRMED:
        return []
    minutes = booking.event_type.reminder_minutes or []
    return [
        timed.Timed(REMINDER, booking.start - timedelta(minutes=int(m)), key=str(int(m)))
        for m in sorted(set(minutes), reverse=True)
    ]


def reminder_emails(context: timed.DueEvent) -> list[tuple[str, dict[str, Any]]]:
    """The guest's and the host's reminder (no invite attached: they have it already); none once
    the meeting has started (a worker that was down comes back too late to remind anyone)."""
    booking, lead = context.booking, int(context.event.get("key") or 0)
    if clock.utcnow() >= booking.start:
        return []
    links = guest_links(context.settings, booking)
    emails = [
        guest_email(booking, REMINDER, links, b"", "REQUEST", lead_minutes=lead),
        host_email(booking, REMINDER, {}, b"", "REQUEST", lead_minutes=lead),
    ]
    return [("email", {"trigger": REMINDER, **email.as_payload()}) for email in emails]


def check_reminder_minutes(value: Any, field: str = "reminderMinutes") -> list[int]:
    """Lead times a host may set: at most five, each from 5 minutes to 14 days before."""
    if not isinstance(value, list) or len(value) > MAX_REMINDERS:
        raise InvalidInput(
            _(
                "%(field)s must be a list of at most %(count)d numbers of minutes.",
                field=field,
                count=MAX_REMINDERS,
            ),
            field,
        )
    minutes = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 5 <= item <= MAX_MINUTES:
            raise InvalidInput(
                _(
                    "%(field)s: each reminder is between 5 and %(max)d minutes before the meeting.",
                    field=field,
                    max=MAX_MINUTES,
                ),
                field,
            )
        minutes.append(item)
    return sorted(set(minutes), reverse=True)


timed.register_timed(REMINDER, plan=reminder_times, render=reminder_emails)
