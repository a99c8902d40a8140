"""Engines and sessions, with the locking that keeps two bookings off one slot.

SQLite: every connection runs in WAL mode with a busy timeout, and pysqlite's own transaction
handling is switched off so that we say how each transaction begins. A write transaction begins
with ``BEGIN IMMEDIATE``: it takes the write lock *before* it reads, so the overlap check and the
insert see the same database. (A deferred transaction that reads first and then writes fails with
"database is locked" under contention, however long the busy timeout.) Reads stay deferred.

PostgreSQL: write transactions on one host take a transaction-scoped advisory lock, which
serialises the checks that span rows (max bookings per day); the exclusion constraint on held
ranges is the guarantee that holds whatever the code does.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, event, make_url, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.db import sqlite_driver

IMMEDIATE = "sqlite_begin_immediate"


LOCK_TIMEOUT_S = 10.0  # Settings.db_lock_timeout (DB_LOCK_TIMEOUT)
CONNECT_TIMEOUT_S = 5.0
_lock_timeouts: WeakKeyDictionary[Engine, float] = WeakKeyDictionary()


def create_engine(url: str, *, lock_timeout: float = LOCK_TIMEOUT_S, **kwargs: Any) -> AsyncEngine:
    """An engine whose waits are bounded: a write lock (SQLite) or a pooled connection held
    longer than ``lock_timeout`` seconds, or a connection not made within a few seconds, fails
    (and is answered 503, ``app.db.faults``) instead of keeping a request waiting."""
    if url.startswith("sqlite"):
        engine = _sqlite_engine(url, lock_timeout, **kwargs)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_timeout", lock_timeout)
        kwargs.setdefault("connect_args", {"timeout": CONNECT_TIMEOUT_S})
        engine = create_async_engine(url, **kwargs)
    _lock_timeouts[engine.sync_engine] = lock_timeout
    return engine


def _sqlite_engine(url: str, lock_timeout: float, **kwargs: Any) -> AsyncEngine:
    kwargs.setdefault("connect_args", {"timeout": lock_timeout})
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        _create_private(Path(parsed.database))
    if parsed.drivername == "sqlite+aiosqlite":
        parsed = parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
    engine = create_async_engine(parsed, **kwargs)
    busy_ms = int(lock_timeout * 1000)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (the documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _create_private(path: Path) -> None:
    """Create a new database file readable by its owner only (0600), before SQLite creates it
    with the umask's (usually world-readable) mode; SQLite gives its -wal and -shm files the
    same mode as the database file."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def begin_write(session: AsyncSession) -> None:
    """Open the session's transaction as a writer; call before the first query of a change."""
    if session.in_transaction():
        # Reads done earlier in this request would leave SQLite in a deferred transaction that
        # cannot safely be upgraded; end it so the write starts with the lock.
        await session.commit()
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        await session.connection(execution_options={IMMEDIATE: True})
        return
    release = await _take_writer_turn(session, bind)
    try:
        await session.connection(execution_options={IMMEDIATE: True})
    except BaseException:
        release()
        raise


# SQLite writers of one process queue here, in asyncio, before BEGIN IMMEDIATE. Without this,
# every waiting writer sits in SQLite's busy handler, which polls with sleeps of up to 100 ms:
# with 8 bookings at once in one process, p99 was 4 s and throughput half that of one at a time
# (bench/results.md). Writers in other processes still meet at SQLite's lock and busy timeout.
TurnsPerLoop = WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]
_writer_turns: WeakKeyDictionary[Engine | Connection, TurnsPerLoop] = WeakKeyDictionary()


async def _take_writer_turn(session: AsyncSession, bind: Engine | Connection) -> Callable[[], None]:
    """Wait for this process's other writers, and give the turn back when the transaction ends.

    The turn is given back by the session's own "after_transaction_end" event, whether the
    transaction commits, rolls back, or the session closes.
    """
    per_loop = _writer_turns.setdefault(bind, WeakKeyDictionary())
    turn = per_loop.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    # As long as the busy timeout: a writer waits no longer here than at SQLite's lock.
    wait = _lock_timeouts.get(bind.engine, LOCK_TIMEOUT_S)
    try:
        async with asyncio.timeout(wait):
            await turn.acquire()
    except TimeoutError:
        raise TimeoutError(f"another writer held the database for {wait:g} s") from None
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            turn.release()

    def on_end(_session: Any, transaction: Any) -> None:
        if transaction.parent is None:
            release()

    event.listen(session.sync_session, "after_transaction_end", on_end)
    return release


async def lock_host(session: AsyncSession, host_id: int) -> None:
    """Serialise one host's writers on PostgreSQL until commit (SQLite already is serialised)."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": host_id})
