"""Notifications: emails and webhooks, written to a durable outbox and delivered by a worker."""

from app.notify import reminders  # registers the reminder emails with the scheduler
from app.notify.events import record_booking_event

__all__ = ["record_booking_event", "reminders"]
