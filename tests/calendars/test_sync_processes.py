"""Several worker processes syncing on PostgreSQL: every connection is read once, none twice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.calendars.connections import sealed
from app.db.models import CalendarBusy, CalendarConnection, ConnectedCalendar, Host
from app.settings import Settings
from calendar_servers import FeedStore
from calendar_support import at, utc, vcalendar
from support import make_settings, next_weekday, with_session

pytestmark = pytest.mark.xdist_group("calendars")

WORKER = """
import asyncio
from app.calendars.sync import CalendarSyncer, SyncOptions
from app.db.session import create_engine, create_sessionmaker
from app.settings import Settings

async def main():
    settings = Settings.from_env()
    engine = create_engine(settings.database_url)
    syncer = CalendarSyncer(settings, create_sessionmaker(engine), SyncOptions(batch=1))
    done = []
    while outcomes := await syncer.sync():
        done += [str(o.connection_id) for o in outcomes if o.ok]
    await engine.dispose()
    print(",".join(done))

asyncio.run(main())
"""


def test_three_processes_share_the_connections(
    pg_url: str, tmp_path: Path, feeds: tuple[str, FeedStore]
):
    base, store = feeds
    settings: Settings = make_settings(tmp_path, database_url=pg_url, allow_private_urls=True)
    day = next_weekday(4)
    paths = [f"/multi-{tmp_path.name}-{n}.ics" for n in range(9)]
    for n, path in enumerate(paths):
        store.publish(
            path,
            vcalendar(
                f"UID:m{n}\r\nDTSTAMP:20260101T000000Z\r\n"
                f"DTSTART:{utc(at(day, 9 + n % 8))}\r\nDTEND:{utc(at(day, 9 + n % 8, 30))}"
            ),
        )
        store.delay[path] = 0.2  # slow enough for the processes to overlap

    async def seed(session: Any) -> None:
        host = (await session.scalars(select(Host).where(Host.slug == "demo"))).one()
        for n, path in enumerate(paths):
            session.add(
                CalendarConnection(
                    host_id=host.id,
                    kind="ics_feed",
                    integration="ics-feed_calendar",
                    label="feeds",
                    calendars=[
                        ConnectedCalendar(
                            host_id=host.id,
                            external_id=f"feed-{n}",
                            url_sealed=sealed(settings, base + path),
                            name=f"Feed {n}",
                            read_only=True,
                        )
                    ],
                )
            )
        await session.commit()

    with_session(pg_url, seed)
    env = {
        "DATABASE_URL": pg_url,
        "SECRET_KEYS": ",".join(settings.secret_keys),
        "ALLOW_PRIVATE_URLS": "1",
        "VAR_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    done: list[str] = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        done += [i for i in out.strip().split(",") if i]
    assert sorted(done, key=int) == [str(n) for n in range(1, len(paths) + 1)]  # each once
    assert [p for p, _, _ in store.requests if p in paths].count(paths[0]) == 1
    assert sorted(p for p, _, _ in store.requests if p in paths) == sorted(paths)

    async def busy(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(CalendarBusy)))

    assert with_session(pg_url, busy) == len(paths)
