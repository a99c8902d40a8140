"""The durable outbox: a booking records one event that the worker expands (once) into its emails
and webhook calls; emails over a real SMTP server with their .ics, retries and giving up, a worker
process killed mid-delivery, and concurrent workers never sending a message twice."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar
from litestar.testing import TestClient
from sqlalchemy import delete as sql_delete
from sqlalchemy import event, select

from app import clock
from app.db.models import Booking, OutboxMessage
from app.db.session import create_engine, create_sessionmaker
from app.main import create_app
from app.notify.events import EVENT_KIND, expand_booking_event, record_booking_event
from app.notify.timed import is_timed
from app.notify.worker import MAX_ATTEMPTS, OutboxWorker, WorkerOptions
from app.settings import ROOT
from support import (
    book,
    demo_slot,
    free_port,
    make_settings,
    next_weekday,
    outbox,
    run,
    subscribe,
    with_session,
)

pytest_plugins = ("receivers",)


@pytest.fixture
def settings(settings):
    """The receivers listen on 127.0.0.1: let the server call private addresses."""
    return dataclasses.replace(settings, allow_private_urls=True)


BASE = "/api/public/scheduling"


def rows(settings, kind: str | None = None) -> list[OutboxMessage]:
    """The outbox exactly as the worker left it (these tests expand the booking events
    themselves), without the time-driven events a booking also plans (meeting start and end,
    days ahead here), which have their own tests (test_timed_events.py)."""
    return [r for r in outbox(settings, kind, expand=False) if not is_timed(r.payload)]


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
        "ALLOW_PRIVATE_URLS": "1",
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
    expand,
):
    """Kill -9 while a webhook is blocked in the receiver, restart, and count what arrived.

    The messages in flight were received but not acknowledged when the worker died, so they come
    again with the same delivery id (at least once): deduped by id, everything arrived once.
    Messages acknowledged before the kill are never sent again.
    """
    mailbox, smtp_url = smtp
    receiver.hold_nth = 2

    with TestClient(app=create_app(settings)) as client:
        from click.testing import CliRunner

        from app.cli import main as cli

        env = {
            "DATABASE_URL": settings.database_url,
            "VAR_DIR": str(settings.var_dir),
            "SECRET_KEYS": ",".join(settings.secret_keys),
            "ALLOW_PRIVATE_URLS": "1",
        }
        result = CliRunner().invoke(
            cli, ["create-webhook", "demo", receiver.url, "--triggers", "BOOKING_CREATED"], env=env
        )
        assert result.exit_code == 0, result.output
        for hour, email in ((9, "a@example.com"), (10, "b@example.com"), (11, "c@example.com")):
            book(client, hour=hour, inviteeEmail=email)
    assert expand(settings) == 3
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
    # The ones in flight at the kill (received, not yet recorded: up to two at once to one
    # receiver) came twice; nothing acknowledged was sent again.
    resent = {i for i, n in hooks.items() if n == 2}
    assert resent and set(hooks.values()) <= {1, 2}
    assert not resent & delivered_before
    mails = Counter(outbox_id(m) for m in mailbox.messages)
    assert set(mails) == email_ids and set(mails.values()) <= {1, 2}
    assert not {i for i, n in mails.items() if n == 2} & delivered_before


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_workers_never_send_one_message_twice(
    request, tmp_path, settings, receiver, backend
):
    """Three workers drain one outbox at once (leases; on PostgreSQL also SKIP LOCKED).

    They start from the booking events alone, so they also expand them concurrently.
    """
    if backend == "postgresql":
        settings = make_settings(
            tmp_path, database_url=request.getfixturevalue("pg_url"), allow_private_urls=True
        )

    subscribe(settings, receiver.url)
    with TestClient(app=create_app(settings)) as client:
        for hour in range(9, 16):
            book(client, hour=hour, inviteeEmail=f"guest{hour}@example.com")

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
    events = rows(settings, EVENT_KIND)
    assert len(events) == 7 and all(r.delivered_at and r.attempts == 1 for r in events)


# Booking events: recorded by the booking, expanded into messages by the worker ----------------


def test_a_booking_records_one_event_and_no_messages(client, settings):
    """The booking's transaction writes one compact event row; the emails wait for the worker."""
    before = clock.utcnow()
    created = book(client)
    assert rows(settings) == []
    [recorded] = rows(settings, EVENT_KIND)
    assert recorded.booking_uid == created["id"]
    assert recorded.delivered_at is None and recorded.attempts == 0
    at = datetime.fromisoformat(recorded.payload.pop("at"))
    assert before <= at <= clock.utcnow()
    assert recorded.payload == {
        "trigger": "BOOKING_CREATED",
        "previousUid": None,
        "by": "guest",  # the public booking endpoint is the guest's door
        "status": "Confirmed",
        "version": 1,
        "sequence": 0,
        "cancellationReason": "",
        "reschedulingReason": "",
        "declineReason": "",
        "absentHost": False,
        "absentAttendees": [],
    }

    start, end = demo_slot(next_weekday(), 12)
    moved = client.post(
        f"{BASE}/bookings/{created['rescheduleToken']}/reschedule",
        json={"startTime": start, "endTime": end, "reschedulingReason": "Clash"},
    ).json()
    [_, rescheduled] = rows(settings, EVENT_KIND)
    assert rescheduled.booking_uid == moved["id"]
    assert rescheduled.payload["trigger"] == "BOOKING_RESCHEDULED"
    assert rescheduled.payload["previousUid"] == created["id"]
    assert rescheduled.payload["sequence"] == 2  # the old booking was at 1 after its move
    assert rescheduled.payload["reschedulingReason"] == "Clash"
    assert rows(settings) == []


