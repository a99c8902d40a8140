"""Alembic environment: runs migrations over the app's async engine (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import event
from sqlalchemy.engine import Connection

from app.db.models import Base
from app.db.session import create_engine

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    if engine.dialect.name == "sqlite":
        # A batch migration copies a table, drops the original and renames the copy. With foreign
        # keys enforced, dropping a table that others reference (event_types, by bookings) would
        # first delete every row pointing at it (ON DELETE CASCADE). SQLite can only switch the
        # enforcement off outside a transaction: at connect, after the engine's own set-up.
        event.listen(engine.sync_engine, "connect", _foreign_keys_off)
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
        await connection.commit()
        if engine.dialect.name == "sqlite":
            await connection.run_sync(_check_foreign_keys)
    await engine.dispose()


def _foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()


def _check_foreign_keys(connection: Connection) -> None:
    """What enforcement would have refused must not have slipped in while it was off."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    connection.rollback()
    if broken:
        raise RuntimeError(f"the migration left rows with dangling foreign keys: {broken[:5]}")


def run_in_thread() -> None:
    """Alembic is sync; our engine is async. Run it on a fresh loop (callers may be inside one)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_async())
        return
    import threading

    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(run_async())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


run_in_thread()
