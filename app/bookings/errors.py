"""Errors a guest or API client caused; the web layer turns each into a 4xx with its message."""

from __future__ import annotations

SLOT_TAKEN = "The selected time slot is no longer available."


class BookingError(Exception):
    """``message`` is for API clients (English, naming the API's fields); ``code`` says what kind
    of problem it is (``required``, ``email``…) so a page can say it in the reader's words."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class InvalidInput(BookingError):
    """Bad input: a missing or malformed field, a time that is not a slot."""


class SlotUnavailable(BookingError):
    def __init__(self, message: str = SLOT_TAKEN) -> None:
        super().__init__(message, field="startTime")


class NotFound(BookingError):
    status_code = 404


class Conflict(BookingError):
    """The booking is not in a state that allows this change (already cancelled, say)."""

    status_code = 409


class AuthRequired(BookingError):
    """Only an API key may do this (an event type that requires authentication to book)."""

    status_code = 401


class Forbidden(BookingError):
    """The key is valid but its host may not do this."""

    status_code = 403