def test_recording_an_event_runs_no_statement(client, settings):
    """No query and no flush inside the booking's transaction: the row is written at the commit."""
    created = book(client)

    async def work(session):
        booking = await session.scalar(select(Booking).where(Booking.uid == created["id"]))
        statements: list[str] = []

        def count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            await record_booking_event(session, booking, "BOOKING_CANCELLED")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert statements == []
        assert [m.kind for m in session.new] == [EVENT_KIND]
        with pytest.raises(ValueError):
            await record_booking_event(session, booking, "BOOKING_EXPLODED")
        await session.rollback()

    with_session(settings.database_url, work)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_event_is_expanded_once_into_emails_and_subscribed_webhooks(
    request, tmp_path, settings, backend, expand
):
    """Two expansions of one event at once (as after an expired lease): one wins, one writes
    nothing; later runs find nothing to do."""
    if backend == "postgresql":
        settings = make_settings(
            tmp_path, database_url=request.getfixturevalue("pg_url"), allow_private_urls=True
        )

    subscribe(settings, "http://127.0.0.1:9/a", ("BOOKING_CREATED",))
    subscribe(settings, "http://127.0.0.1:9/b", ("BOOKING_CANCELLED",))
    subscribe(settings, "http://127.0.0.1:9/c", ("BOOKING_CREATED",), active=False)
    with TestClient(app=create_app(settings)) as client:
        created = book(client)
    [queued] = rows(settings, EVENT_KIND)

    async def expand_twice_at_once() -> list[bool]:
        engines = [create_engine(settings.database_url) for _ in range(2)]
        try:
            return await asyncio.gather(
                *(expand_booking_event(create_sessionmaker(e), settings, queued) for e in engines)
            )
        finally:
            for engine in engines:
                await engine.dispose()

    assert sorted(asyncio.run(expand_twice_at_once())) == [False, True]
    messages = rows(settings)
    assert sorted(m.kind for m in messages) == ["email", "email", "webhook"]
    assert {m.booking_uid for m in messages} == {created["id"]}
    assert {m.payload["to"] for m in messages if m.kind == "email"} == {
        "alex@example.com",
        "demo@example.com",
    }
    [hook] = [m for m in messages if m.kind == "webhook"]
    assert hook.payload["url"] == "http://127.0.0.1:9/a"
    at = datetime.fromisoformat(queued.payload["at"])
    # Cal.com's createdAt: toISOString(), to the millisecond.
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    assert json.loads(hook.payload["body"])["createdAt"] == stamp
    assert all(m.delivered_at is None and m.available_at <= clock.utcnow() for m in messages)
    [expanded] = rows(settings, EVENT_KIND)
    assert expanded.delivered_at is not None and expanded.attempts == 1
    assert expanded.last_error == "" and expanded.locked_until is None

    assert expand(settings) == 0
    assert len(rows(settings)) == 3


