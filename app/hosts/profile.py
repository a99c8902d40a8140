"""A host's profile as Cal.com's ``PATCH /v2/me`` changes it.

Fields by their Cal.com names in snake case: ``email``, ``name``, ``time_format`` (12 or 24),
``default_schedule_id`` (one of the host's schedules becomes the default), ``week_start`` (a day
name), ``time_zone``, ``locale``, ``avatar_url`` (https, or "" to remove), ``bio`` (the welcome
text of the booking page) and ``metadata`` (up to 50 short keys, kept for the client). Every value
is checked before any is written, so one refused value leaves all as they were.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import InvalidInput, NotFound
from app.bookings.validation import LOCALE_RE, check_email, check_text, check_timezone
from app.db.models import Host, Schedule
from app.db.session import begin_write
from app.hosts.schedules import DAY_NAMES
from app.hosts.service import HEX_COLOR_RE
from app.i18n import _

MAX_METADATA_KEYS = 50


def _metadata(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) > MAX_METADATA_KEYS:
        raise InvalidInput(f"metadata must be an object of at most {MAX_METADATA_KEYS} keys.")
    for key, item in value.items():
        if len(key) > 40 or not isinstance(item, str | int | float | bool) or len(str(item)) > 500:
            raise InvalidInput(
                "metadata keys must be short (40) and values strings, numbers or booleans (500).",
                "metadata",
            )
    return dict(value)


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    """The changes as ``Host`` attributes (plus ``default_schedule_id``), each checked."""
    values: dict[str, Any] = {}
    if "email" in fields:
        values["email"] = check_email(fields["email"], "email")
    if "name" in fields:
        values["name"] = check_text(fields["name"], "name", required=True, max_length=200)
    if "time_format" in fields:
        if fields["time_format"] not in (12, 24) or isinstance(fields["time_format"], bool):
            raise InvalidInput("timeFormat must be 12 or 24.", "timeFormat")
        values["time_format"] = fields["time_format"]
    if "week_start" in fields:
        if fields["week_start"] not in DAY_NAMES:
            raise InvalidInput(f"weekStart must be one of {', '.join(DAY_NAMES)}.", "weekStart")
        values["week_start"] = fields["week_start"]
    if "time_zone" in fields:
        values["timezone"] = check_timezone(fields["time_zone"], "timeZone")
    if "locale" in fields:
        locale = check_text(fields["locale"], "locale", required=True, max_length=16)
        if not LOCALE_RE.match(locale):
            raise InvalidInput("locale must be a language such as en or pt-BR.", "locale")
        values["locale"] = locale
    if "avatar_url" in fields:
        url = check_text(fields["avatar_url"], "avatarUrl", required=False, max_length=500)
        if url and not url.startswith("https://"):
            raise InvalidInput("avatarUrl must start with https://.", "avatarUrl")
        values["avatar_url"] = url
    if "bio" in fields:
        values["welcome_text"] = check_text(
            fields["bio"], "bio", required=False, max_length=2000, multiline=True
        )
    if "brand_color" in fields:
        color = str(fields["brand_color"] or "").strip()
        if not HEX_COLOR_RE.match(color):
            raise InvalidInput(
                _("The colour must look like #4f46e5 (# and six hex digits)."), "brandColor"
            )
        values["brand_color"] = color.lower()
    if "captcha_enabled" in fields:
        values["captcha_enabled"] = bool(fields["captcha_enabled"])
    if "metadata" in fields:
        values["meta"] = _metadata(fields["metadata"])
    if "default_schedule_id" in fields:
        values["default_schedule_id"] = fields["default_schedule_id"]
    return values


async def update_me(session: AsyncSession, host_id: int, fields: dict[str, Any]) -> Host:
    """Apply the checked ``fields`` to the host in one transaction; returns the host."""
    values = _checked(fields)
    await begin_write(session)
    host = await session.get(Host, host_id, populate_existing=True)
    if host is None:
        raise NotFound("Host not found.")
    schedule_id = values.pop("default_schedule_id", None)
    if schedule_id is not None:
        schedule = await session.get(Schedule, schedule_id)
        if schedule is None or schedule.host_id != host_id:
            await session.rollback()
            raise NotFound(f"Schedule {schedule_id} not found.")
        await session.execute(
            update(Schedule).where(Schedule.host_id == host_id).values(is_default=False)
        )
        await session.execute(
            update(Schedule).where(Schedule.id == schedule_id).values(is_default=True)
        )
    for attribute, value in values.items():
        setattr(host, attribute, value)
    await session.commit()
    return host
