"""``booking serve`` as a process manager runs it: refuses to start on a bad footing with one line,
drains on SIGTERM without losing a booking and exits 0, and says whether it is ready."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import select, text

from app.cli import main
from app.db.migrate import check_database, upgrade
from app.db.models import Booking, OutboxMessage
from app.main import create_app
from app.notify.events import EVENT_KIND
from app.settings import Settings
from serving import BOOKING, TcpGate, booking_env, booking_serve, slot_body
from support import make_settings, with_session

pytestmark = pytest.mark.xdist_group("servers")

BOOK = "/api/public/scheduling/demo/30min/book"
CLOSED_PORT_URL = "postgresql+asyncpg://booking:s3cret@127.0.0.1:9/booking"  # discard: refused


def serve_once(settings: Settings, **env: str):  # type: ignore[no-untyped-def]
    """``booking serve`` in-process: fine for the refusals, which happen before uvicorn starts."""
    return CliRunner().invoke(main, ["serve"], env=booking_env(settings, **env))


def refused(result) -> str:  # type: ignore[no-untyped-def]
    """The one line ``booking serve`` printed before exiting 1."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("booking: not starting: ")
    return lines[0]


# Refusing to start ------------------------------------------------------------------------------


def test_refuses_a_sqlite_file_that_does_not_exist(tmp_path: Path):
    settings = make_settings(tmp_path)
    line = refused(serve_once(settings))
    assert "does not exist: run `booking migrate`" in line
    assert not (tmp_path / "test.db").exists()  # and did not create an empty one


def test_refuses_a_database_behind_this_release(tmp_path: Path):
    settings = make_settings(tmp_path)
    upgrade(settings.database_url, "0002")
    line = refused(serve_once(settings))
    assert "the database is at revision 0002, this release needs" in line
    assert "run `booking migrate`" in line


def test_a_database_ahead_of_this_release_only_gets_a_warning(settings: Settings):
    """Migrated first by a newer release (an additive upgrade, or a rollback): keep serving."""
    ahead = "9999_from_a_newer_release"
    with_session(settings.database_url, set_revision(ahead))
    check = check_database(settings.database_url)
    assert check.problem is None
    assert f"the database is at revision {ahead}, newer than this release" in str(check.warning)
    with TestClient(app=create_app(settings)) as client:
        assert client.get("/readyz").json() == {"status": "ready"}


def set_revision(revision: str):  # type: ignore[no-untyped-def]
    async def work(session):  # type: ignore[no-untyped-def]
        await session.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        await session.commit()

    return work


def test_refuses_a_database_it_cannot_reach_without_showing_the_password(tmp_path: Path):
    settings = make_settings(tmp_path, database_url=CLOSED_PORT_URL)
    line = refused(serve_once(settings))
    assert "cannot reach the database postgresql+asyncpg://booking:***@127.0.0.1:9/booking" in line
    assert "s3cret" not in line


def test_migrate_says_in_one_line_that_it_cannot_reach_the_database(tmp_path: Path):
    settings = make_settings(tmp_path, database_url=CLOSED_PORT_URL)
    result = CliRunner().invoke(main, ["migrate"], env=booking_env(settings))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "booking: not migrating: cannot reach the database"
        " postgresql+asyncpg://booking:***@127.0.0.1:9/booking"
    )
    assert result.stderr.count("\n") == 1


def test_refuses_an_https_public_url_with_a_generated_secret_key(settings: Settings):
    env = booking_env(settings, PUBLIC_URL="https://book.example.com")
    del env["SECRET_KEYS"]
    line = refused(CliRunner().invoke(main, ["serve"], env=env))
    assert "SECRET_KEYS is not set" in line


def test_a_generated_key_is_refused_only_behind_https(tmp_path: Path):
    def reason(**env: str) -> str | None:
        return Settings.from_env({"VAR_DIR": str(tmp_path), **env}).insecure_reason()

    assert reason(PUBLIC_URL="http://127.0.0.1:8000") is None  # a laptop
    assert reason(PUBLIC_URL="https://book.example.com", SECRET_KEYS="chosen-key") is None
    assert "SECRET_KEYS" in str(reason(PUBLIC_URL="https://book.example.com"))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "TRUSTED_PROXIES",
            "10.0.0.0/8,proxy.local",
            "TRUSTED_PROXIES: 'proxy.local' is not an IP address or network (such as 10.0.0.0/8)",
        ),
        ("PORT", "http", "PORT must be a port number (1-65535), not 'http'"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be one of text, json, not 'xml'"),
    ],
)
def test_a_setting_that_cannot_be_read_is_named(settings: Settings, name, value, message):
    result = CliRunner().invoke(main, ["serve"], env=booking_env(settings, **{name: value}))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"booking: {message}"


