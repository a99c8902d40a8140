"""Reminder emails (app/notify/reminders.py) on the time-driven scheduler: at the event type's lead
times (24 h and 1 h by default), to the guest and the host, each in their own language, with the
guest's manage links; sent once however many workers run; never for a booking cancelled or moved,
whose new booking gets reminders of its own."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from app import clock
from app.bookings import service
from app.bookings.errors import InvalidInput
from app.db.models import Booking, EventType, OutboxMessage
from app.db.session import create_engine, create_sessionmaker
from app.notify.email import REMINDER, build_message
from app.notify.reminders import check_reminder_minutes
from app.notify.worker import OutboxWorker, WorkerOptions
from support import booking_body, demo_slot, next_weekday, run, with_session

BASE = "/api/public/scheduling"


def book(client, hour: int, event: str = "30min", **overrides) -> str:
    minutes = 15 if event == "intro" else 30
    start, end = demo_slot(next_weekday(), hour, minutes=minutes)
    body = booking_body(start, end, inviteeEmail=f"guest{hour}@example.com", **overrides)
    if event == "intro":
        body["customFields"] = {"company": "Acme"}
    response = client.post(f"{BASE}/demo/{event}/book", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def stored(settings, uid: str) -> Booking:
    return with_session(
        settings.database_url,
        lambda session: session.scalar(select(Booking).where(Booking.uid == uid)),
    )


def change(settings, action, uid: str, *args):
    return with_session(settings.database_url, lambda session: action(session, uid, *args))


def reminder_rows(settings, uid: str) -> list[OutboxMessage]:
    async def work(session):
        query = select(OutboxMessage).where(OutboxMessage.booking_uid == uid)
        rows = await session.scalars(query.order_by(OutboxMessage.available_at))
        return [r for r in rows if r.payload.get("trigger") == REMINDER and "due" in r.payload]

    return with_session(settings.database_url, work)


def reminder_emails(settings) -> list[dict]:
    async def work(session):
        query = select(OutboxMessage).where(OutboxMessage.kind == "email")
        return [m.payload for m in await session.scalars(query.order_by(OutboxMessage.id))]

    return [p for p in with_session(settings.database_url, work) if p["trigger"] == REMINDER]


def move_clock_to(moment: datetime) -> None:
    clock.set_offset(moment - datetime.now(moment.tzinfo))


def run_workers(settings, count: int = 3) -> None:
    """``count`` workers, each with its own engine, drain the outbox at once."""

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


def test_reminders_go_out_once_at_24_hours_and_1_hour_in_each_readers_language(settings, client):
    uid = book(client, 9, inviteeLocale="de-DE", inviteeTimezone="Europe/Berlin")
    booking = stored(settings, uid)
    rows = reminder_rows(settings, uid)
    assert [(r.available_at, r.payload["key"]) for r in rows] == [
        (booking.start - timedelta(hours=24), "1440"),
        (booking.start - timedelta(hours=1), "60"),
    ]

    run_workers(settings)  # the booking's own emails; nothing timed is due yet
    assert reminder_emails(settings) == []

    move_clock_to(booking.start - timedelta(hours=23))
    run_workers(settings)
    run_workers(settings)
    first = reminder_emails(settings)
    assert sorted(m["to"] for m in first) == ["demo@example.com", "guest9@example.com"]
    guest = next(m for m in first if m["to"] == "guest9@example.com")
    assert guest["subject"].startswith("Erinnerung: 30 minute meeting mit Dana Demo")
    assert "Ihr Termin mit Dana Demo beginnt in 24 Stunden." in guest["text"]
    assert "/reschedule" in guest["text"] and "/cancel" in guest["text"]
    assert "https://meet.jit.si/30min-" in guest["text"]  # where, as it will happen
    assert guest["ics"] == ""  # they have the invite already
    host = next(m for m in first if m["to"] == "demo@example.com")
    assert host["subject"].startswith("Reminder: 30 minute meeting with Alex Johnson")
    assert "Your meeting with Alex Johnson starts in 24 hours." in host["text"]

    move_clock_to(booking.start - timedelta(minutes=30))
    run_workers(settings)
    sent = Counter((m["to"], m["text"].splitlines()[0]) for m in reminder_emails(settings))
    assert len(sent) == 4 and set(sent.values()) == {1}  # two each, once each
    assert any("beginnt in 1 Stunde." in m["text"] for m in reminder_emails(settings))
    message = build_message(settings, guest, "msg_reminder")
    assert message["Date"] and message["Message-ID"] == "<msg_reminder@localhost>"
    assert not [p for p in message.walk() if p.get_content_type() == "text/calendar"]


def test_no_reminder_once_the_meeting_has_started(settings, client):
    """A worker that was down past the start comes back too late to remind anyone."""
    uid = book(client, 10)
    move_clock_to(stored(settings, uid).start + timedelta(minutes=5))
    run_workers(settings)
    assert reminder_emails(settings) == []
    assert all(r.delivered_at is not None for r in reminder_rows(settings, uid))


def test_no_reminder_for_a_cancelled_or_moved_booking_and_the_new_one_gets_its_own(
    settings, client
):
    cancelled = book(client, 10)
    moved = book(client, 11)
    change(settings, service.cancel_booking, cancelled, "Sorry")
    new_start, _ = demo_slot(next_weekday(), 14)
    new = change(settings, service.reschedule_booking, moved, datetime.fromisoformat(new_start)).uid
    move_clock_to(stored(settings, new).start - timedelta(minutes=1))  # both lead times passed
    run_workers(settings)

    sent = reminder_emails(settings)
    assert sorted(m["to"] for m in sent) == sorted(["guest11@example.com", "demo@example.com"] * 2)
    notes = [
        r.last_error for r in reminder_rows(settings, cancelled) + reminder_rows(settings, moved)
    ]
    assert len(notes) == 4 and all("skipped" in note for note in notes)
    assert all(r.last_error == "" for r in reminder_rows(settings, new))


def test_a_request_gets_reminders_once_confirmed_and_lead_times_follow_the_event_type(
    settings, client
):
    pending = book(client, 10, "intro")
    assert reminder_rows(settings, pending) == []  # not booked yet: nothing to remind of
    change(settings, service.confirm_booking, pending)
    assert [r.payload["key"] for r in reminder_rows(settings, pending)] == ["1440", "60"]

    async def only_two_hours(session):
        await session.execute(
            update(EventType).where(EventType.slug == "30min").values(reminder_minutes=[120])
        )
        await session.commit()

    with_session(settings.database_url, only_two_hours)
    uid = book(client, 12)
    assert [r.payload["key"] for r in reminder_rows(settings, uid)] == ["120"]


def test_lead_times_a_host_may_set():
    assert check_reminder_minutes([60, 1440, 60]) == [1440, 60]
    assert check_reminder_minutes([]) == []
    for bad in ([1], [60] * 6, "60", [True], [60.5], [15 * 24 * 60]):
        with pytest.raises(InvalidInput):
            check_reminder_minutes(bad)
