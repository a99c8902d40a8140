"""Who may use the console: one-time sign-in links, admins, disabled hosts, ending sessions.

A sign-in link carries the host's id, its ``session_epoch`` and a random nonce, signed with its own
salt and good for ``LINK_MINUTES``. Redeeming it records the nonce in ``used_nonces`` inside the
write transaction, so of any number of concurrent requests carrying it exactly one signs in.
Raising ``session_epoch`` (sign out everywhere, disabling a host) ends every console session and
every unused link made before.

Asking for a link answers the same whatever the email: whether an address has an account is not
something a stranger learns here. At most ``LINKS_PER_WINDOW`` links go to one address per
``LINK_MINUTES`` (the requests are also rate limited per client, in the web layer).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings.errors import BookingError, InvalidInput, NotFound
from app.bookings.validation import check_email
from app.db.models import Host, OutboxMessage, UsedNonce
from app.db.session import begin_write
from app.i18n import _, use_locale
from app.notify.notices import notice_email
from app.settings import Settings

LINK_MINUTES = 15
LINKS_PER_WINDOW = 3
SALT = "console-sign-in"


class SignInRefused(BookingError):
    """The link cannot sign anyone in: not ours, expired, used, or its host was disabled."""

    status_code = 400
    reason = "sign_in_refused"


@dataclass(frozen=True)
class SignedIn:
    host_id: int
    epoch: int


class _ClockSigner(TimestampSigner):
    """Times links on the app's clock (``app.clock``), which tests and the bench can move."""

    def get_timestamp(self) -> int:
        return int(clock.utcnow().timestamp())


@lru_cache(maxsize=8)
def _serializer(secret_keys: tuple[str, ...]) -> URLSafeTimedSerializer:
    # itsdangerous wants the keys oldest first and signs with the last (see app/bookings/tokens).
    return URLSafeTimedSerializer(list(reversed(secret_keys)), salt=SALT, signer=_ClockSigner)


def sign_in_link(settings: Settings, host: Host) -> str:
    """A one-time sign-in URL for ``host``, valid for ``LINK_MINUTES``."""
    token = _serializer(settings.secret_keys).dumps(
        {"h": host.id, "e": host.session_epoch, "n": secrets.token_urlsafe(12)}
    )
    return f"{settings.public_url}/console/sign-in/{token}"


