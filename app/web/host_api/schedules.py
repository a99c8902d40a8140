"""``/v2/schedules``: weekly hours and date overrides (rules in app/hosts/schedules.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Host
from app.hosts import schedules as service
from app.web.host_api import formats
from app.web.host_api.envelope import Envelope, PathId, errors, ok
from app.web.host_api.fields import changes

Short = Annotated[str, msgspec.Meta(max_length=200)]
Time = Annotated[str, msgspec.Meta(max_length=5, examples=["09:00"])]
Day = Annotated[
    str | int,
    msgspec.Meta(description="A day name (Monday … Sunday), or a number with 0 = Sunday."),
]
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class AvailabilityIn(msgspec.Struct, rename="camel"):
    days: list[Day]
    start_time: Time
    end_time: Time


class OverrideIn(msgspec.Struct, rename="camel"):
    """Hours for one date instead of the weekly ones; 00:00-00:00 closes the date."""

    date: Annotated[str, msgspec.Meta(max_length=10, examples=["2026-05-20"])]
    start_time: Time
    end_time: Time


class ScheduleCreate(msgspec.Struct, rename="camel"):
    name: Short
    time_zone: Short
    is_default: bool = False
    availability: list[AvailabilityIn] | Unset = UNSET
    overrides: list[OverrideIn] | Unset = UNSET


class ScheduleUpdate(msgspec.Struct, rename="camel"):
    """Only the fields sent change; ``availability`` and ``overrides`` replace the old lists."""

    name: Short | Unset = UNSET
    time_zone: Short | Unset = UNSET
    is_default: bool | Unset = UNSET
    availability: list[AvailabilityIn] | Unset = UNSET
    overrides: list[OverrideIn] | Unset = UNSET


class Done(msgspec.Struct):
    """Cal.com's DeleteScheduleOutput_2024_06_11: the status alone."""

    status: Literal["success"] = "success"


def cal_times(fields: dict[str, Any]) -> dict[str, Any]:
    """Cal.com ends a day at "23:59" (it has no "24:00"): read that end as the day's end, so a
    schedule read and written back keeps its last minute."""
    for name in ("availability", "overrides"):
        for item in fields.get(name) or []:
            if item.get("end_time") == formats.END_OF_DAY:
                item["end_time"] = "24:00"
    return fields


class ScheduleController(Controller):
    path = "/schedules"
    tags = ["Schedules"]

    @get("/", summary="All schedules of the host", responses=errors())
    async def list_schedules(
        self, host: Host, db_session: AsyncSession
    ) -> Envelope[list[formats.ScheduleOut]]:
        rows = await service.list_schedules(db_session, host.id)
        return ok([formats.schedule(row) for row in rows])

    @post("/", summary="Create a schedule", responses=errors())
    async def create_schedule(
        self, host: Host, db_session: AsyncSession, data: ScheduleCreate
    ) -> Envelope[formats.ScheduleOut]:
        row = await service.create_schedule(db_session, host, cal_times(changes(data)))
        return ok(formats.schedule(row))

    @get("/default", summary="The host's default schedule", responses=errors(404))
    async def default_schedule(
        self, host: Host, db_session: AsyncSession
    ) -> Envelope[formats.ScheduleOut]:
        return ok(formats.schedule(await service.default_schedule(db_session, host.id)))

    @get("/{schedule_id:int}", summary="One schedule", responses=errors(404))
    async def get_schedule(
        self, host: Host, db_session: AsyncSession, schedule_id: PathId
    ) -> Envelope[formats.ScheduleOut]:
        return ok(formats.schedule(await service.get_schedule(db_session, host.id, schedule_id)))

    @patch("/{schedule_id:int}", summary="Change a schedule", responses=errors(404))
    async def update_schedule(
        self, host: Host, db_session: AsyncSession, schedule_id: PathId, data: ScheduleUpdate
    ) -> Envelope[formats.ScheduleOut]:
        fields = cal_times(changes(data))
        row = await service.update_schedule(db_session, host.id, schedule_id, fields)
        return ok(formats.schedule(row))

    @delete(
        "/{schedule_id:int}",
        summary="Delete a schedule; its event types fall back to the default one",
        status_code=HTTP_200_OK,
        responses=errors(404),
    )
    async def delete_schedule(
        self, host: Host, db_session: AsyncSession, schedule_id: PathId
    ) -> Done:
        await service.delete_schedule(db_session, host.id, schedule_id)
        return Done()