def test_booking_worker_stops_on_sigterm_with_status_0(settings: Settings):
    worker = subprocess.Popen(
        [str(BOOKING), "worker", "--poll", "0.2"],
        env=booking_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().startswith("outbox worker and calendar sync running")
    time.sleep(1)  # polling the outbox
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0, worker.stdout.read()


# Health and readiness ---------------------------------------------------------------------------


def test_readyz_waits_for_the_migration_and_healthz_does_not(tmp_path: Path):
    settings = make_settings(tmp_path)
    upgrade(settings.database_url, "0002")
    with TestClient(app=create_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json() == {
            "status": "not ready",
            "reason": "database not migrated to this release",
        }
        assert not_ready.headers["retry-after"] == "5"
        assert not_ready.headers["cache-control"] == "no-store"

        upgrade(settings.database_url)  # `booking migrate` while the server runs
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready"}


def test_readyz_follows_a_postgresql_outage_and_recovery(pg_url: str, tmp_path: Path):
    host, port = "127.0.0.1", 5432
    gate = TcpGate(host, port)
    gate.open()
    gated_url = pg_url.replace(f"{host}:{port}", f"127.0.0.1:{gate.port}")
    settings = make_settings(tmp_path, database_url=gated_url)
    try:
        with TestClient(app=create_app(settings)) as client:
            assert client.get("/readyz").status_code == 200
            gate.close()  # PostgreSQL now refuses connections and the pooled ones are cut
            down = client.get("/readyz")
            assert down.status_code == 503
            assert down.json() == {"status": "not ready", "reason": "database unreachable"}
            assert client.get("/healthz").status_code == 200  # alive, only not ready
            gate.open()
            assert client.get("/readyz").status_code == 200
    finally:
        gate.stop()


# SIGTERM during a burst of bookings -------------------------------------------------------------


@dataclass
class Outcome:
    status: int | None  # None: no answer (the server had stopped listening)
    uid: str | None
    answered_at: float


def slots() -> itertools.count[int]:
    return itertools.count()


def guests(url: str, outcomes: list[Outcome], stop: threading.Event, count: int) -> None:
    """``count`` guests booking one after another, each on a new connection, until told to stop
    or the server stops answering."""
    numbers = slots()
    lock = threading.Lock()

    def guest() -> None:
        while not stop.is_set():
            with lock:
                i = next(numbers)
            try:
                response = httpx.post(url + BOOK, json=slot_body(i), timeout=60)
            except httpx.TransportError:
                outcomes.append(Outcome(None, None, time.monotonic()))
                return
            uid = response.json().get("id") if response.status_code == 201 else None
            outcomes.append(Outcome(response.status_code, uid, time.monotonic()))

    threads = [threading.Thread(target=guest) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def stored(database_url: str) -> tuple[set[str], set[str], int]:
    """Uids of the bookings, of the bookings with a recorded event (their notifications), and how
    many outbox rows are still claimed by a worker."""

    async def work(session):  # type: ignore[no-untyped-def]
        uids = set((await session.scalars(select(Booking.uid))).all())
        events = select(OutboxMessage.booking_uid).where(OutboxMessage.kind == EVENT_KIND)
        claimed = select(OutboxMessage.id).where(OutboxMessage.locked_until.is_not(None))
        return (
            uids,
            set((await session.scalars(events)).all()),
            len((await session.scalars(claimed)).all()),
        )

    return with_session(database_url, work)  # type: ignore[no-any-return]


def cancelled_query(entry: dict[str, str]) -> bool:
    """SQLAlchemy's report of a connection whose reset was interrupted by a cancellation.

    At shutdown the outbox worker's task is cancelled (app/notify/worker.py), sometimes inside a
    query; it then gives its rows back (checked above), but SQLAlchemy reports the interrupted
    connection as an error line. Drop this exception once the worker stops between queries."""
    return entry["logger"].startswith("sqlalchemy.pool") and "CancelledError" in entry.get(
        "exception", ""
    )


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_sigterm_during_a_burst_of_bookings_drains_loses_none_and_exits_0(
    database: str, settings: Settings, request: pytest.FixtureRequest
):
    if database == "postgresql":
        settings = replace(settings, database_url=request.getfixturevalue("pg_url"))
    settings = replace(settings, run_worker=True)
    outcomes: list[Outcome] = []
    stop = threading.Event()
    with booking_serve(settings, "--workers", "2", LOG_FORMAT="json") as served:
        burst = threading.Thread(target=guests, args=(served.url, outcomes, stop, 8))
        burst.start()
        while sum(o.status == 201 for o in outcomes) < 20 and burst.is_alive():
            time.sleep(0.01)
        signalled_at = time.monotonic()
        served.process.send_signal(signal.SIGTERM)
        exit_code = served.process.wait(timeout=90)
        stop.set()
        burst.join(timeout=120)
        log = served.log.read_text()

    assert exit_code == 0, log
    assert {o.status for o in outcomes} <= {201, None}, [o.status for o in outcomes]
    acknowledged = {o.uid for o in outcomes if o.status == 201}
    # Requests in flight when the signal came were answered, not cut off.
    assert any(o.status == 201 and o.answered_at > signalled_at for o in outcomes)
    uids, with_events, still_claimed = stored(settings.database_url)
    assert uids == acknowledged  # none lost, none made behind a guest's back
    assert with_events >= uids  # each with its event, for its emails and webhooks
    assert still_claimed == 0  # the outbox workers gave back what they had not delivered
    assert [line for line in log.splitlines() if not line.startswith("{")] == [], log
    lines = [json.loads(line) for line in log.splitlines()]  # LOG_FORMAT=json, every line
    errors = [e for e in lines if e["level"] not in ("info", "warning") and not cancelled_query(e)]
    assert errors == [], log
    assert "Finished server process" in log
