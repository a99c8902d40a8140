"""UTCDateTime: aware UTC instants in and out, whatever zone they were written in."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

from app.db.types import UTCDateTime

KOLKATA = timezone(timedelta(hours=5, minutes=30))


@pytest.fixture
def table():
    engine = create_engine("sqlite://")
    metadata = MetaData()
    moments = Table(
        "moments", metadata, Column("id", Integer, primary_key=True), Column("at", UTCDateTime)
    )
    metadata.create_all(engine)
    with engine.begin() as connection:
        yield connection, moments


@pytest.mark.parametrize(
    "written",
    [
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 7, 0, 0, 123456, tzinfo=KOLKATA),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_instants_come_back_as_the_same_instant_in_utc(table, written):
    connection, moments = table
    connection.execute(insert(moments).values(at=written))
    read = connection.execute(select(moments.c.at)).scalar_one()
    assert read == written
    assert read.tzinfo is UTC or read.utcoffset() == timedelta(0)
    # SQLite keeps the naive UTC text the stock type wrote, so existing databases read the same.
    stored = connection.execute(text("SELECT at FROM moments")).scalar_one()
    assert stored == written.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def test_null_stays_null(table):
    connection, moments = table
    connection.execute(insert(moments).values(at=None))
    assert connection.execute(select(moments.c.at)).scalar_one() is None


def test_naive_datetimes_are_refused(table):
    connection, moments = table
    with pytest.raises(Exception, match="tzinfo is required"):
        connection.execute(insert(moments).values(at=datetime(2026, 1, 1)))
