"""Time-driven events (app/notify/timed.py): MEETING_STARTED and MEETING_ENDED fire once, at the
meeting's start and end, across several workers; never for a booking cancelled or moved; a change
while one is due plans it again rather than losing it; other kinds (reminders) plug in."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import selectinload

from app import clock
from app.bookings import service
from app.db.models import EVENT_KIND, Booking, OutboxMessage
from app.db.session import create_engine, create_sessionmaker
from app.main import create_app
from app.notify import timed
from app.notify.events import record_booking_event
from app.notify.worker import OutboxWorker, WorkerOptions
from support import (
    booking_body,
    demo_slot,
    expand_outbox,
    make_settings,
    next_weekday,
    run,
    subscribe,
    with_session,
)

pytest_plugins = ("receivers",)
BASE = "/api/public/scheduling"
MEETING = [timed.MEETING_STARTED, timed.MEETING_ENDED]


@pytest.fixture
def settings(settings):
    """The receivers listen on 127.0.0.1, which webhooks may reach only with ALLOW_PRIVATE_URLS."""
    return dataclasses.replace(settings, allow_private_urls=True)


def book(client, hour: int, event: str = "30min", minutes: int = 30) -> str:
    start, end = demo_slot(next_weekday(), hour, minutes=minutes)
    body = booking_body(start, end, inviteeEmail=f"guest{hour}@example.com")
    if event == "intro":
        body["customFields"] = {"company": "Acme"}
    response = client.post(f"{BASE}/demo/{event}/book", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def timed_rows(
    settings, uid: str | None = None, triggers: list[str] | None = None
) -> list[OutboxMessage]:
    """The booking's timed rows, earliest first (only ``triggers`` if given: reminders are
    planned too, see tests/api/test_reminders.py)."""

    async def work(session):
        query = select(OutboxMessage).where(OutboxMessage.kind == EVENT_KIND)
        if uid is not None:
            query = query.where(OutboxMessage.booking_uid == uid)
        found = await session.scalars(query.order_by(OutboxMessage.available_at, OutboxMessage.id))
        return [
            row
            for row in found
            if timed.is_timed(row.payload)
            and (triggers is None or row.payload["trigger"] in triggers)
        ]

    return with_session(settings.database_url, work)


def stored(settings, uid: str) -> Booking:
    async def work(session):
        return await session.scalar(select(Booking).where(Booking.uid == uid))

    return with_session(settings.database_url, work)


def change(settings, action, uid: str, *args):
    """Run ``action(session, uid, *args)`` (a booking service function) in its own session."""
    return with_session(settings.database_url, lambda session: action(session, uid, *args))


def move_clock_to(moment: datetime) -> None:
    clock.set_offset(moment - datetime.now(moment.tzinfo))


def run_workers(settings, count: int = 2) -> None:
    """``count`` workers, each on its own engine, drain the outbox at once until nothing is due."""

    async def go() -> None:
        engines = [create_engine(settings.database_url) for _ in range(count)]
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

    run(go())


@pytest.fixture
def backend_settings(request, tmp_path, settings):
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        return make_settings(tmp_path, database_url=url, allow_private_urls=True)
    return settings


@pytest.mark.parametrize("backend_settings", ["sqlite", "postgresql"], indirect=True)
def test_meeting_start_and_end_fire_once_with_two_workers_never_for_cancelled_or_moved(
    backend_settings, receiver
):
    settings = backend_settings
    subscribe(settings, receiver.url, tuple(MEETING), secret="whsec-timed-events-0123")
    with TestClient(app=create_app(settings)) as client:
        kept = book(client, 9)
        cancelled = book(client, 10)
        moved = book(client, 11)
    change(settings, service.cancel_booking, cancelled, "No longer needed")
    [moved_start, _] = demo_slot(next_weekday(), 14)
    new = change(
        settings, service.reschedule_booking, moved, datetime.fromisoformat(moved_start)
    ).uid

    # Planned at the booking, due at the meeting's start and end, bound to version 1.
    for uid in (kept, cancelled, moved, new):
        rows = timed_rows(settings, uid, MEETING)
        booking = stored(settings, uid)
        assert [(r.payload["trigger"], r.available_at) for r in rows] == [
            (timed.MEETING_STARTED, booking.start),
            (timed.MEETING_ENDED, booking.end),
        ]
        assert {r.payload["version"] for r in rows} == {1}
        assert all(r.delivered_at is None for r in rows)

    # Before the meetings nothing timed is due: the workers send only the change events' emails.
    run_workers(settings)
    assert receiver.hooks == []
    assert all(r.delivered_at is None for r in timed_rows(settings))

    # Half-way through the first meeting: its start fires, once.
    first = stored(settings, kept)
    move_clock_to(first.start + timedelta(minutes=15))
    run_workers(settings)
    assert [(h.json["triggerEvent"], h.json["payload"]["uid"]) for h in receiver.hooks] == [
        (timed.MEETING_STARTED, kept)
    ]
    started = receiver.hooks[0].json
    assert started["createdAt"] == first.start.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    # After every meeting: the rest fire once each, the cancelled and moved ones never.
    move_clock_to(stored(settings, new).end + timedelta(minutes=1))
    run_workers(settings)
    fired = Counter((h.json["triggerEvent"], h.json["payload"]["uid"]) for h in receiver.hooks)
    assert fired == {
        (timed.MEETING_STARTED, kept): 1,
        (timed.MEETING_ENDED, kept): 1,
        (timed.MEETING_STARTED, new): 1,
        (timed.MEETING_ENDED, new): 1,
    }
    assert len(set(receiver.delivery_ids())) == 4
    notes = {(r.booking_uid, r.payload["trigger"]): r.last_error for r in timed_rows(settings)}
    assert all(r.delivered_at is not None for r in timed_rows(settings))
    assert "cancelled" in notes[(cancelled, timed.MEETING_STARTED)]
    assert "rescheduled" in notes[(moved, timed.MEETING_ENDED)]
    assert notes[(kept, timed.MEETING_STARTED)] == notes[(new, timed.MEETING_ENDED)] == ""

    # Nothing fires twice, however often the workers run.
    run_workers(settings)
    assert len(receiver.hooks) == 4


def test_a_booking_waiting_for_approval_gets_its_meeting_events_when_confirmed(
    settings, client, receiver
):
    subscribe(settings, receiver.url, tuple(MEETING), secret="whsec-timed-events-0123")
    pending = book(client, 10, "intro", minutes=15)
    assert timed_rows(settings, pending) == []
    declined = book(client, 11, "intro", minutes=15)
    change(settings, service.decline_booking, declined, "Full")
    assert timed_rows(settings, declined) == []

    change(settings, service.confirm_booking, pending)
    rows = timed_rows(settings, pending, MEETING)
    assert [(r.payload["trigger"], r.payload["version"]) for r in rows] == [
        (timed.MEETING_STARTED, 2),
        (timed.MEETING_ENDED, 2),
    ]
    move_clock_to(stored(settings, pending).end + timedelta(seconds=1))
    run_workers(settings)
    assert sorted(h.json["triggerEvent"] for h in receiver.hooks) == sorted(MEETING)
    assert {h.json["payload"]["status"] for h in receiver.hooks} == {"ACCEPTED"}


def test_confirmed_after_its_start_gets_only_the_end(settings, client):
    pending = book(client, 10, "intro", minutes=15)
    move_clock_to(stored(settings, pending).start + timedelta(minutes=5))
    change(settings, service.confirm_booking, pending)
    assert [r.payload["trigger"] for r in timed_rows(settings, pending)] == [timed.MEETING_ENDED]


def test_planning_a_new_booking_runs_no_statement(settings, client):
    """A booking's write transaction holds the lock: planning its timed events reads nothing."""
    uid = book(client, 10)

    async def work(session):
        # Loaded as the booking service has it (event type and host at hand: reminders read the
        # event type's lead times).
        booking = await session.scalar(
            select(Booking)
            .where(Booking.uid == uid)
            .options(selectinload(Booking.event_type), selectinload(Booking.host))
        )
        statements: list[str] = []

        def count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            await record_booking_event(session, booking, "BOOKING_CREATED")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert statements == []
        kinds = sorted(m.payload["trigger"] for m in session.new)
        assert kinds == sorted(
            ["BOOKING_CREATED", "BOOKING_REMINDER", "BOOKING_REMINDER", *MEETING]
        )
        await session.rollback()

    with_session(settings.database_url, work)


