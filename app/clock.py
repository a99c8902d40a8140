"""The one place that reads the wall clock, so tests can move time (``clock.set_offset``).

``CLOCK_OFFSET_SECONDS`` moves it for a whole process (a live server in the browser tests, to see
expired links); it is read here once, at import, and is never set in production.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

_offset = timedelta(seconds=float(os.environ.get("CLOCK_OFFSET_SECONDS") or 0))


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


def set_offset(offset: timedelta) -> None:
    """Shift what ``utcnow`` returns; for tests of expiring links and minimum notice."""
    global _offset
    _offset = offset
