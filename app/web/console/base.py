"""What every console section shares: who is signed in, how a page is rendered, flash messages.

A section is a ``ConsoleController``: its handlers get ``host`` (the signed-in host, checked on
every request against the database, so a disabled host or "sign out everywhere" takes effect at
once) and render with ``page``, which adds what the layout needs. A handler that changes something
answers with ``done``: a flash message and a redirect (Post/Redirect/Get), which works the same
with and without htmx (htmx is told to follow it as a full navigation).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.plugins.flash import flash
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Host
from app.hosts.access import signed_in_host
from app.i18n import _, set_locale
from app.web.console.sessions import session_claims

Page = Template
SECTIONS = (
    ("bookings", "/console/bookings"),
    ("event_types", "/console/event-types"),
    ("availability", "/console/availability"),
    ("calendars", "/console/calendars"),
    ("embed", "/console/embed"),
    ("settings", "/console/settings"),
    ("developers", "/console/developers"),
)


class SignInNeeded(NotAuthorizedException):
    """No (longer a) valid session: the console answers with its sign-in page."""


async def current_host(request: Request[Any, Any, Any], db_session: AsyncSession) -> Host:
    claims = session_claims(request)
    host = await signed_in_host(db_session, claims) if claims else None
    if host is None:
        request.clear_session()
        raise SignInNeeded()
    # The console speaks the host's language (Settings → profile), whatever the browser says.
    set_locale(host.locale)
    request.state.console_host = host
    return host


async def current_admin(host: Host) -> Host:
    if not host.is_admin:
        raise PermissionDeniedException(_("Only an administrator can do this."))
    return host


class ConsoleController(Controller):
    """Base of every signed-in console section."""

    dependencies = {
        "host": Provide(current_host),
        "admin": Provide(current_admin),
    }
    include_in_schema = False
    section = ""


def page(template: str, *, section: str = "", status_code: int = 200, **context: Any) -> Template:
    """A console page (or, for an htmx request aiming at a fragment, the fragment template)."""
    return Template(
        template_name=template,
        context={"section": section, "sections": SECTIONS, **context},
        status_code=status_code,
        # Always HTML: a handler annotated ``Template | Redirect`` would otherwise send JSON's.
        media_type=MediaType.HTML,
    )


def done(
    request: Request[Any, Any, Any], message: str, to: str, category: str = "success"
) -> Redirect | ClientRedirect:
    """Flash ``message`` and go to ``to`` (303, so the browser follows with a GET)."""
    flash(request, message, category)
    if request.headers.get("hx-request") and not request.headers.get("hx-boosted"):
        return ClientRedirect(to)
    return Redirect(to, status_code=303)
