"""Console → Bookings through the real HTTP door: lists, a booking's page, and its actions.

Bookings are made as guests make them (the public API); the console acts on them with forms that
carry the CSRF token and the booking's version, and the checks read the database and the outbox.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from console_support import post_form, signed_in
from litestar.testing import TestClient
from sqlalchemy import select

from app import clock
from app.bookings.service import find_booking
from app.db.models import EVENT_KIND, Booking, OutboxMessage
from app.hosts.service import create_host
from app.settings import Settings
from support import (
    PUBLIC_API,
    booking_body,
    demo_slot,
    next_weekday,
    outbox,
    with_session,
)

ROW = 'class="booking-when"'


def make(
    client: TestClient[Any],
    day: date,
    hour: int,
    minute: int = 0,
    *,
    event: str = "30min",
    query: str = "",
    **fields: Any,
) -> str:
    """A booking made by a guest through the public API; its uid."""
    minutes = 15 if event == "intro" else 30
    if event == "intro":
        fields.setdefault("customFields", {"company": "Acme Inc."})
    start, end = demo_slot(day, hour, minute, minutes=minutes)
    answer = client.post(
        f"{PUBLIC_API}/demo/{event}/book{query}", json=booking_body(start, end, **fields)
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def load(settings: Settings, uid: str) -> Booking:
    async def work(session: Any) -> Booking:
        return await find_booking(session, uid)

    return with_session(settings.database_url, work)  # type: ignore[no-any-return]


def count_bookings(settings: Settings) -> int:
    async def work(session: Any) -> int:
        return len(list(await session.scalars(select(Booking.id))))

    return int(with_session(settings.database_url, work))


def events(settings: Settings, uid: str) -> list[dict[str, Any]]:
    async def work(session: Any) -> list[dict[str, Any]]:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == EVENT_KIND, OutboxMessage.booking_uid == uid)
            .order_by(OutboxMessage.id)
        )
        return [row.payload for row in rows if "due" not in row.payload]

    return list(with_session(settings.database_url, work))


def rows(html: str) -> int:
    return html.count(ROW)


def version_of(html: str, action: str) -> str:
    """The version the page's form for ``action`` carries."""
    form = re.search(rf'action="[^"]*/{action}".*?name="version" value="(\d+)"', html, re.S)
    assert form, f"no {action} form on the page"
    return form.group(1)


def flashes(html: str) -> str:
    found = re.search(r'<div class="flashes".*?</div>', html, re.S)
    return found.group(0) if found else ""


# Signed out, and an empty console ----------------------------------------------------------------


