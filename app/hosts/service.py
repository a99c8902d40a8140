"""Create hosts, give them schedules and API keys, and recognise a key when it comes back."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.bookings.errors import Conflict, InvalidInput, NotFound
from app.bookings.validation import check_email, check_text, check_timezone
from app.db.models import ApiKey, Host, Schedule, ScheduleInterval
from app.db.session import begin_write
from app.i18n import _

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# Path segments the public API and the pages use for themselves.
RESERVED_SLUGS = {
    *("api", "static", "schema", "embed.js", "v2", "bookings", "booking", "console"),
    *("health", "healthz", "readyz"),
}
KEY_PREFIX = "bk_"
PREFIX_LENGTH = 10  # ApiKey.prefix: "bk_" and the key's next 7 characters
LAST_USED_PRECISION = timedelta(minutes=5)


def check_slug(slug: str, field: str = "slug") -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug):
        raise InvalidInput(f"{field} must be lowercase letters, digits and dashes (1-64).", field)
    if slug in RESERVED_SLUGS:
        raise InvalidInput(f"{field} '{slug}' is reserved.", field)
    return slug


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_host(
    session: AsyncSession,
    slug: str,
    *,
    name: str,
    email: str,
    timezone: str,
    weekly_hours: tuple[int, int] | None = (9 * 60, 17 * 60),
    admin: bool = False,
) -> Host:
    """A host with a default schedule (Monday to Friday, ``weekly_hours`` in the host's zone).

    The first host of an installation is its admin (someone must be able to invite the others)."""
    slug = check_slug(slug)
    name = check_text(name, "name", required=False, max_length=200)
    email = check_email(email, "email")
    if (await session.scalars(select(Host).where(Host.slug == slug))).first():
        raise Conflict(f"A host with slug '{slug}' already exists.", "slug")
    # The email signs the host in (a sign-in link goes to it): one host per address.
    same_email = select(Host.id).where(func.lower(Host.email) == email.lower())
    if (await session.scalars(same_email)).first():
        raise Conflict(_("A host with the email %(email)s already exists.", email=email), "email")
    first = (await session.scalars(select(Host.id).limit(1))).first() is None
    host = Host(
        is_admin=admin or first,
        slug=slug,
        name=name.strip() or slug,
        email=email,
        timezone=check_timezone(timezone),
    )
    session.add(host)
    await session.flush()
    schedule = Schedule(
        host_id=host.id, name="Working hours", timezone=host.timezone, is_default=True
    )
    if weekly_hours:
        schedule.intervals = [
            ScheduleInterval(weekday=day, start_minute=weekly_hours[0], end_minute=weekly_hours[1])
            for day in range(5)
        ]
    session.add(schedule)
    await session.commit()
    return host


async def host_by_slug(session: AsyncSession, slug: str) -> Host:
    host = (await session.scalars(select(Host).where(Host.slug == slug))).first()
    if host is None:
        raise NotFound(_("No host '%(slug)s'.", slug=slug[:64]))
    return host


async def list_hosts(session: AsyncSession) -> list[Host]:
    """Every host of the installation, by slug (the admin's list)."""
    return list((await session.scalars(select(Host).order_by(Host.slug))).all())


async def create_api_key(session: AsyncSession, host_slug: str, name: str = "") -> str:
    """A new key for the host, with the host's ``name`` for it (a label, up to 100 characters);
    only its hash is stored, so this is the one time it is seen."""
    label = check_text(name, "name", required=False, max_length=100)
    host = await host_by_slug(session, host_slug)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiKey(host_id=host.id, key_hash=hash_key(key), prefix=key[:PREFIX_LENGTH], name=label)
    )
    await session.commit()
    return key


async def list_api_keys(session: AsyncSession, host_id: int) -> list[ApiKey]:
    """The host's keys (their prefixes, names and dates: the keys themselves are not kept)."""
    query = select(ApiKey).where(ApiKey.host_id == host_id).order_by(ApiKey.id.desc())
    return list((await session.scalars(query)).all())


async def get_api_key(session: AsyncSession, host_id: int, key_id: int) -> ApiKey:
    api_key = await session.get(ApiKey, key_id)
    if api_key is None or api_key.host_id != host_id:
        raise NotFound(_("No such API key."))
    return api_key


async def revoke_api_key_by_id(session: AsyncSession, host_id: int, key_id: int) -> ApiKey:
    """Revoke one of the host's keys by its id (as the console lists them); it stops working at
    once. Returns the key as it was."""
    await begin_write(session)
    api_key = await session.get(ApiKey, key_id)
    if api_key is None or api_key.host_id != host_id:
        await session.rollback()
        raise NotFound(_("No such API key."))
    await session.delete(api_key)
    await session.commit()
    return api_key


async def revoke_api_key(session: AsyncSession, host: Host, key: str) -> str:
    """Revoke one of the host's API keys, given in full or by its prefix (its first
    ``PREFIX_LENGTH`` characters, as listed); it stops working at once. Returns the prefix."""
    key = key.strip()
    if len(key) > PREFIX_LENGTH:
        condition = ApiKey.key_hash == hash_key(key)
    elif len(key) == PREFIX_LENGTH:
        condition = ApiKey.prefix == key
    else:
        raise InvalidInput(
            _("Give the whole key, or its first %(count)d characters.", count=PREFIX_LENGTH),
            "key",
        )
    host_id, slug = host.id, host.slug
    await begin_write(session)
    query = select(ApiKey).where(ApiKey.host_id == host_id, condition)
    found = list((await session.scalars(query)).all())
    if len(found) != 1:
        await session.rollback()
        if not found:
            raise NotFound(_("%(slug)s has no such API key.", slug=slug))
        raise Conflict(_("Several keys start like this: give the whole key."))
    prefix = found[0].prefix
    await session.delete(found[0])
    await session.commit()
    return prefix


async def host_for_api_key(session: AsyncSession, key: str) -> Host | None:
    """The key's host, or None (a disabled host's keys do not work). Records the key's last use at most every few minutes, in a short
    write transaction of its own, so most API requests never take SQLite's write lock."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    api_key = (
        await session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    ).first()
    if api_key is None:
        return None
    now = clock.utcnow()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_PRECISION:
        await begin_write(session)
        await session.execute(
            update(ApiKey).where(ApiKey.id == api_key.id).values(last_used_at=now)
        )
        await session.commit()
    host = await session.get(Host, api_key.host_id)
    return None if host is None or host.disabled else host


HEX_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$")


def is_origin(value: str) -> bool:
    """``scheme://host[:port]`` and nothing else, so a value can go into a header or postMessage."""
    return bool(ORIGIN_RE.match(value))


async def update_host(
    session: AsyncSession,
    slug: str,
    *,
    embed_origins: list[str] | None = None,
    captcha: bool | None = None,
    color: str | None = None,
    welcome: str | None = None,
    avatar_url: str | None = None,
) -> Host:
    """Change a host's embedding, CAPTCHA and branding settings; ``None`` leaves a value alone."""
    host = (await session.scalars(select(Host).where(Host.slug == slug))).first()
    if host is None:
        raise NotFound(f"No host '{slug}'.")
    if embed_origins is not None:
        origins = [origin.strip().rstrip("/") for origin in embed_origins if origin.strip()]
        for origin in origins:
            if not is_origin(origin):
                raise InvalidInput(
                    _(
                        "“%(origin)s” is not an origin such as https://example.com.",
                        origin=origin[:200],
                    ),
                    "embed_origins",
                )
        host.embed_origins = origins
    if captcha is not None:
        host.captcha_enabled = captcha
    if color is not None:
        if not HEX_COLOR_RE.match(color):
            raise InvalidInput("The colour must look like #4f46e5.")
        host.brand_color = color
    if welcome is not None:
        host.welcome_text = welcome.strip()[:2000]
    if avatar_url is not None:
        if avatar_url and not avatar_url.startswith("https://"):
            raise InvalidInput("The avatar URL must start with https://.")
        host.avatar_url = avatar_url
    await session.commit()
    return host
