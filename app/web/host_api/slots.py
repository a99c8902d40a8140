"""``GET /v2/slots``: free start times grouped by date, Cal.com's 2024-09-04 shape.

``{"status": "success", "data": {"2026-05-04": [{"start": "2026-05-04T09:00:00.000+02:00"}]}}``:
dates and times are in ``timeZone`` (default UTC); ``slotFormat=range`` adds each slot's end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Host
from app.hosts import event_types
from app.hosts import slots as service
from app.web.host_api import formats
from app.web.host_api.envelope import MAX_ID, Envelope, errors, ok


def local_iso(moment: datetime, zone: ZoneInfo) -> str:
    """Cal.com's slot times: local wall clock with its offset, to the millisecond."""
    return moment.astimezone(zone).isoformat(timespec="milliseconds")


class SlotController(Controller):
    path = "/slots"
    tags = ["Slots"]

    @get(
        "/",
        summary="Free slots of an event type, grouped by date",
        description="At most 10,000 slots per answer: a range holding more is refused (400).",
        opt={"slot_reads": True},
        responses=errors(404),
    )
    async def slots(
        self,
        host: Host,
        db_session: AsyncSession,
        start: Annotated[str, Parameter(description="Date (YYYY-MM-DD) or UTC instant")],
        end: Annotated[str, Parameter(description="Date (YYYY-MM-DD, included) or UTC instant")],
        event_type_id: Annotated[
            int | None, Parameter(query="eventTypeId", ge=1, le=MAX_ID)
        ] = None,
        event_type_slug: Annotated[str | None, Parameter(query="eventTypeSlug")] = None,
        username: str | None = None,
        time_zone: Annotated[str, Parameter(query="timeZone")] = "UTC",
        slot_format: Annotated[Literal["time", "range"], Parameter(query="slotFormat")] = "time",
    ) -> Envelope[dict[str, list[formats.Slot]]]:
        event_type = await event_types.find_own_event_type(
            db_session, host, event_type_id, event_type_slug, username
        )
        days = await service.free_slots_by_date(db_session, event_type, start, end, time_zone)
        zone = ZoneInfo(time_zone.strip())
        return ok(
            {
                day.isoformat(): [
                    formats.Slot(
                        start=local_iso(slot.start, zone),
                        end=local_iso(slot.end, zone) if slot_format == "range" else None,
                    )
                    for slot in slots
                ]
                for day, slots in days
            }
        )
