"""``GET /v2/slots``: free start times grouped by date, Cal.com's 2024-09-04 shape; public.

``{"status": "success", "data": {"2026-05-04": [{"start": "2026-05-04T09:00:00.000+02:00"}]}}``:
dates and times are in ``timeZone`` (default UTC); ``format=range`` adds each slot's end.

As on Cal.com, anyone may ask (no key needed): slots are what the booking pages show. The event
type is found by ``eventTypeId``, or ``eventTypeSlug`` with ``username`` (with a key and no
username, the key's own host). Every documented parameter is honoured or refused with a 400:
``usernames`` (dynamic group events), ``teamSlug`` and ``organizationSlug`` do not exist here,
and ``duration`` must be the event type's length.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import InvalidInput
from app.db.models import Host
from app.hosts import slots as service
from app.hosts.bookings import find_bookable_event_type
from app.web.host_api import formats
from app.web.host_api.envelope import MAX_ID, Envelope, errors, ok
from app.web.host_api.fields import refuse_unknown_parameters

PARAMETERS = (
    "start",
    "end",
    "eventTypeId",
    "eventTypeSlug",
    "username",
    "usernames",
    "teamSlug",
    "organizationSlug",
    "timeZone",
    "format",
    "slotFormat",
    "duration",
    "bookingUidToReschedule",
)


UTC_NAMES = ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu")


def local_iso(moment: datetime, zone: ZoneInfo) -> str:
    """Cal.com's slot times: local wall clock with its offset, to the millisecond; ``Z`` when
    the zone is UTC itself (as Luxon writes them)."""
    text = moment.astimezone(zone).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if zone.key in UTC_NAMES else text


class SlotController(Controller):
    path = "/slots"
    tags = ["Slots"]

    @get(
        "/",
        summary="Free slots of an event type, grouped by date (no key needed)",
        description="At most 10,000 slots per answer: a range holding more is refused (400).",
        opt={"slot_reads": True},
        responses=errors(404),
        security=[{}],  # with the router's apiKey: a key is optional
    )
    async def slots(
        self,
        request: Request[Any, Any, Any],
        caller: Host | None,
        db_session: AsyncSession,
        start: Annotated[str, Parameter(description="Date (YYYY-MM-DD) or UTC instant")],
        end: Annotated[str, Parameter(description="Date (YYYY-MM-DD, included) or UTC instant")],
        event_type_id: Annotated[
            int | None, Parameter(query="eventTypeId", ge=1, le=MAX_ID)
        ] = None,
        event_type_slug: Annotated[str | None, Parameter(query="eventTypeSlug")] = None,
        username: str | None = None,
        usernames: str | None = None,
        team_slug: Annotated[str | None, Parameter(query="teamSlug")] = None,
        organization_slug: Annotated[str | None, Parameter(query="organizationSlug")] = None,
        time_zone: Annotated[str, Parameter(query="timeZone")] = "UTC",
        slot_format: Annotated[
            str | None, Parameter(query="format", description="time (default) or range")
        ] = None,
        legacy_format: Annotated[
            str | None, Parameter(query="slotFormat", description="Older name of format")
        ] = None,
        duration: Annotated[int | None, Parameter(ge=1, le=1440)] = None,
        booking_uid_to_reschedule: Annotated[
            str | None, Parameter(query="bookingUidToReschedule", max_length=64)
        ] = None,
    ) -> Envelope[dict[str, list[formats.Slot]]]:
        refuse_unknown_parameters(request, PARAMETERS)
        if usernames is not None:
            raise InvalidInput(
                "usernames (dynamic group events) is not supported: give eventTypeId, or "
                "eventTypeSlug and username.",
                "usernames",
            )
        if team_slug is not None or organization_slug is not None:
            raise InvalidInput(
                "teamSlug and organizationSlug are not supported: there are no teams or "
                "organizations here.",
                "teamSlug",
            )
        shape = slot_format or legacy_format or "time"
        if shape not in ("time", "range"):
            raise InvalidInput("format must be time or range.", "format")
        event_type = await find_bookable_event_type(
            db_session, caller, event_type_id, event_type_slug, username
        )
        if duration is not None and duration != event_type.duration_minutes:
            raise InvalidInput(
                f"duration must be {event_type.duration_minutes}: this event type has one length.",
                "duration",
            )
        days = await service.free_slots_by_date(
            db_session,
            event_type,
            start,
            end,
            time_zone,
            rescheduling=booking_uid_to_reschedule,
        )
        zone = ZoneInfo(time_zone.strip())
        return ok(
            {
                day.isoformat(): [
                    formats.Slot(
                        start=local_iso(slot.start, zone),
                        end=local_iso(slot.end, zone) if shape == "range" else "",
                    )
                    for slot in slots
                ]
                for day, slots in days
            }
        )
