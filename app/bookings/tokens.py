"""Signed tokens for the emailed links: cancel, reschedule (guest), confirm, decline (host).

A token carries the booking's uid, the booking's ``version`` when the link was made, and an
explicit expiry (the meeting start at the latest). Each purpose has its own salt, so a cancel token
cannot be replayed as a confirm token. Because ``version`` rises on every change, a link dies once
it has been used or once the booking moved on: the service's ``expected_version`` refuses it.

Keys: ``SECRET_KEYS`` lists the newest key first; itsdangerous wants oldest-to-newest and signs with
the last, so the list is reversed here. Tokens signed with an older key stay valid until it is
removed from the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import clock
from app.bookings.errors import BookingError
from app.db.models import PENDING, Booking
from app.settings import Settings

PURPOSES = ("cancel", "reschedule", "confirm", "decline")
GUEST_PURPOSES = ("cancel", "reschedule")
HOST_PURPOSES = ("confirm", "decline")


class InvalidToken(BookingError):
    """The link's token is not one we signed (tampered, truncated, wrong purpose)."""

    status_code = 404
    reason = "invalid"

    def __init__(
        self, message: str = "This link is not valid. Please use the link from your email."
    ) -> None:
        super().__init__(message, field="token")


class ExpiredToken(InvalidToken):
    status_code = 410
    reason = "expired"

    def __init__(self, message: str = "This link has expired.") -> None:
        super().__init__(message)


class SpentToken(InvalidToken):
    """The booking changed since the link was made: it was used, or the booking moved on."""

    status_code = 409
    reason = "used"


@dataclass(frozen=True)
class TokenClaims:
    purpose: str
    uid: str
    version: int
    expires_at: datetime


def _serializer(settings: Settings, purpose: str) -> URLSafeSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose}")
    if not settings.secret_keys:
        raise RuntimeError("SECRET_KEYS is empty: links cannot be signed")
    return _serializer_for(settings.secret_keys, purpose)


@lru_cache(maxsize=64)
def _serializer_for(secret_keys: tuple[str, ...], purpose: str) -> URLSafeSerializer:
    """Built once per key list and purpose: every booking response signs two tokens."""
    keys = list(reversed(secret_keys))  # itsdangerous: oldest first, signs with the last
    return URLSafeSerializer(keys, salt=f"booking-{purpose}")


def expiry_of(booking: Booking) -> datetime:
    """Links stop working when the meeting starts: after that there is nothing left to change."""
    return booking.start


def make_token(settings: Settings, purpose: str, booking: Booking) -> str:
    payload = {
        "b": booking.uid,
        "v": booking.version,
        "e": int(expiry_of(booking).timestamp()),
    }
    return str(_serializer(settings, purpose).dumps(payload))


def read_token(settings: Settings, purpose: str, token: str) -> TokenClaims:
    """Check the signature and the expiry; raise ``InvalidToken``/``ExpiredToken`` otherwise.

    Whether the token is spent needs the booking: see ``check_current``.
    """
    try:
        payload = _serializer(settings, purpose).loads(token)
    except BadSignature:
        raise InvalidToken() from None
    try:
        claims = TokenClaims(
            purpose=purpose,
            uid=str(payload["b"]),
            version=int(payload["v"]),
            expires_at=datetime.fromtimestamp(int(payload["e"]), UTC),
        )
    except (KeyError, TypeError, ValueError):
        raise InvalidToken() from None
    if clock.utcnow() >= claims.expires_at:
        raise ExpiredToken(
            "This link has expired: the meeting has already started."
            if purpose in GUEST_PURPOSES
            else "This link has expired: the requested time has already passed."
        )
    return claims


async def booking_for_token(
    session: AsyncSession, settings: Settings, purpose: str, token: str
) -> tuple[Booking, TokenClaims]:
    """The booking a valid token names (with its host and event type loaded).

    A token we signed for a booking that no longer exists is treated as invalid: the caller learns
    nothing about other bookings.
    """
    claims = read_token(settings, purpose, token)
    query = (
        select(Booking)
        .where(Booking.uid == claims.uid)
        .options(selectinload(Booking.event_type), selectinload(Booking.host))
    )
    booking = (await session.scalars(query)).first()
    if booking is None:
        raise InvalidToken()
    return booking, claims


def check_current(claims: TokenClaims, booking: Booking, message: str) -> None:
    """Raise ``SpentToken`` (with the service's message for the booking's state) if it changed."""
    if booking.uid != claims.uid or booking.version != claims.version:
        raise SpentToken(message)


def link_url(settings: Settings, purpose: str, token: str) -> str:
    """The page a link opens: ``{public_url}/booking/{token}/{purpose}``."""
    return f"{settings.public_url}/booking/{token}/{purpose}"


def links_for(settings: Settings, booking: Booking, purposes: tuple[str, ...]) -> dict[str, str]:
    """URLs for ``purposes``, bound to the booking's current version."""
    return {p: link_url(settings, p, make_token(settings, p, booking)) for p in purposes}


def guest_links(settings: Settings, booking: Booking) -> dict[str, str]:
    """Cancel and reschedule links while the booking holds its slot; none once it is over."""
    return links_for(settings, booking, GUEST_PURPOSES) if booking.is_held else {}


def host_links(settings: Settings, booking: Booking) -> dict[str, str]:
    """Confirm and decline links while the booking waits for the host's approval."""
    return links_for(settings, booking, HOST_PURPOSES) if booking.status == PENDING else {}
