"""Settings: the host's profile (what guests see on the booking page, and how the console speaks
to the host), the CAPTCHA switch, and signing out everywhere.

One form, one call: ``app.hosts.profile.update_me`` checks every value before it writes any, so a
refused value (shown next to its field, 400) leaves the whole profile as it was.
"""

from __future__ import annotations

from typing import Any

from babel import Locale
from babel.dates import get_day_names
from litestar import Request, get, post
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import BookingError
from app.dates import babel_locale, picker_zones
from app.db.models import Host
from app.hosts import profile
from app.hosts.schedules import DAY_NAMES
from app.i18n import SUPPORTED, _
from app.web.console.base import ConsoleController, done, page

SECTION = "settings"
TEMPLATE = "console/settings/index.html"
# The service names fields as the API does; the form's inputs have these names.
FORM_FIELDS = {
    "name": "name",
    "avatarUrl": "avatar_url",
    "bio": "welcome",
    "brandColor": "brand_color",
    "timeZone": "time_zone",
    "locale": "locale",
    "timeFormat": "time_format",
    "weekStart": "week_start",
}


def _languages(current: str) -> list[tuple[str, str]]:
    """(tag, the language's own name) for each language we ship, and the host's if it is not."""
    tags = list(SUPPORTED)
    if current and current not in tags:
        tags.append(current)
    choices = []
    for tag in tags:
        try:
            label = Locale.parse(tag.replace("-", "_")).get_display_name(tag.replace("-", "_"))
        except (ValueError, TypeError):
            label = tag
        choices.append((tag, (label or tag)[:1].upper() + (label or tag)[1:]))
    return choices


def _week_days(locale_tag: str) -> list[tuple[str, str]]:
    names = get_day_names("wide", locale=babel_locale(locale_tag))
    return [(day, names[index]) for index, day in enumerate(DAY_NAMES)]


def _form_of(host: Host) -> dict[str, str]:
    return {
        "name": host.name,
        "avatar_url": host.avatar_url,
        "welcome": host.welcome_text,
        "brand_color": host.brand_color,
        "time_zone": host.timezone,
        "locale": host.locale,
        "time_format": str(host.time_format),
        "week_start": host.week_start,
        "captcha": "on" if host.captcha_enabled else "",
    }


def _changes(form: dict[str, str]) -> dict[str, Any]:
    """The form as ``update_me``'s fields (every one is sent: the form shows them all)."""
    time_format: Any = form.get("time_format", "")
    if time_format.strip().isdigit():
        time_format = int(time_format)
    return {
        "name": form.get("name", ""),
        "avatar_url": form.get("avatar_url", "").strip(),
        "bio": form.get("welcome", ""),
        "brand_color": form.get("brand_color", ""),
        "time_zone": form.get("time_zone", "").strip(),
        "locale": form.get("locale", "").strip(),
        "time_format": time_format,
        "week_start": form.get("week_start", ""),
        "captcha_enabled": form.get("captcha") == "on",
    }


def _settings_page(
    host: Host,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return page(
        TEMPLATE,
        section=SECTION,
        status_code=status_code,
        form=form,
        errors=errors or {},
        zones=picker_zones(),
        languages=_languages(form.get("locale", "")),
        week_days=_week_days(host.locale),
    )


class SettingsController(ConsoleController):
    path = "/console/settings"

    @get("/", name="console:settings")
    async def show(self, host: Host) -> Template:
        return _settings_page(host, _form_of(host))

    @post("/")
    async def save(
        self, request: Request[Any, Any, Any], host: Host, db_session: AsyncSession
    ) -> Template | Redirect | ClientRedirect:
        raw = await request.form()
        form = {key: str(raw.get(key, "")) for key in (*FORM_FIELDS.values(), "captcha")}
        try:
            await profile.update_me(db_session, host.id, _changes(form))
        except BookingError as exc:
            field = FORM_FIELDS.get(exc.field or "", "")
            errors = {field or "_": exc.message}
            return _settings_page(host, form, errors, status_code=exc.status_code)
        return done(request, _("Your settings are saved."), "/console/settings")
