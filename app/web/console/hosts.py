"""Hosts (administrators only): who has an account, inviting a new host, disabling and enabling.

An invitation makes the host (``app.hosts.service.create_host``: slug, name, email and zone
checked there) and emails them a first sign-in link through the outbox
(``app.hosts.access.invite_host``). Disabling (``access.set_disabled``) ends the host's sessions
at once; their API keys and booking pages stop working with it. Every handler takes the ``admin``
dependency: anyone else gets the console's 403 page.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import BookingError, NotFound
from app.dates import picker_zones
from app.db.models import Host
from app.hosts import access, service
from app.i18n import _
from app.settings import Settings
from app.web.console.base import ConsoleController, done, page

SECTION = "hosts"
BASE = "/console/hosts"
INVITE_FIELDS = ("slug", "name", "email", "timezone")


async def _get_host(db_session: AsyncSession, host_id: int) -> Host:
    found = await db_session.get(Host, host_id)
    if found is None:
        raise NotFound(_("No such host."))
    return found


class HostsController(ConsoleController):
    path = BASE

    async def _index(
        self,
        db_session: AsyncSession,
        admin: Host,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            "console/hosts/index.html",
            section=SECTION,
            status_code=status_code,
            hosts=await service.list_hosts(db_session),
            me=admin,
            form=form or {"slug": "", "name": "", "email": "", "timezone": admin.timezone},
            errors=errors or {},
            zones=picker_zones(),
        )

    @get("/", name="console:hosts")
    async def index(self, admin: Host, db_session: AsyncSession) -> Template:
        return await self._index(db_session, admin)

    @get("/invite")
    async def invite_page(self, admin: Host) -> Redirect:
        return Redirect(BASE, status_code=303)

    @post("/invite")
    async def invite(
        self,
        request: Request[Any, Any, Any],
        admin: Host,
        db_session: AsyncSession,
        settings: Settings,
    ) -> Template | Redirect | ClientRedirect:
        raw = await request.form()
        form = {key: str(raw.get(key, "")).strip() for key in INVITE_FIELDS}
        try:
            invited = await service.create_host(
                db_session,
                form["slug"],
                name=form["name"],
                email=form["email"],
                timezone=form["timezone"],
            )
        except BookingError as exc:
            field = exc.field if exc.field in INVITE_FIELDS else "slug"
            return await self._index(
                db_session, admin, form, {field or "slug": exc.message}, status_code=400
            )
        await access.invite_host(db_session, settings, invited)
        message = _(
            "%(name)s is invited: a sign-in link is on its way to %(email)s.",
            name=invited.name,
            email=invited.email,
        )
        return done(request, message, BASE)

    @get("/{host_id:int}/disable")
    async def confirm_disable(
        self, admin: Host, db_session: AsyncSession, host_id: int
    ) -> Template:
        target = await _get_host(db_session, host_id)
        return page(
            "console/hosts/confirm.html", section=SECTION, target=target, disable=True, me=admin
        )

    @get("/{host_id:int}/enable")
    async def confirm_enable(self, admin: Host, db_session: AsyncSession, host_id: int) -> Template:
        target = await _get_host(db_session, host_id)
        return page(
            "console/hosts/confirm.html", section=SECTION, target=target, disable=False, me=admin
        )

    async def _set(
        self,
        request: Request[Any, Any, Any],
        admin: Host,
        db_session: AsyncSession,
        host_id: int,
        disabled: bool,
    ) -> Template | Redirect | ClientRedirect:
        try:
            target = await access.set_disabled(db_session, admin, host_id, disabled)
        except NotFound:
            raise
        except BookingError as exc:
            return await self._index(db_session, admin, errors={"_": exc.message}, status_code=400)
        if disabled:
            message = _(
                "%(name)s is disabled: signed out everywhere, booking page and API keys off.",
                name=target.name,
            )
        else:
            message = _("%(name)s is enabled again.", name=target.name)
        return done(request, message, BASE)

    @post("/{host_id:int}/disable")
    async def disable(
        self, request: Request[Any, Any, Any], admin: Host, db_session: AsyncSession, host_id: int
    ) -> Template | Redirect | ClientRedirect:
        return await self._set(request, admin, db_session, host_id, True)

    @post("/{host_id:int}/enable")
    async def enable(
        self, request: Request[Any, Any, Any], admin: Host, db_session: AsyncSession, host_id: int
    ) -> Template | Redirect | ClientRedirect:
        return await self._set(request, admin, db_session, host_id, False)
