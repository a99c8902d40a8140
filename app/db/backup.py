"""``booking backup``: a consistent copy of the SQLite database, taken while the server runs.

SQLite's online backup API copies the database page by page. Asked to copy everything in one step
(``pages=-1``), it reads inside one read transaction: the copy is the database as of one instant,
every booking with its outbox event, never half a transaction. In WAL mode a reader blocks no
writer, so bookings go on while it runs. The copy is written beside the target, checked with
``PRAGMA integrity_check``, made a single self-contained file (no ``-wal``), readable by its owner
only (it holds guests' names and emails), and renamed into place: a failed backup leaves nothing.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import make_url


class BackupError(Exception):
    """Why no backup was written, in a sentence for the operator."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    bookings: int


def sqlite_file(database_url: str) -> Path | None:
    """The SQLite file behind ``database_url``, or None for other databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def target_file(target: Path, now: datetime | None = None) -> Path:
    """``target`` itself, or a time-stamped file in it when it is a directory."""
    if target.is_dir():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
        return target / f"booking-{stamp}.db"
    return target


def backup_sqlite(source: Path, target: Path) -> Backup:
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    target = target_file(target)
    if target.exists():
        raise BackupError(f"{target} exists already; give a new file name or a directory")
    if not target.parent.is_dir():
        raise BackupError(f"the directory {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    # mode=rw: never create an empty database where the real one was expected.
    src = sqlite3.connect(f"file:{quote(str(source.absolute()))}?mode=rw", uri=True, timeout=30)
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        dst = sqlite3.connect(partial, isolation_level=None)
        try:
            src.backup(dst, pages=-1)  # one step: one read transaction, one instant
            dst.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
            bookings = _count(dst, "bookings")
        finally:
            dst.close()
        if verdict != "ok":
            raise BackupError(f"the copy failed its integrity check: {verdict}")
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    except sqlite3.Error as exc:
        raise BackupError(f"the backup failed: {exc}") from exc
    finally:
        src.close()
        partial.unlink(missing_ok=True)
    return Backup(path=target, size=target.stat().st_size, bookings=bookings)


def _count(connection: sqlite3.Connection, table: str) -> int:
    try:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:  # not a database of ours (yet)
        return 0


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
