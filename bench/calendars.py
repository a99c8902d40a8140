"""The calendar benchmark's data: a host whose two calendars hold 2,000 events each.

Host ``busy`` (Europe/Berlin, Monday to Friday 09:00-17:00, a ``30min`` event type) has two ICS
feeds served from loopback and read by the real sync (``CalendarSyncer``: conditional GET,
expansion, busy rows), so the month of slots measured afterwards reads what a real sync wrote.
Each feed has 2,000 events from a year back to a year ahead (fixed seed), 07:00 to 21:00: two
thirds single meetings of 30 to 90 minutes, one third weekly or fortnightly series
of 4 to 26 meetings, a few of them with an EXDATE.
"""

from __future__ import annotations

import http.server
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.calendars.connections import sealed
from app.calendars.sync import CalendarSyncer
from app.db.models import CalendarBusy, CalendarConnection, ConnectedCalendar, EventType
from app.db.session import create_engine, create_sessionmaker
from app.hosts.service import create_host
from app.settings import Settings

HOST = "busy"
EVENT = "30min"
EVENTS_PER_CALENDAR = 2000
BERLIN = ZoneInfo("Europe/Berlin")
STAMP = "%Y%m%dT%H%M%S"


def feed(seed: int, today: date) -> bytes:
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN", "X-WR-CALNAME:Bench"]
    for n in range(EVENTS_PER_CALENDAR):
        day = today + timedelta(days=rng.randint(-365, 365))
        start = datetime(day.year, day.month, day.day, rng.randint(7, 20), rng.choice([0, 30]))
        end = start + timedelta(minutes=rng.choice([30, 45, 60, 90]))
        lines += [
            "BEGIN:VEVENT",
            f"UID:bench-{seed}-{n}",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART;TZID=Europe/Berlin:{start.strftime(STAMP)}",
            f"DTEND;TZID=Europe/Berlin:{end.strftime(STAMP)}",
            f"SUMMARY:Meeting {n}",
        ]
        if n % 3 == 0:
            interval = rng.choice([1, 1, 2])
            lines.append(f"RRULE:FREQ=WEEKLY;INTERVAL={interval};COUNT={rng.randint(4, 26)}")
            if n % 5 == 0:
                skipped = start + timedelta(weeks=2 * interval)
                lines.append(f"EXDATE;TZID=Europe/Berlin:{skipped.strftime(STAMP)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


@contextmanager
def feed_server(feeds: dict[str, bytes]) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = feeds.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("ETag", f'"{len(body)}"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def seed(url: str, today: date) -> str:
    """Create the host, its feeds, sync them; returns a note (sync time, busy rows)."""
    settings = Settings(
        database_url=url, secret_keys=("bench-secret-key-0123456789",), allow_private_urls=True
    )
    feeds = {"/work.ics": feed(1, today), "/family.ics": feed(2, today)}
    engine = create_engine(url)
    try:
        sessionmaker = create_sessionmaker(engine)
        with feed_server(feeds) as base:
            async with sessionmaker() as session:
                host = await create_host(
                    session,
                    HOST,
                    name="Busy Host",
                    email="busy@example.com",
                    timezone="Europe/Berlin",
                )
                session.add(
                    EventType(
                        host_id=host.id,
                        slug=EVENT,
                        title="30 minute meeting",
                        duration_minutes=30,
                        booking_window_days=60,
                    )
                )
                session.add(
                    CalendarConnection(
                        host_id=host.id,
                        kind="ics_feed",
                        integration="ics-feed_calendar",
                        label="127.0.0.1",
                        calendars=[
                            ConnectedCalendar(
                                host_id=host.id,
                                external_id=f"ics-feed:{path}",
                                url_sealed=sealed(settings, base + path),
                                name=path.strip("/"),
                                read_only=True,
                            )
                            for path in feeds
                        ],
                    )
                )
                await session.commit()
            began = time.perf_counter()
            [outcome] = await CalendarSyncer(settings, sessionmaker).sync()
            took = time.perf_counter() - began
        if not outcome.ok:
            raise RuntimeError(f"bench calendar sync failed: {outcome.error}")
        async with sessionmaker() as session:
            now = datetime.now(UTC)
            total = await session.scalar(select(func.count()).select_from(CalendarBusy))
            month = await session.scalar(
                select(func.count())
                .select_from(CalendarBusy)
                .where(CalendarBusy.end > now, CalendarBusy.start < now + timedelta(days=31))
            )
    finally:
        await engine.dispose()
    return (
        f"2 feeds × {EVENTS_PER_CALENDAR:,} events (a third weekly/fortnightly series) read by "
        f"the sync in {took:.1f} s into {total:,} busy times ({month:,} in the month measured)"
    )
