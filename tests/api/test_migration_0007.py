"""Migration 0007 rebuilds event_types, schedules and webhooks on SQLite (AUTOINCREMENT): nothing
is lost, bookings are not cascaded away with the old event_types table, and the overlap guard's
triggers stay; on both databases the new columns get their defaults and the downgrade works."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.db.migrate import downgrade, upgrade
from support import SECRET, with_session

SEED = [
    "INSERT INTO hosts (slug, name, email, timezone, locale, embed_origins, captcha_enabled,"
    " brand_color, welcome_text, avatar_url, created_at)"
    " VALUES ('h', 'H', 'h@example.com', 'UTC', 'en', '[]', false, '', '', '', CURRENT_TIMESTAMP)",
    "INSERT INTO schedules (host_id, name, timezone, is_default, created_at, updated_at)"
    " SELECT id, 'Hours', 'UTC', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM hosts",
    "INSERT INTO event_types (public_id, host_id, slug, title, description, duration_minutes,"
    " buffer_before_minutes, buffer_after_minutes, min_notice_minutes, requires_approval,"
    " location_type, location_value, phone_mode, questions, active, hidden, created_at,"
    " updated_at) SELECT 'evt_' || n, hosts.id, 'e' || n, 'E', '', 30, 0, 0, 0, false, '', '',"
    " 'optional', '[]', true, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
    " FROM hosts, (SELECT 1 AS n UNION SELECT 2 UNION SELECT 3) AS numbers",
    'INSERT INTO bookings (uid, host_id, event_type_id, start, "end", held_start, held_end,'
    " status, version, sequence, invitee_name, invitee_email, invitee_phone, invitee_timezone,"
    " invitee_locale, custom_fields, notes, source, guests, metadata, cancellation_reason,"
    " rescheduling_reason, decline_reason, created_at, updated_at)"
    " SELECT 'bkg_1', host_id, id, '2030-01-07 09:00:00', '2030-01-07 09:30:00',"
    " '2030-01-07 09:00:00', '2030-01-07 09:30:00', 'Confirmed', 1, 0, 'A', 'a@example.com', '',"
    " 'UTC', 'en', '{}', '', 'API', '[]', '{}', '', '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
    " FROM event_types WHERE slug = 'e2'",
]


def execute(url: str, *statements: str) -> list:
    async def work(session):
        rows = []
        for statement in statements:
            result = await session.execute(text(statement))
            rows = list(result.all()) if result.returns_rows else rows
        await session.commit()
        return rows

    return list(with_session(url, work))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_rebuilt_tables_keep_their_rows_and_bookings_their_guard(request, tmp_path, backend):
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_empty_url")
    )
    upgrade(url, "0006", secret_keys=(SECRET,))
    execute(url, *SEED)
    upgrade(url, "0007", secret_keys=(SECRET,))

    assert execute(url, "SELECT count(*) FROM event_types") == [(3,)]
    assert execute(url, "SELECT uid, absent_host, absent_attendees FROM bookings")[0][:2] == (
        "bkg_1",
        False,
    )
    assert execute(url, "SELECT time_format, week_start FROM hosts") == [(24, "Monday")]
    assert execute(url, "SELECT booking_requires_auth, disable_guests FROM event_types")[0] == (
        False,
        False,
    )
    # The newest event type deleted: the next one does not get its id back.
    execute(url, "DELETE FROM event_types WHERE slug = 'e3'")
    execute(
        url,
        SEED[2]
        .replace("UNION SELECT 2 UNION SELECT 3", "")
        .replace("'e' || n", "'e4'")
        .replace("'evt_' || n", "'evt_4'"),
    )
    assert execute(url, "SELECT id FROM event_types WHERE slug = 'e4'") == [(4,)]
    if backend == "sqlite":
        triggers = execute(url, "SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert {name for (name,) in triggers} == {
            "bookings_no_overlap_insert",
            "bookings_no_overlap_update",
        }
        assert execute(url, "PRAGMA foreign_key_check") == []

    downgrade(url, "0006", secret_keys=(SECRET,))
    assert execute(url, "SELECT count(*) FROM bookings") == [(1,)]
    upgrade(url, "0007", secret_keys=(SECRET,))
