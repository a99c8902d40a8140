"""Run Alembic from code, so ``booking migrate`` needs no ini file or working directory; and say
whether a database is ready for this release (``booking serve`` at start-up, ``/readyz``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.session import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps


def alembic_config(database_url: str, secret_keys: tuple[str, ...] = ()) -> Config:
    """``secret_keys`` reach migrations that seal or open stored secrets (0003)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["secret_keys"] = secret_keys
    return config


def upgrade(database_url: str, revision: str = "head", secret_keys: tuple[str, ...] = ()) -> None:
    command.upgrade(alembic_config(database_url, secret_keys), revision)


def downgrade(database_url: str, revision: str, secret_keys: tuple[str, ...] = ()) -> None:
    command.downgrade(alembic_config(database_url, secret_keys), revision)


@lru_cache(maxsize=1)
def _scripts() -> tuple[frozenset[str], frozenset[str]]:
    """This release's head revision(s), and every revision it knows."""
    scripts = ScriptDirectory(str(MIGRATIONS))
    return frozenset(scripts.get_heads()), frozenset(s.revision for s in scripts.walk_revisions())


def _current_revisions(connection: Connection) -> frozenset[str]:
    """The revisions in Alembic's version table (read directly: Alembic's own reader logs a line
    on every call, and ``/readyz`` is called every few seconds)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


@dataclass(frozen=True)
class SchemaCheck:
    """Whether a database can serve this release.

    ``problem``: it cannot (no schema, or migrations this release needs are missing): refuse to
    start, answer ``/readyz`` with 503. ``warning``: it can, but the database is at a revision this
    release does not know, normally because a newer release migrated it first. That is how an
    additive upgrade rolls out (and how a rollback to the previous release works), so the old
    release keeps serving and says so in the log.
    """

    problem: str | None = None
    warning: str | None = None
    reachable: bool = True


async def check_schema(engine: AsyncEngine) -> SchemaCheck:
    """Compare the database's revision with this release's head.

    Connection failures are raised as they come (refused or unresolvable hosts, bad credentials, a
    missing database: OSError, SQLAlchemy's or the driver's own errors); callers word them.
    """
    async with engine.connect() as connection:
        current = await connection.run_sync(_current_revisions)
    heads, known = _scripts()
    if current == heads:
        return SchemaCheck()
    wanted = ", ".join(sorted(heads))
    if not current:
        return SchemaCheck(
            problem=f"the database has no schema yet (this release needs revision {wanted}):"
            " run `booking migrate`"
        )
    at = ", ".join(sorted(current))
    if current - known:
        return SchemaCheck(
            warning=f"the database is at revision {at}, newer than this release ({wanted}):"
            " fine while the newer release's migrations were additive; upgrade this one"
        )
    return SchemaCheck(
        problem=f"the database is at revision {at}, this release needs {wanted}:"
        " run `booking migrate`"
    )


def describe_url(database_url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(database_url).render_as_string(hide_password=True)


def unreachable_reason(exc: BaseException) -> str:
    """One line saying why a connection failed (the driver's words, not SQLAlchemy's wrapping)."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, TimeoutError):
        return "no answer in time"
    text = str(cause).strip().splitlines()
    return text[0] if text else type(cause).__name__


def check_database(database_url: str, timeout: float = 10.0) -> SchemaCheck:
    """Can ``booking serve`` start on this database? Unreachable or not migrated is a problem.

    Call it outside any event loop (it runs its own), before the server starts.
    """
    url = make_url(database_url)
    path = url.database if url.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not Path(path).exists():
        # Connecting would create an empty file; say what to do instead.
        return SchemaCheck(
            problem=f"the database file {path} does not exist: run `booking migrate`"
        )

    async def check() -> SchemaCheck:
        engine = create_engine(database_url)
        try:
            async with asyncio.timeout(timeout):
                return await check_schema(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(check())
    except Exception as exc:  # whatever stopped us connecting, in the driver's words
        where, reason = describe_url(database_url), unreachable_reason(exc)
        return SchemaCheck(problem=f"cannot reach the database {where}: {reason}", reachable=False)
