"""Notifications: emails and webhooks, written to a durable outbox and delivered by a worker."""

from app.notify.events import record_booking_event

__all__ = ["record_booking_event"]
