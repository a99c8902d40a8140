"""Locations we can keep (app/bookings/locations.py): what each kind needs, what the page promises,
where the calendar says it is, and how migration 0006 maps the free-form values of before."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.bookings.errors import InvalidInput
from app.bookings.locations import (
    check_location,
    describe,
    meeting_url,
    new_room,
    phone_mode,
    where,
)
from app.db.models import CONFIRMED, PENDING, Booking, EventType, Host
from app.web.widget_view import brand_css

START = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
MIGRATION = Path(__file__).parents[2] / "app/db/migrations/versions/0006_guest.py"


def event_type(kind: str, value: str = "", **fields) -> EventType:
    et = EventType(slug="30min", title="Call", location_type=kind, location_value=value, **fields)
    et.host = Host(slug="dana", name="Dana", email="dana@example.com", timezone="UTC")
    return et


def booking(et: EventType, status: str = CONFIRMED, location: str = "") -> Booking:
    b = Booking(
        uid="bkg_1",
        start=START,
        end=START + timedelta(minutes=30),
        status=status,
        invitee_name="Alex",
        invitee_email="alex@example.com",
        invitee_phone="+4930123456",
        location=location,
    )
    b.event_type, b.host = et, et.host
    return b


def test_each_kind_says_what_it_needs() -> None:
    assert check_location("in_person", " Main Street 1 ") == ("in_person", "Main Street 1")
    assert check_location("phone", "ignored") == ("phone", "")
    assert check_location("link", "https://zoom.us/j/1") == ("link", "https://zoom.us/j/1")
    assert check_location("meeting_room", "") == ("meeting_room", "https://meet.jit.si")
    assert check_location("", "") == ("", "")
    for kind, value in [
        ("in_person", ""),
        ("link", "zoom.us/j/1"),
        ("link", "javascript:alert(1)"),
        ("link", "https://user:pw@meet.example"),
        ("meeting_room", "meet.jit.si"),
        ("GoogleMeet", ""),
        ("in_person", "x" * 501),
    ]:
        with pytest.raises(InvalidInput):
            check_location(kind, value)


def test_a_phone_call_needs_the_guests_number() -> None:
    assert phone_mode(event_type("phone", phone_mode="hidden")) == "required"
    assert phone_mode(event_type("link", "https://x.example", phone_mode="optional")) == "optional"


def test_each_booking_gets_its_own_room_and_keeps_it_when_moved() -> None:
    et = event_type("meeting_room", "https://meet.jit.si/")
    first, second = new_room(et), new_room(et)
    assert first.startswith("https://meet.jit.si/30min-") and first != second
    assert len(first.removeprefix("https://meet.jit.si/30min-")) >= 20  # unguessable
    assert new_room(et, replaces=booking(et, location=first)) == first
    assert new_room(event_type("link", "https://x.example")) == ""


def test_the_page_promises_only_what_happens() -> None:
    room = event_type("meeting_room", "https://meet.jit.si")
    before = describe(room)
    assert before is not None and "private video room" in before.text and before.url == ""
    pending = describe(room, booking(room, PENDING, "https://meet.jit.si/30min-abc"))
    assert pending is not None and pending.url == "" and "once Dana confirms" in pending.text
    booked = describe(room, booking(room, CONFIRMED, "https://meet.jit.si/30min-abc"))
    assert booked is not None and booked.url == "https://meet.jit.si/30min-abc"
    host_view = describe(
        room, booking(room, PENDING, "https://meet.jit.si/30min-abc"), for_host=True
    )
    assert host_view is not None and host_view.url == "https://meet.jit.si/30min-abc"

    call = event_type("phone")
    assert describe(call).text == "Dana will call you on the number you give."  # type: ignore[union-attr]
    assert describe(call, booking(call)).text == "Dana will call you on +4930123456."  # type: ignore[union-attr]
    assert describe(call, booking(call), for_host=True).text == "Call Alex on +4930123456."  # type: ignore[union-attr]
    assert describe(event_type("in_person", "Main Street 1")).text == "Main Street 1"  # type: ignore[union-attr]
    assert describe(event_type("")) is None


def test_the_calendar_entry_says_where() -> None:
    link = event_type("link", "https://zoom.us/j/1")
    assert where(booking(link)) == meeting_url(booking(link)) == "https://zoom.us/j/1"
    assert where(booking(link, PENDING)) == ""  # no link before the host confirms
    assert where(booking(event_type("phone"))) == "Phone call: +4930123456"
    assert where(booking(event_type("in_person", "Main Street 1"))) == "Main Street 1"


def test_migration_0006_maps_the_free_form_locations_of_before() -> None:
    spec = importlib.util.spec_from_file_location("m0006", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    mapped = migration.mapped
    assert mapped("Phone", "We will call you on the number you give.") == ("phone", "")
    assert mapped("GoogleMeet", "A Google Meet link follows with the confirmation.") == (
        "meeting_room",
        "https://meet.jit.si",
    )
    assert mapped("Zoom", "https://zoom.us/j/42") == ("link", "https://zoom.us/j/42")
    assert mapped("Office", "Main Street 1, Berlin") == ("in_person", "Main Street 1, Berlin")
    assert mapped("", "https://whereby.com/dana") == ("link", "https://whereby.com/dana")
    assert mapped("", "") == ("", "")
    assert mapped("link", "https://x.example") == ("link", "https://x.example")


def _contrast(a: str, b: str) -> float:
    def lum(c: str) -> float:
        def ch(h: str) -> float:
            v = int(h, 16) / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        r, g, bl = (ch(c[i : i + 2]) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * bl

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize(
    "color", ["#2563eb", "#4f46e5", "#0f766e", "#fde047", "#111111", "#ffffff", "#ff0000"]
)
def test_any_brand_colour_keeps_text_readable_in_both_themes(color: str) -> None:
    css = brand_css(color)
    values = dict(part.split(":") for part in css.strip()[6:-1].split(";"))
    assert _contrast(values["--on-brand"], color) >= 4.5
    assert _contrast(values["--brand-ink"], "#ffffff") >= 4.5
    assert _contrast(values["--brand-ink-dark"], "#111827") >= 4.5
