"""The one place that reads the wall clock, so tests can move time (``clock.set_offset``).

Nothing in production moves it: tests call ``set_offset`` in-process, and a live test server that
must run in the future is started through ``tests/shifted_clock.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


def set_offset(offset: timedelta) -> None:
    """Shift what ``utcnow`` returns; for tests of expiring links and minimum notice."""
    global _offset
    _offset = offset