def test_signed_out_goes_to_sign_in(client: TestClient[Any], settings: Settings) -> None:
    uid = make(client, next_weekday(), 10)
    for url in ("/console/bookings", f"/console/bookings/{uid}", f"/console/bookings/{uid}/cancel"):
        answer = client.get(url, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/sign-in"
    answer = post_form(client, f"/console/bookings/{uid}/cancel", {"version": "1"})
    assert answer.url.path == "/console/sign-in"
    assert load(settings, uid).status == "Confirmed"


def test_no_bookings_yet_shares_the_booking_page(
    client: TestClient[Any], settings: Settings
) -> None:
    signed_in(client, settings)
    page = client.get("/console/bookings")
    assert page.status_code == 200
    assert "No bookings yet" in page.text
    assert 'href="http://testserver/demo"' in page.text
    assert rows(page.text) == 0


# Lists ------------------------------------------------------------------------------------------


def test_tabs_filters_and_pages(client: TestClient[Any], settings: Settings) -> None:
    # One booking now in the past: made while the clock stood two weeks earlier.
    clock.set_offset(timedelta(days=-14))
    past_day = next_weekday(3, (datetime.now(UTC) - timedelta(days=14)).date())
    past = make(client, past_day, 11, inviteeName="Paula Past", inviteeEmail="paula@example.com")
    clock.set_offset(timedelta(0))
    day1 = next_weekday(3)
    day2 = next_weekday(1, day1 + timedelta(days=1))
    day3 = next_weekday(1, day2 + timedelta(days=1))
    made = []
    for n in range(22):
        day, hour = (day1, 9 + n // 2) if n < 16 else (day2, 9 + (n - 16) // 2)
        made.append(
            make(
                client,
                day,
                hour,
                30 * (n % 2),
                inviteeName=f"Guest {n:02d}",
                inviteeEmail=f"g{n:02d}@example.com",
            )
        )
    intro = make(
        client, day3, 10, event="intro", inviteeName="Ines Intro", inviteeEmail="ines@example.org"
    )
    signed_in(client, settings)

    upcoming = client.get("/console/bookings")
    assert upcoming.status_code == 200
    assert rows(upcoming.text) == 20
    assert "1–20 of 23" in upcoming.text
    assert f"/console/bookings/{made[0]}" in upcoming.text  # soonest first
    assert f"/console/bookings/{intro}" not in upcoming.text
    assert 'rel="next"' in upcoming.text and 'rel="prev"' not in upcoming.text
    second = client.get("/console/bookings?page=2")
    assert rows(second.text) == 3 and "21–23 of 23" in second.text
    assert f"/console/bookings/{intro}" in second.text
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    # A page past the end shows the last one.
    assert rows(client.get("/console/bookings?page=9").text) == 3

    waiting = client.get("/console/bookings?tab=unconfirmed")
    assert rows(waiting.text) == 1 and f"/console/bookings/{intro}" in waiting.text
    assert "Waiting for approval" in waiting.text
    past_tab = client.get("/console/bookings?tab=past")
    assert rows(past_tab.text) == 1 and f"/console/bookings/{past}" in past_tab.text
    empty = client.get("/console/bookings?tab=cancelled")
    assert rows(empty.text) == 0 and "No cancelled bookings" in empty.text

    # Guest: any part of the name or e-mail, any case.
    by_name = client.get("/console/bookings", params={"guest": "guest 07"})
    assert rows(by_name.text) == 1 and f"/console/bookings/{made[7]}" in by_name.text
    by_email = client.get("/console/bookings", params={"guest": "G12@EXAMPLE"})
    assert rows(by_email.text) == 1 and f"/console/bookings/{made[12]}" in by_email.text
    by_domain = client.get("/console/bookings", params={"guest": "example.org"})
    assert rows(by_domain.text) == 1
    nobody = client.get("/console/bookings", params={"guest": "zz_%"})
    assert rows(nobody.text) == 0 and "No bookings match these filters" in nobody.text

    # Event type and dates (the host's calendar days).
    async def intro_id(session: Any) -> int:
        return (await find_booking(session, intro)).event_type_id

    intro_type = with_session(settings.database_url, intro_id)
    by_type = client.get("/console/bookings", params={"event_type": intro_type})
    assert rows(by_type.text) == 1 and f"/console/bookings/{intro}" in by_type.text
    one_day = client.get(
        "/console/bookings", params={"from": day2.isoformat(), "to": day2.isoformat()}
    )
    assert rows(one_day.text) == 6 and "1–6 of 6" in one_day.text
    since = client.get("/console/bookings", params={"from": day2.isoformat()})
    assert rows(since.text) == 7
    # Filters stay on when paging and switching tabs.
    assert "from=" + day2.isoformat() in since.text
    assert 'href="/console/bookings?tab=past&amp;from=' + day2.isoformat() in since.text

    # Bad filters: said next to the list (400), the rest still applies.
    bad = client.get("/console/bookings", params={"from": "31/12/2026", "guest": "guest 07"})
    assert bad.status_code == 400
    assert "Enter a date such as 2026-12-31." in bad.text
    assert rows(bad.text) == 1
    backwards = client.get(
        "/console/bookings", params={"from": day2.isoformat(), "to": day1.isoformat()}
    )
    assert backwards.status_code == 400
    assert "The end date must not be before the start date." in backwards.text
    assert client.get("/console/bookings?tab=nope").status_code == 400
    assert client.get("/console/bookings?page=-1").status_code == 400
    assert client.get("/console/bookings", params={"guest": "x" * 201}).status_code == 400


# A booking's page --------------------------------------------------------------------------------


def test_booking_page_shows_what_the_guest_gave(
    client: TestClient[Any], settings: Settings
) -> None:
    uid = make(
        client,
        next_weekday(),
        11,
        event="intro",
        query="?utm_source=newsletter&utm_campaign=winter",
        inviteeName="Nora Notes",
        inviteeEmail="nora@example.com",
        inviteePhone="+49 30 1234567",
        inviteeTimezone="Asia/Tokyo",
        inviteeLocale="ja",
        inviteeNotes="Please call\nbefore noon.",
        customFields={"company": "Nora & Co"},
    )
    signed_in(client, settings)
    page = client.get(f"/console/bookings/{uid}")
    assert page.status_code == 200
    text = re.sub(r"[\u2009\u202f\xa0]", " ", page.text)  # CLDR's thin and no-break spaces
    for shown in (
        "Nora Notes",
        "nora@example.com",
        load(settings, uid).invitee_phone,
        "Asia/Tokyo",
        "Japanese (ja)",
        "Please call\nbefore noon.",
        '<dt>Company</dt><dd class="pre">Nora &amp; Co</dd>',
        "utm_source",
        "newsletter",
        "utm_campaign",
        "Intro call",
        "Waiting for approval",
        "Requested (waiting for approval)",
        "by the guest",
    ):
        assert shown in text, shown
    # Times in the host's zone (Berlin), and for the guest in theirs.
    assert "11:00 – 11:15 AM</strong>" in text and "(Central European Time)" in text
    assert "For the guest: " in text and "7:00 – 7:15 PM (Japan Time)" in text


def test_another_hosts_booking_is_not_found(client: TestClient[Any], settings: Settings) -> None:
    uid = make(client, next_weekday(), 10)

    async def other(session: Any) -> None:
        await create_host(
            session, "olga", name="Olga Other", email="olga@example.com", timezone="UTC"
        )
        await session.commit()

    with_session(settings.database_url, other)
    signed_in(client, settings, "olga")
    for url in ("", "/cancel", "/decline", "/reschedule"):
        answer = client.get(f"/console/bookings/{uid}{url}")
        assert answer.status_code == 404, url
        assert "Booking not found" in answer.text
    for action in ("cancel", "confirm", "decline", "reschedule", "no-show"):
        answer = post_form(
            client, f"/console/bookings/{uid}/{action}", {"version": "1", "start": "x"}
        )
        assert answer.status_code == 404, action
    assert load(settings, uid).status == "Confirmed"
    assert load(settings, uid).version == 1
    assert rows(client.get("/console/bookings").text) == 0


# Cancel -----------------------------------------------------------------------------------------


def test_cancel_tells_the_guest_and_acts_once(client: TestClient[Any], settings: Settings) -> None:
    uid = make(client, next_weekday(), 10)
    signed_in(client, settings)
    ask = client.get(f"/console/bookings/{uid}/cancel")
    assert ask.status_code == 200
    assert "Cancel this booking?" in ask.text and 'data-confirm="Cancel this booking?"' in ask.text
    version = version_of(ask.text, "cancel")
    form = {"version": version, "reason": "I am ill, sorry."}

    first = post_form(client, f"/console/bookings/{uid}/cancel", form, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == f"/console/bookings/{uid}"
    booking = load(settings, uid)
    assert booking.status == "Cancelled"
    assert booking.cancellation_reason == "I am ill, sorry."
    shown = client.get(f"/console/bookings/{uid}")
    assert "Booking cancelled" in flashes(shown.text)
    assert "Reason: I am ill, sorry." in shown.text and "by you" in shown.text

    # The same form again (a double submit): nothing more happens, and the host is told.
    again = post_form(client, f"/console/bookings/{uid}/cancel", form)
    assert again.status_code == 200 and again.url.path == f"/console/bookings/{uid}"
    assert "This booking changed since you opened it" in flashes(again.text)
    cancelled = [e for e in events(settings, uid) if e["trigger"] == "BOOKING_CANCELLED"]
    assert len(cancelled) == 1 and cancelled[0]["by"] == "host"

    emails = [m.payload for m in outbox(settings, "email", uid=uid)]
    to_guest = [e for e in emails if e["to"] == "alex@example.com"]
    assert any("cancel" in e["subject"].lower() for e in to_guest), to_guest
    assert any("I am ill, sorry." in e["text"] for e in to_guest)
    assert rows(client.get("/console/bookings?tab=cancelled").text) == 1


def test_cancel_with_a_bad_reason_changes_nothing(
    client: TestClient[Any], settings: Settings
) -> None:
    uid = make(client, next_weekday(), 10)
    signed_in(client, settings)
    answer = post_form(
        client, f"/console/bookings/{uid}/cancel", {"version": "1", "reason": "bad\x00reason"}
    )
    assert answer.status_code == 400
    assert "The reason cannot contain control characters." in answer.text
    assert load(settings, uid).status == "Confirmed"
    # A form without its version is refused as out of date.
    stale = post_form(client, f"/console/bookings/{uid}/cancel", {"reason": "x"})
    assert "This booking changed" in flashes(stale.text)
    assert load(settings, uid).status == "Confirmed"


# Reschedule ----------------------------------------------------------------------------------------


def test_reschedule_to_a_free_time(client: TestClient[Any], settings: Settings) -> None:
    day = next_weekday()
    uid = make(client, day, 10)
    taken = make(client, day, 11, inviteeName="Tom Taken", inviteeEmail="tom@example.com")
    signed_in(client, settings)
    page = client.get(f"/console/bookings/{uid}/reschedule", params={"day": day.isoformat()})
    assert page.status_code == 200
    new_start, _end = demo_slot(day, 14)
    assert f'value="{new_start}"' in page.text
    own, _ = demo_slot(day, 10)
    busy, _ = demo_slot(day, 11)
    assert f'value="{own}"' not in page.text  # its own time is not a move
    assert f'value="{busy}"' not in page.text  # another guest holds it
    assert "Free times on" in page.text

    version = version_of(page.text, "reschedule")
    form = {"version": version, "start": new_start, "reason": "Clash", "day": day.isoformat()}
    moved = post_form(client, f"/console/bookings/{uid}/reschedule", form, follow_redirects=False)
    assert moved.status_code == 303
    new_uid = moved.headers["location"].rsplit("/", 1)[1]
    assert new_uid != uid
    old, new = load(settings, uid), load(settings, new_uid)
    assert old.status == "Rescheduled" and old.rescheduled_to_uid == new_uid
    assert new.status == "Confirmed" and new.start.strftime("%Y-%m-%dT%H:%M:%SZ") == new_start
    assert new.invitee_email == "alex@example.com"
    shown = client.get(f"/console/bookings/{new_uid}")
    assert "Booking moved to" in flashes(shown.text)
    assert "Rescheduled" in shown.text and f'href="/console/bookings/{uid}"' in shown.text
    assert "Reason: Clash" in shown.text
    before = client.get(f"/console/bookings/{uid}")
    assert f'href="/console/bookings/{new_uid}"' in before.text
    assert "Moved to another time" in before.text
    emails = [m.payload for m in outbox(settings, "email", uid=new_uid)]
    assert any(e["to"] == "alex@example.com" for e in emails)
    assert load(settings, taken).status == "Confirmed"

    # The old form again: the booking has moved on.
    again = post_form(client, f"/console/bookings/{uid}/reschedule", form)
    assert "This booking changed" in flashes(again.text)
    assert count_bookings(settings) == 3


def test_reschedule_to_a_time_that_is_not_free(client: TestClient[Any], settings: Settings) -> None:
    day = next_weekday()
    uid = make(client, day, 10)
    make(client, day, 11, inviteeName="Tom Taken", inviteeEmail="tom@example.com")
    signed_in(client, settings)
    for start in (
        demo_slot(day, 3)[0],  # outside the host's hours
        demo_slot(day, 11)[0],  # another guest's
        demo_slot(day, 10, 7)[0],  # not on the slot grid
        "2020-01-06T09:00:00Z",  # past
        "not a time",
    ):
        answer = post_form(
            client,
            f"/console/bookings/{uid}/reschedule",
            {"version": "1", "start": start, "day": day.isoformat()},
        )
        assert answer.status_code in (400, 409), start
        assert "Nothing was changed" in answer.text, start
        booking = load(settings, uid)
        assert booking.status == "Confirmed" and booking.version == 1, start
    assert count_bookings(settings) == 2
    none_chosen = post_form(client, f"/console/bookings/{uid}/reschedule", {"version": "1"})
    assert none_chosen.status_code == 400
    assert "Choose one of the free times." in none_chosen.text
    assert client.get(f"/console/bookings/{uid}/reschedule?day=2026-99-01").status_code == 400


# Approval -----------------------------------------------------------------------------------------


def test_confirm_and_decline_a_request(client: TestClient[Any], settings: Settings) -> None:
    day = next_weekday()
    yes = make(client, day, 10, event="intro", inviteeEmail="yes@example.com")
    no = make(client, day, 11, event="intro", inviteeEmail="no@example.com")
    signed_in(client, settings)
    page = client.get(f"/console/bookings/{yes}")
    assert "Waiting for approval" in page.text
    version = version_of(page.text, "confirm")
    confirmed = post_form(client, f"/console/bookings/{yes}/confirm", {"version": version})
    assert confirmed.url.path == f"/console/bookings/{yes}"
    assert "Booking confirmed" in flashes(confirmed.text)
    assert load(settings, yes).status == "Confirmed"
    twice = post_form(client, f"/console/bookings/{yes}/confirm", {"version": version})
    assert "This booking changed" in flashes(twice.text)
    assert [e["trigger"] for e in events(settings, yes)].count("BOOKING_CONFIRMED") == 1

    ask = client.get(f"/console/bookings/{no}/decline")
    assert ask.status_code == 200 and "Decline this booking?" in ask.text
    declined = post_form(
        client,
        f"/console/bookings/{no}/decline",
        {"version": version_of(ask.text, "decline"), "reason": "Fully booked this week."},
    )
    assert "Booking declined" in flashes(declined.text)
    booking = load(settings, no)
    assert booking.status == "Declined" and booking.decline_reason == "Fully booked this week."
    assert "Reason: Fully booked this week." in declined.text
    emails = [m.payload for m in outbox(settings, "email", uid=no)]
    assert any(e["to"] == "no@example.com" and "Fully booked" in e["text"] for e in emails)
    # A confirmed booking cannot be declined.
    refused = client.get(f"/console/bookings/{yes}/decline")
    assert "This booking can no longer be changed." in refused.text
    assert rows(client.get("/console/bookings?tab=unconfirmed").text) == 0


# No-show ------------------------------------------------------------------------------------------


def test_mark_a_no_show(client: TestClient[Any], settings: Settings) -> None:
    day = next_weekday()
    uid = make(client, day, 10)
    signed_in(client, settings)
    early = post_form(client, f"/console/bookings/{uid}/no-show", {"absent": "alex@example.com"})
    assert "has started can be marked" in flashes(early.text)
    assert load(settings, uid).absent_attendees == []

    start = load(settings, uid).start
    clock.set_offset(start - datetime.now(UTC) + timedelta(minutes=40))
    page = client.get(f"/console/bookings/{uid}")
    assert "Who did not come?" in page.text
    marked = post_form(client, f"/console/bookings/{uid}/no-show", {"absent": "alex@example.com"})
    assert "Attendance saved." in flashes(marked.text)
    assert load(settings, uid).absent_attendees == ["alex@example.com"]
    assert "Did not come: alex@example.com" in marked.text
    past = client.get("/console/bookings?tab=past")
    assert rows(past.text) == 1 and "No-show" in past.text
    # The host could not be there either.
    both = post_form(
        client,
        f"/console/bookings/{uid}/no-show",
        {"absent": "alex@example.com", "host_absent": "1"},
    )
    assert load(settings, uid).absent_host
    assert "You could not be there." in both.text
    # Unticked: everyone came after all.
    post_form(client, f"/console/bookings/{uid}/no-show", {})
    assert load(settings, uid).absent_attendees == [] and not load(settings, uid).absent_host
    triggers = [e["trigger"] for e in events(settings, uid)]
    assert triggers.count("BOOKING_NO_SHOW_UPDATED") == 3


# PostgreSQL ---------------------------------------------------------------------------------------


def test_lists_history_and_a_move_on_postgresql(pg_url: str, tmp_path: Any) -> None:
    from app.main import create_app
    from support import make_settings

    settings = make_settings(tmp_path, database_url=pg_url)
    day = next_weekday()
    with TestClient(app=create_app(settings)) as client:
        uid = make(client, day, 10, inviteeName="Pia Postgres", inviteeEmail="pia@example.com")
        make(client, day, 11, inviteeName="Otto Other", inviteeEmail="otto@example.com")
        signed_in(client, settings)
        found = client.get(
            "/console/bookings",
            params={"guest": "PIA@", "from": day.isoformat(), "to": day.isoformat()},
        )
        assert found.status_code == 200 and rows(found.text) == 1
        assert f"/console/bookings/{uid}" in found.text
        page = client.get(f"/console/bookings/{uid}/reschedule", params={"day": day.isoformat()})
        start, _ = demo_slot(day, 15)
        moved = post_form(
            client,
            f"/console/bookings/{uid}/reschedule",
            {"version": version_of(page.text, "reschedule"), "start": start},
        )
        assert "Booking moved to" in flashes(moved.text)
        assert f'href="/console/bookings/{uid}"' in moved.text
        assert load(settings, uid).status == "Rescheduled"
