"""``python -m bench.run``: measure the hot paths and write bench/results.md.

For SQLite and, when it is reachable, PostgreSQL: seed a host with 500 bookings, serve the app
with one uvicorn worker, and let wrk hold a fixed number of connections busy against each path.
Two ceilings measured in the same run put the figures in proportion: a bare Litestar endpoint
(requests/s the server stack can do at all) and plain sqlite3 doing a booking's transaction
(bookings/s the database can take at all).

Environment: ``BENCH_DATABASE_URL`` (else ``TEST_DATABASE_URL``, else the local PostgreSQL on
127.0.0.1:5432) is the server where a scratch database is created and dropped.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

from app.db.migrate import upgrade
from app.db.session import create_engine, create_sessionmaker
from bench import calendars, first_slot, machine, raw_sqlite, seed, weight, wrk
from bench.server import uvicorn

HERE = Path(__file__).parent
RESULTS = HERE / "results.md"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# Distinct slots for the warm-up, latency and load runs of the booking benchmark (more than
# they can use: a run that ran out would show up as non-2xx answers).
SLOTS_PER_RUN = (3000, 8000, 20000)
CALENDAR_ROW = "Slots JSON, 31 days, 2 calendars × 2,000 events"


@dataclass
class Row:
    """One path on one database: latency on one connection, throughput on several."""

    scenario: str
    database: str
    latency: wrk.Result | None = None
    load: wrk.Result | None = None
    note: str = ""


# Databases -------------------------------------------------------------------------------------


async def _seed(url: str, today: date) -> list[seed.Span]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await seed.seed(session, today)
    finally:
        await engine.dispose()


async def _scalar(url: str, sql: str) -> object:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text(sql))).scalar()
    finally:
        await engine.dispose()


OVERLAPS = """
    SELECT COUNT(*) FROM (
        SELECT held_start, MAX(held_end) OVER (
            PARTITION BY host_id ORDER BY held_start
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_end
        FROM bookings WHERE status IN ('Confirmed', 'PendingApproval')
    ) AS ordered WHERE held_start < previous_end
"""


def postgres_server() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG


def postgres_version(url: str) -> str:
    try:
        return str(asyncio.run(asyncio.wait_for(_scalar(url, "SHOW server_version"), 5)))
    except Exception:
        return ""


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A scratch database on the server, dropped afterwards."""
    name = f"booking_bench_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(sql))
        finally:
            await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Measuring -------------------------------------------------------------------------------------


def measure(url: str, headers: dict[str, str] | None = None) -> tuple[wrk.Result, wrk.Result]:
    """Warm up, then (latency on one connection, throughput on wrk.CONNECTIONS)."""
    wrk.run(url, seconds=wrk.WARMUP_S, headers=headers)
    latency = wrk.run(url, seconds=wrk.LATENCY_S, connections=1, headers=headers)
    return latency, wrk.run(url, headers=headers)


def probe(url: str, headers: dict[str, str] | None = None) -> str:
    """Empty if the path answers 200, else why it cannot be measured."""
    try:
        response = httpx.get(url, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        return f"not measured: {exc}"
    return "" if response.status_code == 200 else f"not measured: HTTP {response.status_code}"


def write_slots(path: Path, slots: list[seed.Span]) -> None:
    z = "%Y-%m-%dT%H:%M:%SZ"
    path.write_text("".join(f"{s.strftime(z)} {e.strftime(z)}\n" for s, e in slots))


def measure_app(
    label: str, url: str, work: Path, today: date, taken: list[seed.Span], calendar_note: str = ""
) -> tuple[list[Row], list[tuple[str, int, int]], list[first_slot.Timing]]:
    env = {
        "DATABASE_URL": url,
        "VAR_DIR": str(work),
        "SECRET_KEYS": "bench-secret-key-0123456789",
        "BOOK_RATE_LIMIT": "1000000/minute",
        "SLOT_RATE_LIMIT": "1000000/minute",
        "REDIS_URL": "",
        "TRUSTED_PROXIES": "",
        "RUN_WORKER": "0",
        "DEMO": "0",
    }
    first = today + timedelta(days=1)
    day = today + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    gets = [
        (
            "Slots JSON, 31 days",
            f"/api/public/scheduling/{seed.HOST}/{seed.EVENT}/slots?dateFrom={first}"
            f"&dateTo={first + timedelta(days=30)}&timezone=America/New_York",
            None,
        ),
        (
            "Slot list fragment (htmx), 1 day",
            f"/{seed.HOST}/{seed.EVENT}/slots?date={day}&tz=America/New_York",
            {"HX-Request": "true"},
        ),
        # With the zone in the address, as embed.js sends it: the whole page with its times (a
        # first visit without it gets a light page that fetches them, see bench/first_slot.py).
        ("Booking page", f"/{seed.HOST}/{seed.EVENT}?tz=America/New_York", None),
        (
            CALENDAR_ROW,
            f"/api/public/scheduling/{calendars.HOST}/{calendars.EVENT}/slots?dateFrom={first}"
            f"&dateTo={first + timedelta(days=30)}&timezone=America/New_York",
            None,
        ),
    ]
    rows: list[Row] = []
    page_weight: list[tuple[str, int, int]] = []
    slot_times: list[first_slot.Timing] = []
    log = work / f"server-{label.lower()}.log"
    with uvicorn("app.asgi:app_from_env", env, log, factory=True) as base:
        for scenario, path, headers in gets:
            note = probe(base + path, headers)
            print(f"  {label}: {scenario} {note}", flush=True)
            row = Row(
                scenario, label, note=note or (calendar_note if scenario == CALENDAR_ROW else "")
            )
            if not note:
                row.latency, row.load = measure(base + path, headers)
            rows.append(row)
        if not probe(base + gets[2][1]):
            page_weight = weight.first_load(base + gets[2][1])
            print(f"  {label}: first visible slot in Chromium", flush=True)
            slot_times = first_slot.measure(base + f"/{seed.HOST}/{seed.EVENT}")

        print(f"  {label}: Create booking", flush=True)
        rows.append(measure_booking(base, url, work, today, taken, label))
    return rows, page_weight, slot_times


def measure_booking(
    base: str, url: str, work: Path, today: date, taken: list[seed.Span], label: str
) -> Row:
    """POST bookings, each for a slot nobody asked for before (warm-up, latency, load)."""
    slots = seed.free_quick_slots(today, taken, sum(SLOTS_PER_RUN))
    path = f"/api/public/scheduling/{seed.HOST}/{seed.QUICK}/book"
    results = []
    first = 0
    for name, count, seconds, connections in zip(
        ("warmup", "latency", "load"),
        SLOTS_PER_RUN,
        (wrk.WARMUP_S, wrk.LATENCY_S, wrk.DURATION_S),
        (wrk.CONNECTIONS, 1, wrk.CONNECTIONS),
        strict=True,
    ):
        slot_file = work / f"slots-{name}.txt"
        write_slots(slot_file, slots[first : first + count])
        first += count
        args = (str(slot_file), path, str(wrk.THREADS))
        results.append(
            wrk.run(
                base + path,
                seconds=seconds,
                connections=connections,
                script="book.lua",
                script_args=args,
            )
        )
    overlaps = asyncio.run(_scalar(url, OVERLAPS))
    note = f"held bookings that overlap another after the run: {overlaps}"
    return Row("Create booking (distinct slots)", label, results[1], results[2], note)


def measure_hello(work: Path) -> tuple[wrk.Result, wrk.Result]:
    with uvicorn("bench.hello:app", {}, work / "server-hello.log", factory=False) as base:
        return measure(base + "/")


# Report ----------------------------------------------------------------------------------------


def ratio(value: float, ceiling: float) -> str:
    return f"{100 * value / ceiling:.1f}%" if ceiling else "-"


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min)"


def report(
    about: list[tuple[str, str]],
    hello: tuple[wrk.Result, wrk.Result],
    raw_tps: float,
    rows: list[Row],
    page_weight: list[tuple[str, int, int]],
    slot_times: list[tuple[str, first_slot.Timing]],
) -> str:
    hello_latency, hello_load = hello
    lines = ["# Benchmark results", ""]
    lines += ["Written by `make bench` (`python -m bench.run`), which prints it too.", ""]
    lines += ["| Machine | |", "|---|---|", *(f"| {k} | {v} |" for k, v in about), ""]
    lines += [
        f"Load: wrk against one uvicorn worker (access log off, booking and slot rate limits lifted, "
        f"outbox worker off: bookings only record their event, which a `booking worker` "
        f"process renders and sends). "
        f"Latency: 1 connection for {wrk.LATENCY_S} s, so p50/p99 are a request's own time. "
        f"Throughput: {wrk.CONNECTIONS} connections for {wrk.DURATION_S} s (wrk is closed-loop: "
        f"its p99 there includes queueing behind the other connections). Each path is warmed "
        f"up for {wrk.WARMUP_S} s first.",
        "",
        "## Ceilings on this machine",
        "",
        "| Ceiling | Throughput | p50 ms (1 conn) | p99 ms (1 conn) |",
        "|---|---:|---:|---:|",
        f"| Bare Litestar hello-world (bench/hello.py) | {hello_load.rps:,.0f} req/s "
        f"| {hello_latency.p50_ms:.2f} | {hello_latency.p99_ms:.2f} |",
        "| Plain sqlite3, WAL: BEGIN IMMEDIATE + overlap SELECT + INSERT + COMMIT "
        f"| {raw_tps:,.0f} tx/s | | |",
        "",
        "## The app",
        "",
        f"| Path | Database | p50 ms (1 conn) | p99 ms (1 conn) | req/s ({wrk.CONNECTIONS} conn) "
        f"| p99 ms ({wrk.CONNECTIONS} conn) | non-2xx | req/s vs hello-world "
        "| req/s vs raw SQLite |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for row in rows:
        if row.latency is None or row.load is None:
            lines.append(f"| {row.scenario} | {row.database} | - | - | - | - | - | - | - |")
        else:
            a, b = row.latency, row.load
            errors = a.non_2xx + a.socket_errors + b.non_2xx + b.socket_errors
            versus_raw = ratio(b.rps, raw_tps) if row.scenario.startswith("Create") else ""
            lines.append(
                f"| {row.scenario} | {row.database} | {a.p50_ms:.2f} | {a.p99_ms:.2f} "
                f"| {b.rps:,.0f} | {b.p99_ms:.2f} | {errors} | {ratio(b.rps, hello_load.rps)} "
                f"| {versus_raw} |"
            )
        if row.note:
            notes.append(f"- {row.scenario}, {row.database}: {row.note}")
    lines += ["", *notes, ""]
    lines += ["## Booking page, first load with `Accept-Encoding: gzip`", ""]
    if page_weight:
        lines += ["| Resource | Bytes on the wire | Unpacked |", "|---|---:|---:|"]
        lines += [f"| `{path}` | {wire:,} | {raw:,} |" for path, wire, raw in page_weight]
        total_wire = sum(w for _, w, _ in page_weight)
        total_raw = sum(r for _, _, r in page_weight)
        lines += [f"| **Total** | **{total_wire:,}** | {total_raw:,} |", ""]
    else:
        lines += ["Not measured: the booking page did not answer 200.", ""]
    lines += [
        "## First visible slot in a real browser",
        "",
        f"Chromium, {first_slot.RUNS} cold first visits each (new context: empty cache), the booking "
        "page framed by a page on another origin; from that page's navigation start to the first "
        "slot painted in the frame (bench/first_slot.py).",
        "",
        "| Way in | Database | median ms | p90 ms | min ms |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [
        f"| {t.scenario} | {database} | {t.median:.0f} | {t.p90:.0f} | {min(t.samples):.0f} |"
        for database, t in slot_times
    ]
    if not slot_times:
        lines += ["| not measured | | | | |"]
    return "\n".join([*lines, ""])


def main() -> None:
    if not wrk.available():
        sys.exit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    today = datetime.now(UTC).date()
    pg_server = postgres_server()
    about = machine.describe(postgres_version(pg_server), wrk.version())
    about.append(("Load average at start", load_average()))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="booking-bench-") as tmp:
        work = Path(tmp)
        print("ceiling: hello-world", flush=True)
        hello = measure_hello(work)

        print("SQLite: seeding", flush=True)
        sqlite_dir = work / "sqlite"
        sqlite_dir.mkdir()
        sqlite_url = f"sqlite+aiosqlite:///{sqlite_dir / 'bench.db'}"
        upgrade(sqlite_url)
        taken = asyncio.run(_seed(sqlite_url, today))
        print("ceiling: raw SQLite", flush=True)
        raw_tps = raw_sqlite.transactions_per_second(
            sqlite_dir / "bench.db", seed.QUICK, seed.free_quick_slots(today, taken, 30000)
        )
        print("SQLite: syncing the calendars of the busy host", flush=True)
        calendar_note = asyncio.run(calendars.seed(sqlite_url, today))
        sqlite_rows, page_weight, times = measure_app(
            "SQLite", sqlite_url, sqlite_dir, today, taken, calendar_note
        )
        rows += sqlite_rows
        slot_times = [("SQLite", t) for t in times]

        if dict(about)["PostgreSQL"] == "not reachable":
            rows.append(Row("All paths", "PostgreSQL", note=f"not reachable at {pg_server}"))
        else:
            print("PostgreSQL: seeding", flush=True)
            pg_dir = work / "postgresql"
            pg_dir.mkdir()
            with postgres_database(pg_server) as pg_url:
                upgrade(pg_url)
                taken = asyncio.run(_seed(pg_url, today))
                calendar_note = asyncio.run(calendars.seed(pg_url, today))
                pg_rows, _, times = measure_app(
                    "PostgreSQL", pg_url, pg_dir, today, taken, calendar_note
                )
                rows += pg_rows
                slot_times += [("PostgreSQL", t) for t in times]
    about.append(("Load average at end", load_average()))

    text_out = report(about, hello, raw_tps, rows, page_weight, slot_times)
    RESULTS.write_text(text_out)
    print(text_out)


if __name__ == "__main__":
    main()
