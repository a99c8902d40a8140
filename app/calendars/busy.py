"""A host's merged busy times (``host_busy``), rebuilt from its per-calendar rows.

Called inside every write transaction that changes a host's ``calendar_busy`` rows, so the two
tables never disagree for a reader.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendars.expand import merge
from app.db.models import CalendarBusy, HostBusy
from app.scheduling import Interval


async def remerge(session: AsyncSession, host_id: int) -> int:
    """Replace the host's merged busy times; returns how many there are."""
    rows = await session.execute(
        select(CalendarBusy.start, CalendarBusy.end).where(CalendarBusy.host_id == host_id)
    )
    merged = merge(Interval(start, end) for start, end in rows)
    await session.execute(delete(HostBusy).where(HostBusy.host_id == host_id))
    if merged:
        await session.execute(
            insert(HostBusy),
            [{"host_id": host_id, "start": m.start, "end": m.end} for m in merged],
        )
    return len(merged)