def test_a_booking_cancelled_before_the_worker_ran_is_announced_as_created_first(
    settings, smtp, receiver, drain
):
    """The "created" messages describe the booking as it was created (links, invite, webhook
    body), not as the worker finds it; the "cancelled" ones follow."""
    mailbox, smtp_url = smtp
    settings = dataclasses.replace(settings, smtp_url=smtp_url)

    subscribe(settings, receiver.url, ("BOOKING_CREATED", "BOOKING_CANCELLED"))
    with TestClient(app=create_app(settings)) as client:
        created = book(client)
        cancel = client.post(
            f"{BASE}/bookings/{created['cancelToken']}/cancel",
            json={"cancellationReason": "Changed my mind"},
        )
        assert cancel.status_code == 200, cancel.text
        assert rows(settings) == [] and len(rows(settings, EVENT_KIND)) == 2

        assert drain(settings) == 6
        welcome, goodbye = mailbox.to("alex@example.com")
        assert welcome["Subject"].startswith("Confirmed: 30 minute meeting")
        method, calendar = invite_of(welcome)
        [vevent] = calendar.walk("VEVENT")
        assert method == "REQUEST" and str(vevent["STATUS"]) == "CONFIRMED"
        assert int(vevent["SEQUENCE"]) == 0
        assert vevent["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
        # Its links were made for the booking as created: the cancel link is the one the booking
        # response gave, now spent.
        html = welcome.get_body(("html",)).get_content()
        assert f"/booking/{created['cancelToken']}/cancel" in html
        assert client.post(f"/booking/{created['cancelToken']}/cancel", data={}).status_code == 409

        assert goodbye["Subject"].startswith("Cancelled: 30 minute meeting")
        method, calendar = invite_of(goodbye)
        [vevent] = calendar.walk("VEVENT")
        assert method == "CANCEL" and int(vevent["SEQUENCE"]) == 1
        assert "/cancel" not in goodbye.get_body(("html",)).get_content()

    first, second = (hook.json for hook in receiver.hooks)
    assert first["triggerEvent"] == "BOOKING_CREATED"
    assert first["payload"]["status"] == "ACCEPTED"  # Cal.com's status words
    assert "cancellationReason" not in first["payload"]  # only the cancellation says why
    assert second["triggerEvent"] == "BOOKING_CANCELLED"
    assert second["payload"]["status"] == "CANCELLED"
    assert second["payload"]["cancellationReason"] == "Changed my mind"
    assert first["createdAt"] <= second["createdAt"]

    async def stored(session):
        booking = await session.scalar(select(Booking).where(Booking.uid == created["id"]))
        return booking.status, booking.version, booking.sequence

    # The snapshot was put on a detached copy: the booking itself was never written back.
    assert with_session(settings.database_url, stored) == ("Cancelled", 2, 1)


def test_an_event_whose_booking_is_gone_sends_nothing(client, settings, expand):
    created = book(client)

    async def delete(session):
        await session.execute(sql_delete(Booking).where(Booking.uid == created["id"]))
        await session.commit()

    with_session(settings.database_url, delete)
    assert expand(settings) == 1
    [gone] = rows(settings, EVENT_KIND)
    assert gone.delivered_at is not None and "no longer exists" in gone.last_error
    assert rows(settings) == []


def test_a_failed_expansion_is_retried_with_backoff(client, settings, expand):
    book(client)
    keyless = dataclasses.replace(settings, secret_keys=())  # links cannot be signed
    assert expand(keyless) == 1
    [failed] = rows(settings, EVENT_KIND)
    assert failed.delivered_at is None and failed.attempts == 1
    assert "SECRET_KEYS" in failed.last_error and failed.locked_until is None
    assert rows(settings) == []
    assert expand(settings) == 0  # waiting for the backoff
    clock.set_offset(timedelta(seconds=11))
    assert expand(settings) == 1
    [expanded] = rows(settings, EVENT_KIND)
    assert expanded.delivered_at is not None and expanded.attempts == 2
    assert len(rows(settings)) == 2


def test_the_worker_sends_what_it_expanded_without_waiting_for_the_next_poll(client, settings):
    """After a turn that expanded an event, the worker polls again at once: the new emails are due
    immediately, so they go out long before the next poll (60 s here)."""
    book(client)

    async def run() -> float:
        engine = create_engine(settings.database_url)
        sessionmaker = create_sessionmaker(engine)
        worker = OutboxWorker(settings, sessionmaker, WorkerOptions(poll_seconds=60))

        async def all_sent() -> bool:
            async with sessionmaker() as session:
                found = [m for m in await session.scalars(select(OutboxMessage))]
            found = [m for m in found if not is_timed(m.payload)]  # the meeting's are days ahead
            return len(found) == 3 and all(m.delivered_at for m in found)

        task = asyncio.create_task(worker.run_forever())
        started = time.monotonic()
        try:
            while not await all_sent():
                assert time.monotonic() - started < 20, "the emails were not sent"
                await asyncio.sleep(0.05)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await engine.dispose()
        return time.monotonic() - started

    assert asyncio.run(run()) < 20


def test_a_booking_s_messages_reach_each_reader_in_order(settings):
    """Deliveries run side by side, yet a guest never gets "Cancelled" before "Confirmed": a
    claim leaves a message alone while an earlier one of its booking to the same reader is
    undelivered, and the events themselves are expanded one after the other."""
    with TestClient(app=create_app(settings)) as client:
        created = book(client)
        cancel = client.post(f"{BASE}/bookings/{created['cancelToken']}/cancel", json={})
        assert cancel.status_code == 200, cancel.text

    async def go() -> tuple[list[list[str]], list[str]]:
        engine = create_engine(settings.database_url)
        try:
            worker = OutboxWorker(settings, create_sessionmaker(engine))
            rounds = []
            while events := await worker.claim(clock.utcnow(), kinds=(EVENT_KIND,)):
                rounds.append([event.payload["trigger"] for event in events])
                for event in events:
                    await worker.attempt(event, worker.expand)
            emails = await worker.claim(clock.utcnow(), kinds=("email",))
            return rounds, sorted(m.payload["trigger"] for m in emails)
        finally:
            await engine.dispose()

    rounds, claimed = run(go())
    assert rounds == [["BOOKING_CREATED"], ["BOOKING_CANCELLED"]]
    # The guest's and the host's "Confirmed" go out together; each one's "Cancelled" waits.
    assert claimed == ["BOOKING_CREATED", "BOOKING_CREATED"]
