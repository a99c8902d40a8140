"""``booking backup``: a consistent, checked copy of the SQLite database while bookings go on."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from app.cli import main
from app.db.backup import target_file
from app.settings import Settings
from serving import BOOKING, booking_env, booking_serve, slot_body

pytestmark = pytest.mark.xdist_group("servers")

BOOK = "/api/public/scheduling/demo/30min/book"


def backup(settings: Settings, target: Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["backup", str(target)], env=booking_env(settings))


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the guests stopped booking"
        time.sleep(0.01)


def test_a_backup_taken_under_load_is_whole_and_consistent(settings: Settings, tmp_path: Path):
    settings = replace(settings, run_worker=True)  # the outbox worker writes too
    booked: list[int] = []
    stop = threading.Event()

    def guest(first: int) -> None:
        i = first
        while not stop.is_set():
            if httpx.post(url + BOOK, json=slot_body(i), timeout=30).status_code == 201:
                booked.append(i)
            i += 4

    with booking_serve(settings, "--workers", "2") as served:
        url = served.url
        threads = [threading.Thread(target=guest, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        wait_until(lambda: len(booked) >= 10)
        done = subprocess.run(
            [str(BOOKING), "backup", str(tmp_path / "copy.db")],
            env=booking_env(settings),
            capture_output=True,
            text=True,
            timeout=60,
        )
        during = len(booked)
        wait_until(lambda: len(booked) >= during + 10)  # bookings go on after it
        stop.set()
        for thread in threads:
            thread.join()

    assert done.returncode == 0, done.stderr
    assert "integrity ok" in done.stdout
    assert "To restore it: stop the server" in done.stdout
    copy = tmp_path / "copy.db"
    assert copy.stat().st_mode & 0o777 == 0o600
    assert not Path(f"{copy}-wal").exists()
    db = sqlite3.connect(copy)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copied = db.execute("SELECT count(*) FROM bookings").fetchone()[0]
    # Each copied booking has the event its transaction recorded: one instant, no half.
    orphans = db.execute(
        "SELECT count(*) FROM bookings b WHERE NOT EXISTS"
        " (SELECT 1 FROM outbox o WHERE o.booking_uid = b.uid AND o.kind = 'booking_event')"
    ).fetchone()[0]
    db.close()
    assert 10 <= copied < len(booked)
    assert orphans == 0
    live = sqlite3.connect(settings.database_url.split(":///", 1)[1])
    assert live.execute("SELECT count(*) FROM bookings").fetchone()[0] == len(booked)
    live.close()


def test_a_directory_gets_a_dated_file_and_nothing_is_overwritten(settings: Settings, tmp_path):
    target = tmp_path / "backups"
    target.mkdir()
    first = backup(settings, target)
    assert first.exit_code == 0, first.output
    (made,) = target.glob("booking-*.db")
    again = backup(settings, made)
    assert again.exit_code == 1
    assert again.stderr.strip() == (
        f"booking: no backup written: {made} exists already; give a new file name or a directory"
    )
    assert list(target.iterdir()) == [made]  # no partial file left behind


def test_a_missing_directory_is_named(settings: Settings, tmp_path: Path):
    result = backup(settings, tmp_path / "nowhere" / "copy.db")
    assert result.exit_code == 1
    assert f"the directory {tmp_path / 'nowhere'} does not exist" in result.stderr


def test_postgresql_is_pointed_at_pg_dump(settings: Settings, tmp_path: Path):
    url = "postgresql+asyncpg://booking:s3cret@db.internal:5432/booking"
    result = backup(replace(settings, database_url=url), tmp_path / "copy.db")
    assert result.exit_code == 1
    assert "pg_dump --format=custom" in result.stderr
    assert "'postgresql://booking:***@db.internal:5432/booking'" in result.stderr


def test_a_restored_copy_serves(settings: Settings, tmp_path: Path):
    result = backup(settings, tmp_path / "copy.db")
    assert result.exit_code == 0, result.output
    restored = replace(
        settings,
        var_dir=tmp_path / "restored",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/copy.db",
    )
    restored.var_dir.mkdir()
    with booking_serve(restored) as served:
        assert httpx.get(served.url + "/demo/30min").status_code == 200


def test_target_names_are_dated_in_utc(tmp_path: Path):
    from datetime import UTC, datetime

    when = datetime(2026, 12, 1, 9, 5, 7, tzinfo=UTC)
    assert target_file(tmp_path, when) == tmp_path / "booking-20261201-090507.db"
    assert target_file(tmp_path / "x.db", when) == tmp_path / "x.db"