def _claims(settings: Settings, token: str) -> dict[str, object]:
    serializer = _serializer(settings.secret_keys)
    try:
        claims = serializer.loads(token, max_age=LINK_MINUTES * 60)
    except SignatureExpired:
        raise SignInRefused(_("This sign-in link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise SignInRefused(_("This sign-in link is not valid. Ask for a new one.")) from None
    if not isinstance(claims, dict) or not {"h", "e", "n"} <= claims.keys():
        raise SignInRefused(_("This sign-in link is not valid. Ask for a new one."))
    return claims


async def check_sign_in_link(session: AsyncSession, settings: Settings, token: str) -> Host:
    """The host a link would sign in, without using it (the page that asks to confirm)."""
    claims = _claims(settings, token)
    host = await session.get(Host, claims["h"])
    if host is None or host.disabled or host.session_epoch != claims["e"]:
        raise SignInRefused(_("This sign-in link is no longer valid. Ask for a new one."))
    used = await session.get(UsedNonce, f"sign-in:{claims['n']}")
    if used is not None:
        raise SignInRefused(_("This sign-in link was already used. Ask for a new one."))
    return host


async def redeem_sign_in_link(session: AsyncSession, settings: Settings, token: str) -> SignedIn:
    """Use the link: exactly one of any number of concurrent requests gets a ``SignedIn``."""
    claims = _claims(settings, token)
    now = clock.utcnow()
    await begin_write(session)
    host = (
        await session.execute(
            select(Host.id, Host.session_epoch, Host.disabled).where(Host.id == claims["h"])
        )
    ).first()
    if host is None or host.disabled or host.session_epoch != claims["e"]:
        await session.rollback()
        raise SignInRefused(_("This sign-in link is no longer valid. Ask for a new one."))
    session.add(
        UsedNonce(key=f"sign-in:{claims['n']}", expires_at=now + timedelta(minutes=LINK_MINUTES))
    )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise SignInRefused(_("This sign-in link was already used. Ask for a new one.")) from None
    return SignedIn(host_id=host.id, epoch=host.session_epoch)


async def request_sign_in(session: AsyncSession, settings: Settings, email: str) -> None:
    """Email a sign-in link if ``email`` belongs to an active host; silent either way.

    A malformed address is the one thing said out loud (it is about what was typed, not about
    who exists)."""
    email = check_email(email, "email")
    host = (
        await session.scalars(
            select(Host).where(func.lower(Host.email) == email.lower(), Host.disabled.is_(False))
        )
    ).first()
    if host is None:
        await session.rollback()
        return
    if not await _take_link_turn(session, email):
        return
    session.add(_sign_in_email(settings, host, invited=False))
    await session.commit()


async def _take_link_turn(session: AsyncSession, email: str) -> bool:
    """Record one more link for this address in the window; False when it already had its share.

    Opens the write transaction the email is then queued in."""
    now = clock.utcnow()
    digest = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    window = int(now.timestamp()) // (LINK_MINUTES * 60)
    await begin_write(session)
    for turn in range(LINKS_PER_WINDOW):
        key = f"sign-in-mail:{digest}:{window}:{turn}"
        if await session.get(UsedNonce, key) is None:
            expires = now + timedelta(minutes=2 * LINK_MINUTES)
            session.add(UsedNonce(key=key, expires_at=expires))
            return True
    await session.rollback()
    return False


def _sign_in_email(settings: Settings, host: Host, *, invited: bool) -> OutboxMessage:
    link = sign_in_link(settings, host)
    with use_locale(host.locale):
        if invited:
            subject = _("You are invited to schedule with %(site)s", site=settings.public_url)
            opening = _(
                "An administrator created an account for you. Open this link to sign in to your "
                "console, where you set up your event types and availability:"
            )
        else:
            subject = _("Your sign-in link")
            opening = _("Open this link to sign in to your console:")
        lines = [
            _("Hello %(name)s,", name=host.name),
            "",
            opening,
            "",
            link,
            "",
            _(
                "The link works once, for %(minutes)d minutes. If you did not ask for it, you "
                "can ignore this email.",
                minutes=LINK_MINUTES,
            ),
        ]
    return notice_email(host.email, subject, lines, clock.utcnow())


async def invite_host(session: AsyncSession, settings: Settings, host: Host) -> None:
    """Send a new host their first sign-in link (through the outbox)."""
    session.add(_sign_in_email(settings, host, invited=True))
    await session.commit()


async def end_all_sessions(session: AsyncSession, host_id: int) -> None:
    """Sign the host out everywhere: every console session and unused link stops working."""
    await begin_write(session)
    await session.execute(
        update(Host).where(Host.id == host_id).values(session_epoch=Host.session_epoch + 1)
    )
    await session.commit()


async def set_disabled(session: AsyncSession, admin: Host, host_id: int, disabled: bool) -> Host:
    """Disable (or enable again) a host; disabling also ends their sessions. Admins cannot
    disable themselves (someone must be left to undo it)."""
    if host_id == admin.id and disabled:
        raise InvalidInput(_("You cannot disable your own account."), "host")
    await begin_write(session)
    values: dict[str, object] = {"disabled": disabled}
    if disabled:
        values["session_epoch"] = Host.session_epoch + 1
    result = await session.execute(update(Host).where(Host.id == host_id).values(**values))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise NotFound(_("No such host."))
    await session.commit()
    host = await session.get(Host, host_id, populate_existing=True)
    assert host is not None
    return host


async def signed_in_host(session: AsyncSession, signed_in: SignedIn) -> Host | None:
    """The session's host while the session is still good (host active, epoch unchanged)."""
    host = await session.get(Host, signed_in.host_id, populate_existing=True)
    if host is None or host.disabled or host.session_epoch != signed_in.epoch:
        return None
    return host
