"""The write ceiling: how many bookings per second plain sqlite3 can take on this machine.

Each transaction does what a booking does at the database, and nothing else: BEGIN IMMEDIATE,
the overlap SELECT the service runs (held ranges of the host overlapping the slot's), an INSERT
of a full booking row (the overlap trigger fires), COMMIT. It runs on a copy of the seeded benchmark
database, so the schema, indexes, triggers and the 500 bookings are the app's own, with the
pragmas app/db/session.py sets (WAL, synchronous=NORMAL), from one connection in one thread.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import time
from datetime import datetime
from pathlib import Path

FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how DateTimeUTC stores instants in SQLite (UTC, naive)

OVERLAP = """
    SELECT held_start, held_end, start, event_type_id FROM bookings
    WHERE host_id = ? AND status IN ('Confirmed', 'PendingApproval')
      AND held_end > ? AND held_start < ?
"""
INSERT = """
    INSERT INTO bookings (uid, host_id, event_type_id, start, "end", held_start, held_end, status,
        version, sequence, invitee_name, invitee_email, invitee_phone, invitee_timezone,
        invitee_locale, custom_fields, notes, source, guests, metadata, cancellation_reason,
        rescheduling_reason, decline_reason, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, 'Confirmed', 1, 0, 'Bench Guest', 'guest@example.com', '',
        'America/New_York', 'en', '{}', '', 'API', '[]', '{}', '', '', '', ?, ?)
"""


def transactions_per_second(
    seeded_db: Path, event_slug: str, slots: list[tuple[datetime, datetime]], seconds: float = 3.0
) -> float:
    """Book ``slots`` of the event type for ``seconds``; transactions committed per second."""
    copy = seeded_db.with_name("raw-ceiling.db")
    shutil.copyfile(seeded_db, copy)
    connection = sqlite3.connect(copy, isolation_level=None)
    event_type_id, host_id = connection.execute(
        "SELECT id, host_id FROM event_types WHERE slug = ?", (event_slug,)
    ).fetchone()
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA busy_timeout=30000")
    done = 0
    began = time.perf_counter()
    deadline = began + seconds
    for start, end in slots:
        if time.perf_counter() >= deadline:
            break
        s, e = start.strftime(FORMAT), end.strftime(FORMAT)
        now = datetime.now().strftime(FORMAT)
        connection.execute("BEGIN IMMEDIATE")
        if connection.execute(OVERLAP, (host_id, s, e)).fetchall():
            connection.execute("ROLLBACK")
            continue
        uid = "bkg_" + secrets.token_urlsafe(12)
        connection.execute(INSERT, (uid, host_id, event_type_id, s, e, s, e, now, now))
        connection.execute("COMMIT")
        done += 1
    elapsed = time.perf_counter() - began
    connection.close()
    return done / elapsed
