"""``booking calendars …`` as a host uses it, against a real Radicale."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from calendar_servers import DavServer
from calendar_support import at, uid, utc, vevent
from support import make_settings, next_weekday, prepare_database

pytestmark = pytest.mark.xdist_group("calendars")


def test_connect_list_sync_explain_disconnect(
    tmp_path: Path, radicale_server: DavServer, monkeypatch: pytest.MonkeyPatch
):
    settings = make_settings(tmp_path)
    prepare_database(settings.database_url)
    for name, value in {
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(tmp_path),
        "SECRET_KEYS": "cli-secret-key-0123456789",
        "ALLOW_PRIVATE_URLS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    user, password = radicale_server.account()
    calendar = radicale_server.make_calendar(user, password, "Practice")
    day = next_weekday(6)
    calendar.save_event(vevent(uid(), f"DTSTART:{utc(at(day, 10))}", f"DTEND:{utc(at(day, 11))}"))
    runner = CliRunner()

    connected = runner.invoke(
        main,
        ["calendars", "connect", "demo", "--caldav", radicale_server.url, "--username", user],
        input=f"{password}\n",
    )
    assert connected.exit_code == 0, connected.output
    assert "connected: credential 1" in connected.output
    assert "1 read, 1 busy" in connected.output
    assert "Practice (blocks slots, destination)" in connected.output
    assert password not in connected.output

    listed = runner.invoke(main, ["calendars", "list", "demo"])
    assert "caldav_calendar 127.0.0.1" in listed.output and "ok; last read" in listed.output

    synced = runner.invoke(main, ["calendars", "sync", "demo"])
    assert synced.exit_code == 0 and "Practice: unchanged" in synced.output

    start = at(day, 10, 30).astimezone().isoformat()
    explained = runner.invoke(main, ["calendars", "explain-slot", "demo", "30min", start])
    assert explained.exit_code == 0, explained.output
    assert 'Busy in calendar "Practice"' in explained.output
    free = runner.invoke(
        main,
        ["calendars", "explain-slot", "demo", "30min", f"{day}T12:00", "--tz", "Europe/Berlin"],
    )
    assert "bookable" in free.output
    night = runner.invoke(main, ["calendars", "explain-slot", "demo", "30min", f"{day}T03:00"])
    assert "Outside the weekly hours" in night.output
    bad = runner.invoke(main, ["calendars", "explain-slot", "demo", "30min", "tomorrow"])
    assert bad.exit_code == 1 and "START must be a date and time" in bad.output

    wrong = runner.invoke(
        main,
        ["calendars", "connect", "demo", "--caldav", radicale_server.url, "--username", user],
        input="wrong\n",
    )
    assert wrong.exit_code == 1 and "refused the user name or password" in wrong.output

    gone = runner.invoke(main, ["calendars", "disconnect", "demo", "1"])
    assert gone.exit_code == 0 and "disconnected" in gone.output
    assert "no calendars connected" in runner.invoke(main, ["calendars", "list", "demo"]).output
