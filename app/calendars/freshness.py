"""The pre-booking refresh, reachable from the booking service without importing the sync.

The app's lifespan registers its ``CalendarSyncer.refresh_host`` for its database engine; the
booking service calls ``refresh_before_booking`` with its session before it takes the write lock.
Without a registered refresher (a CLI command, a test without the app) it does nothing: the busy
times already stored still count, they are only not re-read first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.models import Booking

Refresher = Callable[[int], Awaitable[None]]
_refreshers: WeakKeyDictionary[Any, Refresher] = WeakKeyDictionary()


def register(engine: AsyncEngine, refresher: Refresher) -> None:
    _refreshers[engine.sync_engine] = refresher


def unregister(engine: AsyncEngine) -> None:
    _refreshers.pop(engine.sync_engine, None)


async def refresh_before_booking(session: AsyncSession, host_id: int) -> None:
    """Re-read the host's calendars if their busy data is stale (bounded by a short timeout)."""
    refresher = _refresher(session)
    if refresher is not None:
        await refresher(host_id)


async def refresh_before_change(session: AsyncSession, booking_uid: str) -> None:
    """The same, for the host of an existing booking (a reschedule)."""
    refresher = _refresher(session)
    if refresher is not None:
        host_id = await session.scalar(select(Booking.host_id).where(Booking.uid == booking_uid))
        if host_id is not None:
            await refresher(host_id)


def _refresher(session: AsyncSession) -> Refresher | None:
    bind = session.get_bind()
    return _refreshers.get(getattr(bind, "engine", bind))
