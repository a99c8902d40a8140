"""The pre-booking refresh, reachable from the booking service without importing the sync.

The app's lifespan registers its ``CalendarSyncer.refresh_host`` for its database engine; the
booking service calls ``refresh_before_booking`` with its session before it takes the write lock.
The check runs on the request's own session (one indexed query; a host without calendars stops
there). Only when some connection's busy data is stale does the request give its connection back
(ending its read transaction) and the syncer read the calendars with connections of its own, so
concurrent bookings never hold two pooled connections each. Without a registered refresher (a
CLI command, a test without the app) nothing is re-read: the stored busy times still count.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app import clock
from app.db.models import Booking, CalendarConnection


@dataclass(frozen=True)
class _Refresher:
    refresh: Callable[[int], Awaitable[None]]
    fresh_for: timedelta


_refreshers: WeakKeyDictionary[Any, _Refresher] = WeakKeyDictionary()


def register(
    engine: AsyncEngine, refresh: Callable[[int], Awaitable[None]], fresh_for: timedelta
) -> None:
    _refreshers[engine.sync_engine] = _Refresher(refresh, fresh_for)


def unregister(engine: AsyncEngine) -> None:
    _refreshers.pop(engine.sync_engine, None)


async def refresh_before_booking(session: AsyncSession, host_id: int) -> None:
    """Re-read the host's calendars if their busy data is stale (bounded by a short timeout)."""
    refresher = _refresher(session)
    if refresher is None:
        return
    stale = await session.scalar(
        select(
            exists().where(
                CalendarConnection.host_id == host_id,
                CalendarConnection.invalid.is_(False),
                or_(
                    CalendarConnection.last_success_at.is_(None),
                    CalendarConnection.last_success_at < clock.utcnow() - refresher.fresh_for,
                ),
            )
        )
    )
    if stale:
        await session.commit()  # hand the connection back: the refresh uses its own
        await refresher.refresh(host_id)


async def refresh_before_change(session: AsyncSession, booking_uid: str) -> None:
    """The same, for the host of an existing booking (a reschedule)."""
    if _refresher(session) is None:
        return
    host_id = await session.scalar(select(Booking.host_id).where(Booking.uid == booking_uid))
    if host_id is not None:
        await refresh_before_booking(session, host_id)


def _refresher(session: AsyncSession) -> _Refresher | None:
    bind = session.get_bind()
    return _refreshers.get(getattr(bind, "engine", bind))
