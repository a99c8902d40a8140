"""Console › Event types through the real door: sign-in link, session cookie, forms with CSRF.

Create (with a question and a buffer: the booking form asks it, the slots keep the buffer), edit,
duplicate, hide, delete behind a confirmation page; bad input gives a 400 that keeps what the host
typed and saves nothing; another host's event type is a 404; "why not this time?" says why.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from console_support import post_form, signed_in
from sqlalchemy import select

from app.db.models import EventType, Host
from app.hosts.service import create_host
from support import book, booking_body, next_weekday, with_session

BASE = "/console/event-types"
BERLIN = ZoneInfo("Europe/Berlin")
PUBLIC = "/api/public/scheduling"


def form(**overrides: Any) -> dict[str, Any]:
    """The new-event-type form as a browser sends it (a question row and a buffer)."""
    data: dict[str, Any] = {
        "title": "Consultation",
        "slug": "consultation",
        "description": "An hour about your project.",
        "duration": "60",
        "slot_interval": "",
        "buffer_before": "0",
        "buffer_after": "30",
        "min_notice": "0",
        "booking_window": "60",
        "max_per_day": "",
        "location_type": "in_person",
        "location_value": "Hauptstraße 1, Berlin",
        "phone_mode": "hidden",
        "schedule_id": "",
        "reminders": ["1440", "60"],
        "question_rows": "1",
        "q-0-key": "",
        "q-0-label": "What is your company?",
        "q-0-type": "text",
        "q-0-required": "1",
        "q-0-options": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def event_types(settings: Any, slug: str = "demo") -> list[EventType]:
    async def work(session: Any) -> list[EventType]:
        query = (
            select(EventType)
            .join(Host)
            .where(Host.slug == slug, EventType.active.is_(True))
            .order_by(EventType.id)
        )
        return list((await session.scalars(query)).all())

    return list(with_session(settings.database_url, work))


def one(settings: Any, slug: str) -> EventType:
    [row] = [e for e in event_types(settings) if e.slug == slug]
    return row


def create(client: Any, **overrides: Any) -> int:
    answer = post_form(client, f"{BASE}/new", form(**overrides), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(rf"{BASE}/(\d+)", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def console(client: Any, settings: Any) -> Any:
    return signed_in(client, settings)


def test_signed_out_every_page_goes_to_sign_in(client):
    for url in (BASE, f"{BASE}/new", f"{BASE}/1", f"{BASE}/1/edit", f"{BASE}/1/delete"):
        answer = client.get(url, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/sign-in"


def test_the_list_shows_title_duration_link_and_badges(console, settings):
    page = console.get(BASE)
    assert page.status_code == 200
    assert "30 minute meeting" in page.text and "Intro call" in page.text
    assert "/demo/30min" in page.text and "30 minutes" in page.text
    intro_row = page.text.split("Intro call", 1)[1].split("</tr>", 1)[0]
    assert "Needs approval" in intro_row
    assert "Hidden" not in page.text


def test_the_list_says_what_to_do_when_there_are_none(client, settings):
    async def work(session: Any) -> None:
        await create_host(
            session, "newbie", name="Nia New", email="nia@example.com", timezone="UTC"
        )

    with_session(settings.database_url, work)
    page = signed_in(client, settings, "newbie").get(BASE)
    assert "No event types yet" in page.text
    assert "Create your first event type" in page.text


def test_create_with_a_question_and_a_buffer_reaches_the_booking_form_and_slots(console, settings):
    new_id = create(console)
    row = one(settings, "consultation")
    assert row.id == new_id
    assert row.duration_minutes == 60 and row.buffer_after_minutes == 30
    assert row.location_type == "in_person" and row.location_value == "Hauptstraße 1, Berlin"
    assert row.reminder_minutes == [1440, 60]
    assert row.questions == [
        {
            "key": "what-is-your-company",
            "label": "What is your company?",
            "type": "text",
            "required": True,
            "options": [],
        }
    ]
    page = console.get(f"{BASE}/{new_id}")
    assert f'value="{settings.public_url}/demo/consultation"' in page.text
    assert 'data-booking-url="' in unescape(page.text) and "embed.js" in page.text

    # The guest's booking form asks the question.
    day = next_weekday()
    start = datetime.combine(day, time(9), BERLIN).astimezone(UTC)
    iso = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    params = {"start": iso, "tz": "Europe/Berlin"}
    booking_form = console.get("/demo/consultation/form", params=params)
    assert booking_form.status_code == 200, booking_form.text
    assert "What is your company?" in booking_form.text

    # Hourly starts 9:00..16:00. A booking at 10:00 holds 10:00-11:30 (30 minutes after it), so
    # 11:00 goes; and 9:00 too, whose own 30 minutes after would run into the 10:00 meeting.
    def starts() -> list[str]:
        params = {"dateFrom": day.isoformat(), "dateTo": day.isoformat(), "timezone": "UTC"}
        groups = console.get(f"{PUBLIC}/demo/consultation/slots", params=params).json()
        return [
            datetime.fromisoformat(s["startTime"].replace("Z", "+00:00"))
            .astimezone(BERLIN)
            .strftime("%H:%M")
            for g in groups
            for s in g["slots"]
        ]

    assert starts() == ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    ten = datetime.combine(day, time(10), BERLIN).astimezone(UTC)
    body = booking_body(
        ten.strftime("%Y-%m-%dT%H:%M:%SZ"),
        (ten + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        customFields={"what-is-your-company": "Acme"},
    )
    assert console.post(f"{PUBLIC}/demo/consultation/book", json=body).status_code == 201
    assert starts() == ["12:00", "13:00", "14:00", "15:00", "16:00"]


def test_edit_changes_every_setting_and_keeps_question_keys(console, settings):
    new_id = create(console)
    edit = console.get(f"{BASE}/{new_id}/edit")
    assert edit.status_code == 200
    assert 'value="What is your company?"' in edit.text
    changed = form(
        title="Consultation (long)",
        slug="consultation-long",
        duration="90",
        slot_interval="30",
        buffer_before="15",
        min_notice="120",
        booking_window="",
        max_per_day="3",
        requires_approval="1",
        location_type="link",
        location_value="https://meet.example.com/dana",
        phone_mode="optional",
        reminders=["120"],
        question_rows="2",
        **{
            "q-0-key": "what-is-your-company",
            "q-0-label": "Company name",
            "q-1-key": "",
            "q-1-label": "Team size",
            "q-1-type": "select",
            "q-1-options": "1-10\n11-50\n\n51+",
        },
    )
    answer = post_form(console, f"{BASE}/{new_id}/edit", changed, follow_redirects=False)
    assert answer.status_code == 303, text_of(answer.text)
    row = one(settings, "consultation-long")
    assert (row.title, row.duration_minutes, row.slot_interval_minutes) == (
        "Consultation (long)",
        90,
        30,
    )
    assert (row.buffer_before_minutes, row.min_notice_minutes, row.max_per_day) == (15, 120, 3)
    assert row.booking_window_days is None and row.requires_approval
    assert (row.location_type, row.phone_mode) == ("link", "optional")
    assert row.reminder_minutes == [120]
    assert [q["key"] for q in row.questions] == ["what-is-your-company", "team-size"]
    assert row.questions[1]["options"] == ["1-10", "11-50", "51+"]
    assert console.get(f"{BASE}/{new_id}").status_code == 200


def test_add_and_remove_question_rows_without_saving(console, settings):
    added = post_form(console, f"{BASE}/new", form(action="add_question"))
    assert added.status_code == 200
    assert 'name="q-1-label"' in added.text and 'value="What is your company?"' in added.text
    removed = post_form(console, f"{BASE}/new", form(action="remove_question:0"))
    assert 'name="q-0-label"' not in removed.text
    assert 'value="Consultation"' in removed.text
    assert [e.slug for e in event_types(settings)] == ["30min", "intro"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"duration": "0"}, "duration", "from 1 to 1440"),
        ({"duration": "ten"}, "duration", "whole number"),
        ({"title": "x" * 5000}, "title", "too long"),
        ({"title": ""}, "title", "required"),
        ({"slug": "30min"}, "slug", "already have an event type"),
        ({"slug": "Not a slug!"}, "slug", "lowercase letters"),
        ({"buffer_after": "-5"}, "buffer_after", "whole number"),
        ({"location_type": "link", "location_value": "not a link"}, "location_value", "https://"),
        ({"q-0-type": "select", "q-0-options": "only one"}, "q-0-options", "two options"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_saved(
    console, settings, overrides, field, message
):
    answer = post_form(console, f"{BASE}/new", form(**overrides))
    assert answer.status_code == 400
    error = re.search(rf'id="f?-?{re.escape(field)}-error">([^<]*)<', answer.text)
    assert error, answer.text
    assert message in unescape(error.group(1))
    assert "Nothing was saved" in answer.text
    # What the host typed is still there.
    assert 'value="What is your company?"' in answer.text
    assert [e.slug for e in event_types(settings)] == ["30min", "intro"]


def test_a_script_title_is_shown_as_text_never_run(console, settings):
    title = '<script>alert("x")</script>'
    new_id = create(console, title=title, slug="script")
    for url in (BASE, f"{BASE}/{new_id}", f"{BASE}/{new_id}/edit", f"{BASE}/{new_id}/delete"):
        page = console.get(url).text
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    refused = post_form(console, f"{BASE}/new", form(title=title, duration="0"))
    assert refused.status_code == 400 and "<script>alert" not in refused.text


def test_a_refused_edit_changes_nothing(console, settings):
    before = one(settings, "30min")
    answer = post_form(
        console,
        f"{BASE}/{before.id}/edit",
        form(title="Renamed", slug="intro", duration="45"),
    )
    assert answer.status_code == 400
    assert "already have an event type" in text_of(answer.text)
    assert 'value="Renamed"' in answer.text
    after = one(settings, "30min")
    assert (after.title, after.duration_minutes) == (before.title, before.duration_minutes)


def test_duplicate_copies_every_setting_hidden(console, settings):
    intro = one(settings, "intro")
    answer = post_form(console, f"{BASE}/{intro.id}/duplicate", follow_redirects=False)
    assert answer.status_code == 303
    copy = one(settings, "intro-copy")
    assert answer.headers["location"] == f"{BASE}/{copy.id}/edit"
    assert copy.hidden and copy.title == "Intro call (copy)"
    assert copy.questions == intro.questions and copy.requires_approval
    assert (copy.location_type, copy.location_value) == (intro.location_type, intro.location_value)
    post_form(console, f"{BASE}/{intro.id}/duplicate")
    assert {"intro-copy", "intro-copy-2"} <= {e.slug for e in event_types(settings)}


def test_hide_and_show(console, settings):
    row = one(settings, "30min")
    answer = post_form(
        console, f"{BASE}/{row.id}/visibility?from=list", {"hidden": "1"}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == BASE
    assert one(settings, "30min").hidden
    listed = console.get(BASE).text
    assert "Hidden" in listed and "no longer listed" in listed  # badge and flash
    profile = console.get(f"{PUBLIC}/demo").json()
    assert "30min" not in {e["slug"] for e in profile["eventTypes"]}
    post_form(console, f"{BASE}/{row.id}/visibility", {"hidden": "0"})
    assert not one(settings, "30min").hidden


def test_disable_and_enable(console, settings):
    row = one(settings, "30min")
    day = next_weekday(3).isoformat()
    slots = f"{PUBLIC}/demo/30min/slots?dateFrom={day}&dateTo={day}&timezone=UTC"
    assert console.get(slots).status_code == 200
    answer = post_form(
        console, f"{BASE}/{row.id}/bookable", {"disabled": "1"}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert one(settings, "30min").disabled
    page = console.get(f"{BASE}/{row.id}").text
    assert "Disabled" in page and "takes no bookings" in page  # badge and flash
    # Nowhere to book it: not listed, no page, no slots; its settings are all kept.
    profile = console.get(f"{PUBLIC}/demo").json()
    assert "30min" not in {e["slug"] for e in profile["eventTypes"]}
    assert console.get("/demo/30min").status_code == 404
    assert console.get(slots).status_code == 404
    assert one(settings, "30min").duration_minutes == row.duration_minutes
    post_form(console, f"{BASE}/{row.id}/bookable", {"disabled": "0"})
    assert not one(settings, "30min").disabled
    assert console.get(slots).status_code == 200


def test_delete_asks_first_then_deletes(console, settings):
    new_id = create(console)
    confirm = console.get(f"{BASE}/{new_id}/delete")
    assert confirm.status_code == 200
    assert "Delete “<bdi>Consultation</bdi>”?" in confirm.text
    assert f'action="{BASE}/{new_id}/delete"' in confirm.text
    assert "consultation" in {e.slug for e in event_types(settings)}  # asking deletes nothing
    answer = post_form(console, f"{BASE}/{new_id}/delete", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == BASE
    assert "consultation" not in {e.slug for e in event_types(settings)}
    assert console.get(f"{BASE}/{new_id}").status_code == 404


def test_delete_is_refused_while_bookings_are_upcoming(console, settings):
    book(console, "30min", 11)
    row = one(settings, "30min")
    answer = post_form(console, f"{BASE}/{row.id}/delete")
    assert answer.status_code == 409
    assert "upcoming bookings" in answer.text
    assert one(settings, "30min").active


def test_another_hosts_event_type_is_not_found(client, settings):
    demo_id = one(settings, "30min").id

    async def work(session: Any) -> None:
        await create_host(
            session, "other", name="Olga Other", email="olga@example.com", timezone="UTC"
        )

    with_session(settings.database_url, work)
    other = signed_in(client, settings, "other")
    for url in (f"{BASE}/{demo_id}", f"{BASE}/{demo_id}/edit", f"{BASE}/{demo_id}/delete"):
        assert other.get(url).status_code == 404
    for url, data in (
        (f"{BASE}/{demo_id}/edit", form()),
        (f"{BASE}/{demo_id}/visibility", {"hidden": "1"}),
        (f"{BASE}/{demo_id}/duplicate", {}),
        (f"{BASE}/{demo_id}/delete", {}),
    ):
        assert post_form(other, url, data).status_code == 404
    row = one(settings, "30min")
    assert row.active and not row.hidden and row.title == "30 minute meeting"
    assert "30min-copy" not in {e.slug for e in event_types(settings)}


def test_forms_need_the_csrf_token(console, settings):
    row = one(settings, "30min")
    answer = console.post(f"{BASE}/{row.id}/visibility", data={"hidden": "1"})
    assert answer.status_code == 403
    assert not one(settings, "30min").hidden


def why(console: Any, event_id: int, day: Any, at: str) -> Any:
    return console.get(f"{BASE}/{event_id}", params={"day": day.isoformat(), "at": at})


def test_why_not_a_time_outside_the_hours(console, settings):
    row = one(settings, "30min")
    answer = why(console, row.id, next_weekday(), "20:00")
    assert answer.status_code == 200
    assert "cannot be booked" in answer.text
    assert "Outside the weekly hours of the schedule." in answer.text


def test_why_not_a_booked_time_and_yes_for_a_free_one(console, settings):
    booking = book(console, "30min", 11)
    row = one(settings, "30min")
    day = next_weekday()
    taken = text_of(why(console, row.id, day, "11:00").text)
    assert "cannot be booked" in taken
    uid = booking.get("uid") or booking.get("bookingUid") or booking.get("id")
    assert f"Held by booking {uid}" in taken
    free = text_of(why(console, row.id, day, "14:00").text)
    assert "is bookable" in free


def test_why_not_with_a_bad_date_says_so(console, settings):
    row = one(settings, "30min")
    answer = console.get(f"{BASE}/{row.id}", params={"day": "yesterday", "at": "25:99"})
    assert answer.status_code == 400
    assert "Enter a date and a time" in answer.text
