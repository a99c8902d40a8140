"""``/v2/me``: who the API key belongs to, and ``PATCH`` to change that profile."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, patch
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Host, Schedule
from app.hosts import profile
from app.web.host_api import formats
from app.web.host_api.envelope import Envelope, Id, errors, ok
from app.web.host_api.fields import changes

Short = Annotated[str, msgspec.Meta(max_length=320)]
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET
WeekDay = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class MeUpdate(msgspec.Struct, rename="camel"):
    """Cal.com's UpdateManagedUserInput: only the fields sent change."""

    email: Short | Unset = UNSET
    name: Short | Unset = UNSET
    time_format: Literal[12, 24] | Unset = UNSET
    default_schedule_id: Id | Unset = UNSET
    week_start: WeekDay | Unset = UNSET
    time_zone: Short | Unset = UNSET
    locale: Annotated[str, msgspec.Meta(max_length=16)] | Unset = UNSET
    avatar_url: Annotated[str, msgspec.Meta(max_length=500)] | Unset = UNSET
    bio: Annotated[str, msgspec.Meta(max_length=2000)] | Unset = UNSET
    metadata: dict[str, Any] | Unset = UNSET


async def _default_schedule_id(session: AsyncSession, host_id: int) -> int | None:
    return await session.scalar(
        select(Schedule.id)
        .where(Schedule.host_id == host_id, Schedule.is_default.is_(True))
        .order_by(Schedule.id)
    )


class MeController(Controller):
    path = "/me"
    tags = ["Me"]

    @get("/", summary="The host this API key belongs to", responses=errors())
    async def me(self, host: Host, db_session: AsyncSession) -> Envelope[formats.Me]:
        return ok(formats.me(host, await _default_schedule_id(db_session, host.id)))

    @patch(
        "/",
        summary="Change the profile of the host this API key belongs to",
        status_code=HTTP_200_OK,
        responses=errors(404),
    )
    async def update_me(
        self, host: Host, db_session: AsyncSession, data: MeUpdate
    ) -> Envelope[formats.Me]:
        updated = await profile.update_me(db_session, host.id, changes(data))
        return ok(formats.me(updated, await _default_schedule_id(db_session, host.id)))
