"""``GET /v2/me``: who the API key belongs to."""

from __future__ import annotations

from litestar import Controller, get
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Host, Schedule
from app.web.host_api import formats
from app.web.host_api.envelope import Envelope, errors, ok


class MeController(Controller):
    path = "/me"
    tags = ["Me"]

    @get("/", summary="The host this API key belongs to", responses=errors())
    async def me(self, host: Host, db_session: AsyncSession) -> Envelope[formats.Me]:
        default_id = await db_session.scalar(
            select(Schedule.id)
            .where(Schedule.host_id == host.id, Schedule.is_default.is_(True))
            .order_by(Schedule.id)
        )
        return ok(formats.me(host, default_id))
