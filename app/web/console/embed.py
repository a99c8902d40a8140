"""Console section "Embed": build the snippet that puts the booking widget on the host's site,
see it working, and choose which sites may embed it.

The builder is a GET form (it works without JavaScript; htmx only swaps the result as the host
changes an option). The snippet uses exactly the attributes ``embed/embed.js`` reads
(``data-booking-url``, ``-mode``, ``-text``, ``-position``, ``-color``, ``-locale``, ``-theme``,
``-name``, ``-email``), and the preview is that very snippet, run in a page of its own shown in an
iframe: the preview page may be framed by the console's own origin only (``frame-ancestors
'self'``, instead of the console's ``'none'``), and the widget it frames allows its own origin
whatever the host's embed origins are (app/web/security.py).

The allowed embed origins are saved through ``app.hosts.service.update_host`` (its rule: each one
``scheme://host[:port]``; one bad origin refuses them all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from babel import Locale
from litestar import Request, get, post
from litestar.response import Template
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import InvalidInput
from app.db.models import EventType, Host
from app.hosts.event_types import list_event_types
from app.hosts.service import update_host
from app.i18n import SUPPORTED, _
from app.settings import Settings
from app.web.console.base import ConsoleController, done, page
from app.web.security import NO_STORE, STATE_KEY
from app.web.widget_view import hex_color

HOME = "/console/embed"
MODES = ("inline", "popup", "floating")
THEMES = ("", "light", "dark")
POSITIONS = ("right", "left")
MAX_TEXT = 200
MAX_ORIGINS_TEXT = 5000
ORIGIN_SPLIT = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class Choice:
    """The builder's options, as its form gives them."""

    mode: str = "inline"
    target: str = ""  # an event type's slug, or "" for the host's page (every event type)
    color: str = ""
    locale: str = ""  # "" = the visitor's browser language
    theme: str = ""  # "" = the visitor's light or dark setting
    text: str = ""  # the button's label (popup, floating)
    position: str = "right"  # the floating button's corner
    name: str = ""
    email: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def query(self) -> dict[str, str]:
        values = {
            "mode": self.mode,
            "target": self.target,
            "color": self.color,
            "locale": self.locale,
            "theme": self.theme,
            "text": self.text,
            "position": self.position,
            "name": self.name,
            "email": self.email,
        }
        return {key: value for key, value in values.items() if value}


def read_choice(query: Any, host: Host, event_types: list[EventType]) -> Choice:
    """The options in ``query``; a value that is not one of the choices is an error for its
    field (the builder's own form only sends valid ones)."""
    errors: dict[str, str] = {}

    def pick(name: str, allowed: tuple[str, ...], message: str) -> str:
        value = str(query.get(name) or "")
        if not value or value in allowed:  # not given: the first (default) choice
            return value or allowed[0]
        errors[name] = message
        return allowed[0]

    def text(name: str) -> str:
        value = str(query.get(name) or "").strip()
        if len(value) > MAX_TEXT:
            errors[name] = _("At most %(count)s characters.", count=MAX_TEXT)
            return ""
        return value

    slugs = tuple(["", *(e.slug for e in event_types)])
    color_raw = str(query.get("color") or "")
    color = hex_color(color_raw) if color_raw else hex_color(host.brand_color)
    if color is None:
        errors["color"] = _("Choose a colour such as #0f766e.")
    return Choice(
        mode=pick("mode", MODES, _("Choose inline, popup button or floating button.")),
        target=pick("target", slugs, _("Choose one of your event types or your booking page.")),
        color=color or "",
        locale=pick("locale", ("", *SUPPORTED), _("Choose one of the listed languages.")),
        theme=pick("theme", THEMES, _("Choose automatic, light or dark.")),
        text=text("text"),
        position=pick("position", POSITIONS, _("Choose right or left.")),
        name=text("name"),
        email=text("email"),
        errors=errors,
    )


def booking_url(settings: Settings, host: Host, choice: Choice) -> str:
    base = settings.public_url.rstrip("/")
    return f"{base}/{host.slug}" + (f"/{choice.target}" if choice.target else "")