# Plugging another kind in: a reminder an hour ahead, for held bookings (pending ones too) -------

REMINDER = "TEST_REMINDER"


@pytest.fixture
def reminders():
    """Registers a reminder kind for the test; ``sent`` lists the bookings it rendered for."""
    sent: list[str] = []
    before_render: list = []

    def plan(booking: Booking) -> list[timed.Timed]:
        return [timed.Timed(REMINDER, booking.start - timedelta(hours=1), key="guest-60")]

    def render(context: timed.DueEvent):
        for hook in before_render:
            hook(context)
        sent.append(context.booking.uid)
        return [("email", {"trigger": REMINDER, "to": context.booking.invitee_email})]

    kinds = dict(timed._KINDS)
    timed.register_timed(REMINDER, plan=plan, render=render)
    yield sent, before_render
    timed._KINDS.clear()
    timed._KINDS.update(kinds)


def reminder_emails(settings) -> list[OutboxMessage]:
    async def work(session):
        query = select(OutboxMessage).where(OutboxMessage.kind == "email")
        return [m for m in await session.scalars(query) if m.payload.get("trigger") == REMINDER]

    return with_session(settings.database_url, work)


def test_a_change_while_an_event_is_due_plans_it_again_for_the_new_version(
    settings, client, reminders
):
    """The reminder came due but no worker ran yet; then the host confirmed (version 2). The
    version-1 row is skipped with a note and the change re-issued it: one reminder, not none."""
    sent, _ = reminders
    pending = book(client, 10, "intro", minutes=15)
    [first] = timed_rows(settings, pending)
    assert first.payload["trigger"] == REMINDER and first.payload["version"] == 1
    start = stored(settings, pending).start
    move_clock_to(start - timedelta(minutes=30))

    change(settings, service.confirm_booking, pending)
    rows = timed_rows(settings, pending)
    assert [(r.payload["trigger"], r.payload["version"]) for r in rows] == [
        (REMINDER, 1),
        (REMINDER, 2),
        (timed.MEETING_STARTED, 2),
        (timed.MEETING_ENDED, 2),
    ]
    assert expand_outbox(settings) == 4  # the request, the confirmation, both reminder rows
    assert sent == [pending]
    [email] = reminder_emails(settings)
    assert email.payload["to"] == "guest10@example.com"
    skipped, fired = timed_rows(settings, pending)[:2]
    assert "planned for version 1" in skipped.last_error and skipped.delivered_at
    assert fired.last_error == "" and fired.delivered_at


