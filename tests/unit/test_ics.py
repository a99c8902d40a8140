"""The .ics invite: METHOD, a UID stable across reschedules, SEQUENCE, times in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from app.db.models import CANCELLED, CONFIRMED, PENDING, Booking, EventType, Host
from app.notify.ics import build_invite, ical_uid

START = datetime(2026, 3, 16, 14, 0, tzinfo=UTC)


def booking(status: str = CONFIRMED, sequence: int = 0) -> Booking:
    host = Host(slug="demo", name="Dana Host", email="dana@example.com", timezone="Europe/Berlin")
    event_type = EventType(
        slug="30min",
        title="Intro call",
        duration_minutes=30,
        location_type="link",
        location_value="https://meet.example",
    )
    b = Booking(
        uid="bkg_first",
        start=START,
        end=START + timedelta(minutes=30),
        status=status,
        sequence=sequence,
        invitee_name="Alex Johnson",
        invitee_email="alex@example.com",
        notes="",
    )
    b.host, b.event_type = host, event_type
    return b


def event_of(data: bytes) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_request_invite_has_method_uid_sequence_and_utc_times() -> None:
    calendar, event = event_of(build_invite(booking(sequence=2), "REQUEST"))
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "bkg_first@booking-widget"
    assert int(event["SEQUENCE"]) == 2
    assert event["DTSTART"].dt == START
    assert event["DTEND"].dt == START + timedelta(minutes=30)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:dana@example.com"
    assert str(event["ATTENDEE"]) == "mailto:alex@example.com"
    assert str(event["LOCATION"]) == "https://meet.example"


def test_cancel_invite_keeps_the_uid_and_says_cancelled() -> None:
    calendar, event = event_of(build_invite(booking(CANCELLED, sequence=3), "CANCEL"))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 3


def test_rescheduled_booking_keeps_the_first_uid() -> None:
    moved = booking(sequence=4)
    moved.uid = "bkg_second"
    _, event = event_of(build_invite(moved, "REQUEST", uid="bkg_first"))
    assert str(event["UID"]) == ical_uid("bkg_first")


def test_pending_booking_is_tentative() -> None:
    _, event = event_of(build_invite(booking(PENDING), "REQUEST"))
    assert str(event["STATUS"]) == "TENTATIVE"


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError):
        build_invite(booking(), "REPLY")
