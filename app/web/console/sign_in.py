"""Signing in to the console with an emailed one-time link, and signing out.

Opening the link shows a button instead of signing in at once: mail scanners that fetch every
link in a message would otherwise use it up before the host clicks it.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import InvalidInput
from app.hosts import access
from app.i18n import _
from app.settings import Settings
from app.web.console.base import current_host, page
from app.web.console.sessions import session_claims, start_session

Form = Body(media_type=RequestEncodingType.URL_ENCODED)


class SignInController(Controller):
    path = "/console"
    include_in_schema = False

    @get("/", name="console:home")
    async def home(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> Redirect:
        claims = session_claims(request)
        host = await access.signed_in_host(db_session, claims) if claims else None
        return Redirect("/console/bookings" if host else "/console/sign-in", status_code=303)

    @get("/sign-in", name="console:sign-in")
    async def sign_in_page(self) -> Template:
        return page("console/sign_in.html")

    @post("/sign-in", opt={"rate_limited": True})
    async def ask_for_link(
        self,
        db_session: AsyncSession,
        settings: Settings,
        data: Annotated[dict[str, str], Form],
    ) -> Template:
        email = str(data.get("email", "")).strip()
        try:
            await access.request_sign_in(db_session, settings, email)
        except InvalidInput:
            error = _("Enter your email address, such as name@example.com.")
            return page("console/sign_in.html", email=email, error=error, status_code=400)
        return page("console/sign_in_sent.html", email=email, minutes=access.LINK_MINUTES)

    @get("/sign-in/{token:str}")
    async def confirm_page(
        self, db_session: AsyncSession, settings: Settings, token: str
    ) -> Template:
        try:
            host = await access.check_sign_in_link(db_session, settings, token)
        except access.SignInRefused as exc:
            return page("console/sign_in.html", error=exc.message, status_code=400)
        return page("console/sign_in_confirm.html", token=token, who=host)

    @post("/sign-in/{token:str}")
    async def redeem(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        settings: Settings,
        token: str,
    ) -> Template | Redirect:
        try:
            signed_in = await access.redeem_sign_in_link(db_session, settings, token)
        except access.SignInRefused as exc:
            return page("console/sign_in.html", error=exc.message, status_code=400)
        await start_session(request, signed_in)
        return Redirect("/console/bookings", status_code=303)

    @post("/sign-out")
    async def sign_out(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect("/console/sign-in?signed_out=1", status_code=303)

    @post("/sign-out-everywhere")
    async def sign_out_everywhere(
        self, request: Request[Any, Any, Any], db_session: AsyncSession
    ) -> Redirect:
        host = await current_host(request, db_session)
        await access.end_all_sessions(db_session, host.id)
        request.clear_session()  # no session left to carry a flash message: the page says it
        return Redirect("/console/sign-in?signed_out=everywhere", status_code=303)
