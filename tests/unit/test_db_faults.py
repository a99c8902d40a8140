"""Which database errors are the asker's (a number too large) and which are the database's."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from app.db.faults import is_out_of_range, is_unavailable


class DriverError(Exception):
    def __init__(self, message: str, sqlstate: str = "") -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def wrapped(orig: Exception) -> DBAPIError:
    return DBAPIError("SELECT …", {}, orig)


@pytest.mark.parametrize(
    "error",
    [
        OverflowError("Python int too large to convert to SQLite INTEGER"),
        wrapped(
            DriverError(
                "invalid input for query argument $1: 99999999999 (value out of int32 range)"
            )
        ),
        wrapped(DriverError("integer out of range", sqlstate="22003")),
    ],
    ids=["sqlite-bind", "asyncpg-encode", "postgresql-22003"],
)
def test_a_number_too_large_is_the_askers_error(error: Exception) -> None:
    assert is_out_of_range(error)
    assert not is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        OverflowError("date value out of range"),
        ValueError("start is out of interval"),
        wrapped(DriverError("duplicate key value", sqlstate="23505")),
        RuntimeError("boom"),
    ],
)
def test_other_errors_are_not(error: Exception) -> None:
    assert not is_out_of_range(error)