def snippet(settings: Settings, host: Host, choice: Choice) -> Markup:
    """The HTML the host pastes into their site: a container and the script."""
    attributes = [("data-booking-url", booking_url(settings, host, choice))]
    if choice.mode != "inline":
        attributes.append(("data-booking-mode", choice.mode))
        if choice.text:
            attributes.append(("data-booking-text", choice.text))
        if choice.mode == "floating" and choice.position == "left":
            attributes.append(("data-booking-position", "left"))
    attributes += [
        (f"data-booking-{name}", value)
        for name, value in (
            ("color", choice.color),
            ("locale", choice.locale),
            ("theme", choice.theme),
            ("name", choice.name),
            ("email", choice.email),
        )
        if value
    ]
    container = Markup("<div {}></div>").format(
        Markup(" ").join(Markup('{}="{}"').format(Markup(k), v) for k, v in attributes)
    )
    script = Markup('<script src="{}/embed.js" async></script>').format(
        settings.public_url.rstrip("/")
    )
    return container + Markup("\n") + script


def languages() -> list[tuple[str, str]]:
    """Each language the widget speaks, named in itself (as a visitor would look for it)."""
    return [
        (tag, (Locale.parse(tag).get_display_name(tag) or tag).capitalize()) for tag in SUPPORTED
    ]


class EmbedController(ConsoleController):
    path = "/console/embed"
    section = "embed"
    cache_control = NO_STORE

    async def _page(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
        *,
        status_code: int = 200,
        query: Any = None,
        **context: Any,
    ) -> Template:
        event_types = await list_event_types(db_session, host.id)
        choice = read_choice(request.query_params if query is None else query, host, event_types)
        if choice.errors and status_code == 200:
            status_code = 400
        return page(
            "console/embed/index.html",
            section="embed",
            status_code=status_code,
            choice=choice,
            event_types=event_types,
            languages=languages(),
            # Plain text (escaped by the template), so the copied snippet is exactly the HTML.
            snippet=None if choice.errors else str(snippet(settings, host, choice)),
            page_url=booking_url(settings, host, choice),
            preview_query=choice.query(),
            origins_text=context.pop("origins_text", "\n".join(host.embed_origins or [])),
            **context,
        )

    @get("/", name="console:embed")
    async def index(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
    ) -> Template:
        return await self._page(request, host, db_session, settings)

    @get("/preview", opt={"frameable": True})
    async def preview(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
    ) -> Template:
        """The snippet alone on a page, for the builder's iframe (framed by the console only)."""
        request.state[STATE_KEY] = "'self'"
        event_types = await list_event_types(db_session, host.id)
        choice = read_choice(request.query_params, host, event_types)
        return page(
            "console/embed/preview.html",
            section="embed",
            status_code=400 if choice.errors else 200,
            choice=choice,
            snippet=None if choice.errors else snippet(settings, host, choice),
        )

    @post("/origins")
    async def save_origins(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
    ) -> Template | Any:
        form = await request.form()
        # The builder's options as they were (a field of #embed-result, which htmx keeps
        # current), so the host comes back to the snippet they were building.
        builder = dict(parse_qsl(str(form.get("builder") or ""))[:20])
        raw = form.get("origins")
        typed = raw if isinstance(raw, str) else ""
        try:
            if len(typed) > MAX_ORIGINS_TEXT:
                raise InvalidInput(
                    _("At most %(count)s characters.", count=MAX_ORIGINS_TEXT), "embed_origins"
                )
            origins = [o for o in ORIGIN_SPLIT.split(typed) if o]
            await update_host(db_session, host.slug, embed_origins=origins)
        except InvalidInput as exc:
            return await self._page(
                request,
                host,
                db_session,
                settings,
                status_code=400,
                query=builder,
                origins_text=typed,
                origins_error=exc.message,
            )
        if origins:
            message = _("Saved: only the websites you listed can show your booking pages.")
        else:
            message = _("Saved: any website can show your booking pages.")
        choice = read_choice(builder, host, await list_event_types(db_session, host.id))
        keep = builder and not choice.errors
        return done(request, message, f"{HOME}?{urlencode(choice.query())}" if keep else HOME)
