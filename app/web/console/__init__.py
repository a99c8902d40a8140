"""The host console under ``/console``: one controller per section (see ``base.py``).

Sessions and CSRF protection are middleware of this router only: the booking pages, which run
inside other sites' iframes, never see a console cookie.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler

from app.settings import Settings
from app.web.console.availability import AvailabilityController
from app.web.console.base import SignInNeeded, page
from app.web.console.bookings import BookingsController
from app.web.console.calendars import CalendarsController
from app.web.console.developers import DevelopersController
from app.web.console.embed import EmbedController
from app.web.console.event_types import EventTypesController
from app.web.console.hosts import HostsController
from app.web.console.sessions import session_config
from app.web.console.settings import SettingsController
from app.web.console.sign_in import SignInController

CSRF_COOKIE = "console_csrf"
# One controller per section, in the order of the navigation (base.SECTIONS).
SECTIONS: list[ControllerRouterHandler] = [
    BookingsController,
    EventTypesController,
    AvailabilityController,
    CalendarsController,
    EmbedController,
    SettingsController,
    DevelopersController,
    HostsController,
]


def _to_sign_in(request: Request[Any, Any, Any], _exc: Exception) -> Response[Any]:
    target = "/console/sign-in"
    if request.headers.get("hx-request"):
        return ClientRedirect(target)
    return Redirect(target, status_code=303)


def _forbidden(_request: Request[Any, Any, Any], exc: Exception) -> Template:
    detail = getattr(exc, "detail", "") or ""
    return page("console/forbidden.html", message=detail, status_code=403)


def console_router(settings: Settings) -> Router:
    secure = settings.public_url.startswith("https://")
    csrf = CSRFConfig(
        secret=settings.secret_keys[0],
        cookie_name=CSRF_COOKIE,
        cookie_path="/console",
        cookie_secure=secure,
        cookie_httponly=True,
        cookie_samesite="lax",
    )
    return Router(
        path="/",
        route_handlers=[SignInController, *SECTIONS],
        middleware=[
            session_config(settings).middleware,
            DefineMiddleware(CSRFMiddleware, config=csrf),
        ],
        exception_handlers={
            SignInNeeded: _to_sign_in,
            PermissionDeniedException: _forbidden,
        },
        include_in_schema=False,
        opt={"console": True},
    )
