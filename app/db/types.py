"""Column types of our own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy.engine import Dialect


class UTCDateTime(DateTimeUTC):
    """advanced-alchemy's ``DateTimeUTC`` (aware UTC in and out), read faster from SQLite.

    SQLite keeps these instants as naive UTC text (``2026-11-23 08:00:00.000000``). The stock path
    parses the text, then attaches UTC in a Python ``replace`` call; a slot list reads hundreds of
    them per request, and one ``fromisoformat`` with the offset appended does both in C.
    Storage and every other dialect are unchanged.
    """

    cache_ok = True

    def result_processor(
        self, dialect: Dialect, coltype: Any
    ) -> Callable[[Any], datetime | None] | None:
        fallback = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite":
            return fallback

        def process(value: Any) -> datetime | None:
            if isinstance(value, str) and len(value) in (19, 26) and value[10] == " ":
                return datetime.fromisoformat(value + "+00:00")
            return fallback(value) if fallback else value

        return process
