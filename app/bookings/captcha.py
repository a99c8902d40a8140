"""ALTCHA proof of work: an optional CAPTCHA for hosts who get spam bookings (off by default).

The guest's browser fetches a signed challenge, spends about a second finding its solution, and
sends the result with the booking as ``captchaToken`` (the widget's base64 payload). Nothing leaves
our server: no third-party service, no cookies.

A solution counts once. The challenge's signature is remembered in ``used_nonces`` until the
challenge expires, and that row is written in the booking's own transaction: if the booking fails
(the slot was just taken, say) nothing is spent and the guest may pick another slot without solving
again; two bookings racing with one token cannot both commit (primary key).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import altcha
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings.errors import InvalidInput
from app.db.models import Host, UsedNonce
from app.settings import Settings

FIELD = "captchaToken"
ALGORITHM = "PBKDF2/SHA-256"
COST = 1_000  # PBKDF2 iterations per attempt
COUNTER_RANGE = (1_000, 4_000)  # attempts a browser needs: about a second with WebCrypto
LIFETIME = timedelta(minutes=20)
MAX_TOKEN = 4_000


def _key(secret: str, purpose: str) -> str:
    """A key for one purpose, derived from a signing secret, so no secret is used twice."""
    return hmac.new(secret.encode(), f"altcha:{purpose}".encode(), hashlib.sha256).hexdigest()


def new_challenge(host: Host, settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """A signed challenge for one host, as the ALTCHA widget fetches it (JSON)."""
    secret = settings.secret_keys[0]
    challenge = altcha.create_challenge(
        ALGORITHM,
        COST,
        counter=secrets.randbelow(COUNTER_RANGE[1] - COUNTER_RANGE[0]) + COUNTER_RANGE[0],
        expires_at=(now or clock.utcnow()) + LIFETIME,
        data={"host": host.slug},
        hmac_secret=_key(secret, "challenge"),
        hmac_key_secret=_key(secret, "key"),
    )
    return challenge.to_dict()


def _verified(token: str, settings: Settings) -> altcha.Payload | None:
    """The payload if it solves a challenge we signed (with any of our keys) and is unexpired."""
    for secret in settings.secret_keys:
        try:
            result = altcha.verify_solution(
                token,
                _key(secret, "challenge"),
                hmac_key_secret=_key(secret, "key"),
            )
            if result.verified:
                return altcha.Payload.from_base64(token)
        except Exception:  # malformed input of any shape is just "invalid"
            return None
        if result.expired:
            return None
    return None


async def check_captcha(
    session: AsyncSession,
    host: Host,
    token: Any,
    settings: Settings | None,
    now: datetime | None = None,
) -> None:
    """Refuse the booking unless the host has no CAPTCHA or ``token`` is a fresh solution.

    Call inside the booking's write transaction: the token is marked spent when it commits.
    """
    if not host.captcha_enabled:
        return
    if settings is None:
        raise RuntimeError("check_captcha needs the settings (the signing keys)")
    if not isinstance(token, str) or not token.strip():
        raise InvalidInput(f"{FIELD} is required: please complete the CAPTCHA.", FIELD)
    payload = _verified(token.strip(), settings) if len(token) <= MAX_TOKEN else None
    parameters = payload.challenge.parameters if payload else None
    if payload is None or parameters is None or (parameters.data or {}).get("host") != host.slug:
        raise InvalidInput(
            f"{FIELD} is invalid or expired: please complete the CAPTCHA again.", FIELD
        )
    now = now or clock.utcnow()
    key = "altcha:" + hashlib.sha256(str(payload.challenge.signature).encode()).hexdigest()
    await session.execute(delete(UsedNonce).where(UsedNonce.expires_at < now))
    if await session.get(UsedNonce, key) is not None:
        raise InvalidInput(f"{FIELD} was already used: please complete the CAPTCHA again.", FIELD)
    expires = datetime.fromtimestamp(parameters.expires_at or 0, UTC)
    session.add(UsedNonce(key=key, expires_at=max(expires, now)))
    try:
        await session.flush()
    except IntegrityError:  # the same token in a concurrent booking that committed first
        await session.rollback()
        raise InvalidInput(
            f"{FIELD} was already used: please complete the CAPTCHA again.", FIELD
        ) from None
