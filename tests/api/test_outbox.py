"""The durable outbox: emails over a real SMTP server with their .ics, retries and giving up,
a worker process killed mid-delivery, and concurrent workers never sending a message twice."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from icalendar import Calendar
from litestar.testing import TestClient
from sqlalchemy import select

from app import clock
from app.db.models import OutboxMessage
from app.db.session import create_engine, create_sessionmaker
from app.main import create_app
from app.notify.webhooks import create_webhook
from app.notify.worker import MAX_ATTEMPTS, OutboxWorker, WorkerOptions
from app.settings import ROOT
from support import (
    booking_body,
    demo_slot,
    free_port,
    make_settings,
    next_weekday,
    with_session,
)

pytest_plugins = ("receivers",)
BASE = "/api/public/scheduling"


@pytest.fixture(autouse=True)
def reset_clock():
    yield
    clock.set_offset(timedelta(0))


def rows(settings) -> list[OutboxMessage]:
    async def work(session):
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    return with_session(settings.database_url, work)


def book(client, hour: int = 10, email: str = "alex@example.com") -> dict:
    start, end = demo_slot(next_weekday(), hour)
    body = booking_body(start, end, inviteeEmail=email)
    response = client.post(f"{BASE}/demo/30min/book", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def outbox_id(message) -> str:
    """The outbox message id of a Message-ID header (``<msg_xyz@domain>``)."""
    return re.search(r"(msg_[A-Za-z0-9]+)@", message["Message-ID"]).group(1)


def invite_of(message) -> tuple[str, Calendar]:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return part.get_param("method"), Calendar.from_ical(part.get_content())


def test_emails_arrive_over_smtp_with_the_invite(settings, smtp, drain):
    mailbox, smtp_url = smtp
    settings = dataclasses.replace(settings, smtp_url=smtp_url)
    with TestClient(app=create_app(settings)) as client:
        created = book(client)
        assert drain(settings) == 2
        [guest] = mailbox.to("alex@example.com")
        [host] = mailbox.to("demo@example.com")
        assert guest["Subject"].startswith("Confirmed: 30 minute meeting")
        assert guest.get_body(("plain",)) is not None and guest.get_body(("html",)) is not None
        html = guest.get_body(("html",)).get_content()
        cancel = re.search(r'href="http://testserver(/booking/[^"]+/cancel)"', html).group(1)

        method, calendar = invite_of(guest)
        [event] = calendar.walk("VEVENT")
        assert method == "REQUEST" and str(calendar["METHOD"]) == "REQUEST"
        uid = str(event["UID"])
        assert uid == f"{created['id']}@booking-widget" and int(event["SEQUENCE"]) == 0
        assert event["DTSTART"].dt.strftime("%Y-%m-%dT%H:%M:%SZ") == created["startTime"]
        assert event["DTEND"].dt.strftime("%Y-%m-%dT%H:%M:%SZ") == created["endTime"]

        assert {outbox_id(m) for m in mailbox.messages} == {r.message_id for r in rows(settings)}
        assert all(r.delivered_at and r.attempts == 1 for r in rows(settings))

        assert client.post(cancel, data={}).status_code == 200
        drain(settings)
        [cancelled] = [m for m in mailbox.to("alex@example.com") if m is not guest]
        method, calendar = invite_of(cancelled)
        [event] = calendar.walk("VEVENT")
        assert method == "CANCEL" and str(calendar["METHOD"]) == "CANCEL"
        assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 1
        assert host["Subject"].startswith("New booking")


def test_message_id_header_carries_the_outbox_id(settings, smtp, drain):
    mailbox, smtp_url = smtp
    settings = dataclasses.replace(settings, smtp_url=smtp_url)
    with TestClient(app=create_app(settings)) as client:
        book(client)
    drain(settings)
    sent = sorted(m["Message-ID"] for m in mailbox.messages)
    assert sent == sorted(f"<{r.message_id}@localhost>" for r in rows(settings))
    assert len(sent) == 2  # the same id on any resend: a receiver can dedupe


def test_smtp_down_retries_with_backoff_then_gives_up(settings, client, drain):
    book(client)
    down = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    drain(down, retry_base_seconds=10)
    first = rows(settings)
    assert all(r.attempts == 1 and r.delivered_at is None and r.last_error for r in first)
    assert drain(down, retry_base_seconds=10) == 0  # waiting for the backoff
    waited = timedelta(0)
    for attempt in range(2, MAX_ATTEMPTS + 1):
        waited += timedelta(seconds=10 * 2 ** (attempt - 2) + 1)
        clock.set_offset(waited)
        assert drain(down, retry_base_seconds=10) == 2
    assert all(r.attempts == MAX_ATTEMPTS and r.failed_at is not None for r in rows(settings))
    clock.set_offset(waited + timedelta(days=1))
    assert drain(down, retry_base_seconds=10) == 0  # given up: left alone


def test_without_smtp_emails_are_logged_and_kept(settings, client, caplog, drain):
    book(client)
    with caplog.at_level("INFO", logger="app.notify"):
        drain(settings)
    assert "Subject: Confirmed: 30 minute meeting" in caplog.text
    assert all(r.delivered_at is not None and r.payload["text"] for r in rows(settings))


def worker_process(settings, smtp_url: str, log) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
        "SECRET_KEYS": ",".join(settings.secret_keys),
        "SMTP_URL": smtp_url,
    }
    command = [sys.executable, "-m", "app.cli", "worker", "--poll", "0.1", "--lease", "2"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until(predicate, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_killed_worker_restarted_delivers_everything_once_per_message_id(
    settings,
    smtp,
    receiver,
):
    """Kill -9 while a webhook is blocked in the receiver, restart, and count what arrived.

    The message in flight was received but not acknowledged when the worker died, so it comes
    again with the same delivery id (at least once): deduped by id, everything arrived once.
    Messages acknowledged before the kill are never sent again.
    """
    mailbox, smtp_url = smtp
    receiver.hold_nth = 2

    with TestClient(app=create_app(settings)) as client:
        from click.testing import CliRunner

        from app.cli import main as cli

        env = {"DATABASE_URL": settings.database_url, "VAR_DIR": str(settings.var_dir)}
        result = CliRunner().invoke(
            cli, ["create-webhook", "demo", receiver.url, "--triggers", "BOOKING_CREATED"], env=env
        )
        assert result.exit_code == 0, result.output
        for hour, email in ((9, "a@example.com"), (10, "b@example.com"), (11, "c@example.com")):
            book(client, hour, email)
    queued = rows(settings)
    assert len(queued) == 9

    log = (settings.var_dir / "worker.log").open("w")
    first = worker_process(settings, smtp_url, log)
    try:
        assert receiver.holding.wait(20), "the second webhook never arrived"
        first.send_signal(signal.SIGKILL)
        first.wait(5)
    finally:
        if first.poll() is None:
            first.kill()
    receiver.release.set()
    delivered_before = {r.message_id for r in rows(settings) if r.delivered_at}
    assert len(delivered_before) < 9

    second = worker_process(settings, smtp_url, log)
    try:
        wait_until(lambda: all(r.delivered_at for r in rows(settings)), timeout=30)
    finally:
        second.terminate()
        second.wait(5)

    webhook_ids = {r.message_id for r in queued if r.kind == "webhook"}
    email_ids = {r.message_id for r in queued if r.kind == "email"}
    hooks = Counter(receiver.delivery_ids())
    assert set(hooks) == webhook_ids  # every webhook arrived
    assert sorted(hooks.values()) == [1, 1, 2]  # the one in flight at the kill came twice
    mails = Counter(outbox_id(m) for m in mailbox.messages)
    assert set(mails) == email_ids and set(mails.values()) == {1}
    resent = [i for i, n in hooks.items() if n == 2]
    assert resent[0] not in delivered_before  # nothing acknowledged was sent again


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_workers_never_send_one_message_twice(
    request, tmp_path, settings, receiver, backend
):
    """Three workers drain one outbox at once (leases; on PostgreSQL also SKIP LOCKED)."""
    if backend == "postgresql":
        settings = make_settings(tmp_path, database_url=request.getfixturevalue("pg_url"))

    async def subscribe(session):
        await create_webhook(session, "demo", receiver.url, ["BOOKING_CREATED"], "s")

    with_session(settings.database_url, subscribe)
    with TestClient(app=create_app(settings)) as client:
        for hour in range(9, 16):
            book(client, hour, f"guest{hour}@example.com")

    async def run_three() -> None:
        engines = [create_engine(settings.database_url) for _ in range(3)]
        workers = [
            OutboxWorker(settings, create_sessionmaker(e), WorkerOptions(batch=2)) for e in engines
        ]

        async def loop(worker: OutboxWorker) -> None:
            while await worker.run_once():
                pass

        try:
            await asyncio.gather(*(loop(w) for w in workers))
        finally:
            for engine in engines:
                await engine.dispose()

    asyncio.run(run_three())
    counts = Counter(receiver.delivery_ids())
    assert len(counts) == 7 and set(counts.values()) == {1}
    queued = rows(settings)
    assert len(queued) == 21 and all(r.delivered_at and r.attempts == 1 for r in queued)