@pytest.mark.parametrize("backend_settings", ["sqlite", "postgresql"], indirect=True)
def test_a_change_committed_between_the_read_and_the_mark_wins(backend_settings, reminders):
    """The worker read the booking at version 1 and rendered; before it marked the row, the host
    confirmed the booking (another process). Under the write lock it sees version 2 and sends
    nothing; the change had re-issued the reminder, which then fires once."""
    settings = backend_settings
    sent, before_render = reminders
    with TestClient(app=create_app(settings)) as client:
        pending = book(client, 10, "intro", minutes=15)
    move_clock_to(stored(settings, pending).start - timedelta(minutes=30))

    def confirm_elsewhere(context: timed.DueEvent) -> None:
        if context.event["version"] != 1:
            return
        done = threading.Event()

        def other_process() -> None:
            change(settings, service.confirm_booking, pending)
            done.set()

        thread = threading.Thread(target=other_process)
        thread.start()
        thread.join(30)
        assert done.is_set()

    before_render.append(confirm_elsewhere)
    # The request, the stale reminder, then the confirmation and the reminder it re-issued.
    assert expand_outbox(settings) == 4
    assert sent == [pending, pending]  # rendered twice, sent once:
    assert len(reminder_emails(settings)) == 1
    first, second = [r for r in timed_rows(settings, pending) if r.payload["trigger"] == REMINDER]
    assert first.payload["version"] == 1 and "planned for version 1" in first.last_error
    assert second.payload["version"] == 2 and second.last_error == ""
