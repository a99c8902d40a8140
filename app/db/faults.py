"""Telling a database that is unavailable for now from a bug.

The web layer answers these with 503 and ``Retry-After`` (``app.web.errors``) and the outbox
worker waits them out (``app.notify.worker``): a database that cannot be reached, refuses
connections, has run out of disk or connections, or whose write lock was held past the timeout.
They pass by themselves; a request that met one changed nothing (its transaction rolled back).
"""

from __future__ import annotations

import re
import socket

from sqlalchemy import exc as sa

# SQLSTATE classes (PostgreSQL): connection exceptions, insufficient resources (disk full, too
# many connections), operator intervention (shutting down, starting up), lock not available,
# invalid catalog (the database is missing), invalid authorisation.
UNAVAILABLE_SQLSTATES = ("08", "53", "57P", "55P03", "3D000", "28")


def _sqlstate(error: BaseException | None) -> str:
    return str(getattr(error, "sqlstate", "") or "")


def is_unavailable(error: BaseException) -> bool:
    """True when ``error`` says the database cannot serve now, rather than what was asked."""
    if isinstance(error, sa.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error, sa.OperationalError | sa.InterfaceError):
            return True  # SQLite: locked, disk full, read-only, cannot open; lost connections
        return _sqlstate(error.orig).startswith(UNAVAILABLE_SQLSTATES)
    if isinstance(error, sa.TimeoutError):
        return True  # no pooled connection came free in time
    if isinstance(error, ConnectionError | socket.gaierror | TimeoutError):
        return True  # refused, reset, unresolvable, timed out (also the SQLite writer queue)
    # asyncpg raises its own errors, unwrapped, while connecting (a missing database, say).
    return _sqlstate(error).startswith(UNAVAILABLE_SQLSTATES)


# SQLSTATE 22003: numeric value out of range (an id beyond an ``integer`` column, say).
OUT_OF_RANGE_SQLSTATE = "22003"
# asyncpg's own words when it refuses to encode a parameter (no SQLSTATE: nothing was sent).
OUT_OF_RANGE_TEXT = re.compile(r"value out of int(16|32|64) range")


def is_out_of_range(error: BaseException) -> bool:
    """True when a number in the request is too large for the database to even compare.

    SQLite's driver cannot bind an integer beyond 64 bits (OverflowError) and asyncpg refuses
    one beyond the column's type: a question no row can answer, which is the asker's error."""
    cause: BaseException | None = error
    for _ in range(5):  # the error, SQLAlchemy's wrapper, the driver's: never a long chain
        if cause is None:
            return False
        if isinstance(cause, OverflowError) and "SQLite INTEGER" in str(cause):
            return True
        if _sqlstate(cause) == OUT_OF_RANGE_SQLSTATE or OUT_OF_RANGE_TEXT.search(str(cause)):
            return True
        cause = getattr(cause, "orig", None) or cause.__cause__
    return False
