"""Issue 11's "How it will be tried", end to end in Chromium, through the real doors only.

1. The admin (the demo host) invites a new host from Console › Hosts; the invitation email is in
   the outbox, and the new host signs in from the link in its text.
2. The new host creates an event type with a required question and a 15-minute buffer.
3. In Availability: Tuesday 10:00-12:00 and 14:00-16:00 (no other day) and a vacation next week.
4. The embed builder's snippet for that event type, pasted into a page of another origin (with a
   strict CSP of its own): a guest there books the first time offered, answering the question.
   It is the first Tuesday 10:00 (host's zone) outside the vacation.
5. The host finds the booking in Console › Bookings, with the guest's answer, and moves it to
   the afternoon (14:00 that day) from the real free times.
6. The guest's emails: the confirmation, then the rescheduled one with the new time.
7. Bad input everywhere: a duration of 0, a 5,000-character title, a ``<script>`` title (shown as
   text; no dialog ever opens), overlapping weekly hours, an override in the past. Each gets a
   clear message next to the field, and nothing is half-saved (the database says so).

Every page is screenshotted at 1280 and 360 px (tests/browser/artifacts/console-journey-*.png),
must not scroll sideways at 360 px, and axe-core finds nothing serious or critical on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from console_support import browser_sign_in, in_thread, path_of
from embed_support import in_database, pasting_site, widget_frame
from playwright.sync_api import Browser, BrowserContext, Dialog, Frame, Page, expect
from sqlalchemy import func, select

from app.db.models import (
    Booking,
    EventType,
    Host,
    Schedule,
    ScheduleInterval,
    ScheduleOverride,
)
from app.settings import Settings
from support import outbox

pytestmark = pytest.mark.xdist_group("browser-console-journey")

Axe = Callable[[Any], list[dict[str, Any]]]
Shot = Callable[[Page, str], None]

HOST_ZONE = ZoneInfo("Europe/Paris")
GUEST_ZONE = ZoneInfo("America/New_York")
NEW_HOST = {"slug": "rosa", "name": "Rosa Gardener", "email": "rosa@example.com"}
GUEST = {"name": "Grace Guest", "email": "grace@example.com"}
QUESTION = "What is your garden like?"
ANSWER = "A small courtyard with roses."
TUESDAY = 1
# Tuesday's hours as set below; 30-minute meetings start every 30 minutes.
TUESDAY_HOURS = ((time(10), time(12)), (time(14), time(16)))
SCRIPT = "<script>alert(1)</script>"


# --- what every page must pass -------------------------------------------------------------


def look(page: Page, name: str, axe: Axe, shot: Shot) -> None:
    """At 1280 and 360 px: no sideways scroll, a screenshot, no serious accessibility finding."""
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name} scrolls sideways at {width}px ({scroll}px)"
        shot(page, f"console-journey-{name}-{width}")
        # A full-page screenshot leaves style="" behind, which htmx would copy onto the next
        # page's elements and the CSP (rightly) refuse; a host never meets that.
        page.evaluate(
            "document.querySelectorAll('[style=\"\"]').forEach(e => e.removeAttribute('style'))"
        )
        found = axe(page)
        assert not found, (name, width, found)
    page.set_viewport_size({"width": 1280, "height": 900})


def no_dialogs(page: Page) -> list[str]:
    """Every alert/confirm the page opens (none is expected): recorded and dismissed."""
    opened: list[str] = []

    def record(dialog: Dialog) -> None:
        opened.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", record)
    return opened


def new_context(chromium: Browser, zone: ZoneInfo) -> tuple[BrowserContext, Page, list[str]]:
    """A fresh browser in ``zone``; returns its page and the CSP complaints it logs."""
    context = chromium.new_context(
        locale="en-US", timezone_id=str(zone), viewport={"width": 1280, "height": 900}
    )
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    return context, tab, problems


def csp_refusals(problems: list[str]) -> list[str]:
    return [p for p in problems if "Content Security Policy" in p or "Refused" in p]


# --- the calendar the test expects ---------------------------------------------------------


def vacation_week(today: date) -> tuple[date, date]:
    """Next week, Monday to Sunday."""
    monday = today + timedelta(days=7 - today.weekday())
    return monday, monday + timedelta(days=6)


def first_tuesday_slot(now: datetime) -> datetime:
    """The first start the engine should offer: a Tuesday outside the vacation, within the
    Tuesday hours, after now (no minimum notice)."""
    today = now.astimezone(HOST_ZONE).date()
    first, last = vacation_week(today)
    for offset in range(0, 60):
        day = today + timedelta(days=offset)
        if day.weekday() != TUESDAY or first <= day <= last:
            continue
        for start, end in TUESDAY_HOURS:
            moment = datetime.combine(day, start, HOST_ZONE)
            while moment.time() < end:
                if moment > now:
                    return moment
                moment += timedelta(minutes=30)
    raise AssertionError("no Tuesday in the next 60 days")


def utc_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def clock(moment: datetime) -> str:
    """``2:00 PM`` as en-US writes it (any space before AM/PM)."""
    return f"{moment.strftime('%I:%M').lstrip('0')}\\s?{moment.strftime('%p')}"


def public_slots(page: Page, base_url: str, event: str, day: date) -> set[str]:
    answer = page.request.get(
        f"{base_url}/api/public/scheduling/{NEW_HOST['slug']}/{event}/slots"
        f"?dateFrom={day - timedelta(days=1)}&dateTo={day + timedelta(days=1)}&timezone=UTC"
    )
    assert answer.ok, answer.text()
    return set(re.findall(r'"(?:startTime|start)":"([^"]+)"', answer.text()))


# --- the database, read from a thread (sync Playwright holds this one's event loop) --------


def saved(settings: Settings, slug: str) -> dict[str, Any]:
    """What the host has in the database: event types, weekly hours, overrides, bookings."""

    async def work(session: Any) -> dict[str, Any]:
        host = (await session.scalars(select(Host).where(Host.slug == slug))).one()
        schedule = (
            await session.scalars(
                select(Schedule).where(Schedule.host_id == host.id, Schedule.is_default)
            )
        ).one()
        intervals = await session.scalars(
            select(ScheduleInterval)
            .where(ScheduleInterval.schedule_id == schedule.id)
            .order_by(ScheduleInterval.weekday, ScheduleInterval.start_minute)
        )
        overrides = await session.scalars(
            select(ScheduleOverride)
            .where(ScheduleOverride.schedule_id == schedule.id)
            .order_by(ScheduleOverride.day)
        )
        bookings = await session.scalars(
            select(Booking).where(Booking.host_id == host.id).order_by(Booking.id)
        )
        titles = await session.scalars(select(EventType.title).where(EventType.host_id == host.id))
        longest = await session.scalar(
            select(func.max(func.length(EventType.title))).where(EventType.host_id == host.id)
        )
        return {
            "zone": host.timezone,
            "admin": host.is_admin,
            "hours": [(i.weekday, i.start_minute, i.end_minute) for i in intervals],
            "overrides": [(o.day, o.start_minute, o.end_minute) for o in overrides],
            "bookings": [
                {
                    "uid": b.uid,
                    "start": aware(b.start),
                    "end": aware(b.end),
                    "status": b.status,
                    "email": b.invitee_email,
                    "answers": dict(b.custom_fields),
                    "to": b.rescheduled_to_uid,
                }
                for b in bookings
            ],
            "titles": sorted(titles),
            "longest_title": longest or 0,
        }

    return dict(in_database(settings.database_url, work))


# --- another origin to paste the snippet into -----------------------------------------------


@pytest.fixture
def site(base_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    with pasting_site(base_url) as served:
        yield served


def garden_site(snippet: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Rosa's Gardens</title></head><body><main><h1>Rosa's Gardens</h1>"
        f"<p>Book a garden consultation:</p>{snippet}</main></body></html>"
    )


# --- 1 to 6: the journey --------------------------------------------------------------------


def test_a_new_host_from_the_invitation_to_a_rescheduled_booking(
    chromium: Browser,
    page: Page,
    base_url: str,
    widget_settings: Settings,
    site: tuple[str, dict[str, str]],
    axe: Axe,
    shot: Shot,
) -> None:
    site_url, site_pages = site
    page.set_default_timeout(15_000)
    admin_dialogs = no_dialogs(page)

    # 1. The admin invites Rosa.
    browser_sign_in(page, base_url, widget_settings, "demo")
    page.goto(base_url + "/console/hosts")
    expect(page.get_by_role("heading", name="Hosts", level=1)).to_be_visible()
    page.get_by_label("Slug", exact=True).fill(NEW_HOST["slug"])
    page.get_by_label("Name", exact=True).fill(NEW_HOST["name"])
    page.get_by_label("Email", exact=True).fill(NEW_HOST["email"])
    page.get_by_label("Time zone", exact=True).select_option(str(HOST_ZONE))
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.locator(".flash")).to_contain_text(
        f"{NEW_HOST['name']} is invited: a sign-in link is on its way to {NEW_HOST['email']}."
    )
    row = page.locator("table.hosts tbody tr", has_text=NEW_HOST["email"])
    expect(row).to_contain_text("Active")
    look(page, "hosts-invited", axe, shot)
    assert admin_dialogs == []

    invitations = [
        m.payload
        for m in in_thread(outbox, widget_settings, "email")
        if m.payload["to"] == NEW_HOST["email"]
    ]
    assert len(invitations) == 1, invitations
    assert invitations[0]["subject"].startswith("You are invited to schedule with")
    links = re.findall(r"https?://\S+/console/sign-in/\S+", invitations[0]["text"])
    assert len(links) == 1, invitations[0]["text"]

    host_context, host, host_problems = new_context(chromium, HOST_ZONE)
    host.set_default_timeout(15_000)
    host_dialogs = no_dialogs(host)
    try:
        host.goto(base_url + path_of(links[0]))
        look(host, "sign-in-confirm", axe, shot)
        host.get_by_role("button", name="Sign in").click()
        expect(host).to_have_url(re.compile(r"/console/bookings$"))
        expect(host.get_by_role("heading", name="Bookings", level=1)).to_be_visible()
        expect(host.locator(".empty").first).to_be_visible()  # nothing booked yet
        expect(host.get_by_role("link", name="Hosts")).to_have_count(0)  # not an admin
        look(host, "bookings-empty", axe, shot)
        fresh = in_thread(saved, widget_settings, NEW_HOST["slug"])
        assert fresh["zone"] == str(HOST_ZONE) and fresh["admin"] is False

        # 2. An event type with a required question and a buffer of 15 minutes after.
        host.get_by_role("link", name="Event types").first.click()
        expect(host.get_by_role("heading", name="Event types", level=1)).to_be_visible()
        host.get_by_role("link", name="New event type").click()
        expect(host.get_by_role("heading", name="New event type", level=1)).to_be_visible()
        host.get_by_label("Title", exact=True).fill("Garden consultation")
        host.get_by_label("Slug", exact=True).fill("garden")
        host.get_by_label("Duration (minutes)").fill("30")
        host.get_by_label("Buffer after (minutes)").fill("15")
        host.get_by_role("button", name="Add a question").click()
        expect(host.get_by_label("Question", exact=True)).to_be_visible()
        host.get_by_label("Question", exact=True).fill(QUESTION)
        host.get_by_label("Required", exact=True).check()
        look(host, "event-type-new", axe, shot)
        host.get_by_role("button", name="Create event type").click()
        expect(host.get_by_role("heading", name="Garden consultation", level=1)).to_be_visible()
        expect(host.get_by_text("Event type created.")).to_be_visible()
        public = f"{base_url}/{NEW_HOST['slug']}/garden"
        expect(host.get_by_label("Public link")).to_have_value(public)
        look(host, "event-type-created", axe, shot)

        # 3. Tuesday 10-12 and 14-16, no other day; then a vacation next week.
        host.get_by_role("link", name="Availability").first.click()
        host.get_by_role("link", name="Working hours").click()
        expect(
            host.get_by_role("heading", name=re.compile("Working hours"), level=1)
        ).to_be_visible()
        for day in (0, 2, 3, 4):  # the invitation's default: Monday to Friday, 9 to 5
            host.locator(f"#start-{day}-0").fill("")
            host.locator(f"#end-{day}-0").fill("")
        host.locator(f"#start-{TUESDAY}-0").fill("10:00")
        host.locator(f"#end-{TUESDAY}-0").fill("12:00")
        host.get_by_role("button", name="Add interval (Tuesday)").click()
        expect(host.get_by_text("Not saved yet")).to_be_visible()
        expect(host.locator("#start-0-0")).to_have_value("")  # what was typed is kept
        expect(host.locator(f"#end-{TUESDAY}-0")).to_have_value("12:00")
        host.locator(f"#start-{TUESDAY}-1").fill("14:00")
        host.locator(f"#end-{TUESDAY}-1").fill("16:00")
        host.get_by_role("button", name="Save hours", exact=True).click()
        expect(host.get_by_text("Weekly hours saved.")).to_be_visible()
        for day in (0, 2, 3, 4, 5, 6):
            expect(host.locator(f"#day-{day} .avail-closed")).to_be_visible()
        expect(host.locator(f"#end-{TUESDAY}-1")).to_have_value("16:00")
        assert in_thread(saved, widget_settings, NEW_HOST["slug"])["hours"] == [
            (TUESDAY, 600, 720),
            (TUESDAY, 840, 960),
        ]

        now = datetime.now(UTC)
        first, last = vacation_week(now.astimezone(HOST_ZONE).date())
        host.get_by_label("Date (or first day)").fill(first.isoformat())
        host.get_by_label("Last day (for a vacation)").fill(last.isoformat())
        host.get_by_label("Unavailable all day").check()
        host.get_by_role("button", name="Add override").click()
        expect(host.get_by_text("Override saved from")).to_be_visible()
        expect(host.locator("#overrides table.table tbody tr")).to_have_count(1)
        assert in_thread(saved, widget_settings, NEW_HOST["slug"])["overrides"] == [
            (first + timedelta(days=n), None, None) for n in range(7)
        ]
        host.get_by_label("Event type").select_option(label="Garden consultation")
        host.get_by_role("button", name="Show").click()
        expect(host).to_have_url(re.compile("event_type=garden"))
        preview = host.locator("#preview")
        expect(preview.locator("h3")).to_have_count(7)
        coming = first_tuesday_slot(now).date()
        if (coming - now.astimezone(HOST_ZONE).date()).days < 7:
            tuesday = preview.locator("li", has=host.locator("h3", has_text="Tuesday"))
            expect(tuesday.locator(".avail-slots li").first).to_have_text(
                re.compile(clock(first_tuesday_slot(now)))
            )
            expect(tuesday.locator(".avail-slots li").last).to_have_text(re.compile(r"^3:30\sPM$"))
        look(host, "availability", axe, shot)

        # 4. The embed snippet for that event type, on another origin; only that site allowed.
        host.get_by_role("link", name="Embed").first.click()
        expect(host.get_by_role("heading", name="Embed", level=1)).to_be_visible()
        host.get_by_label("What guests can book").select_option("garden")
        snippet_box = host.locator("#embed-snippet")
        expect(snippet_box).to_have_value(re.compile(f'data-booking-url="{re.escape(public)}"'))
        snippet = snippet_box.input_value()
        assert snippet.endswith(f'<script src="{base_url}/embed.js" async></script>'), snippet
        host.get_by_label("Allowed websites").fill(site_url)
        host.get_by_role("button", name="Save allowed websites").click()
        expect(host.locator(".flash")).to_contain_text("only the websites you listed")
        # Back to the snippet being built, not to the whole booking page's.
        expect(host.get_by_label("What guests can book")).to_have_value("garden")
        expect(snippet_box).to_have_value(snippet)
        expect(host.get_by_label("Allowed websites")).to_have_value(site_url)
        look(host, "embed", axe, shot)

        site_pages["/"] = garden_site(snippet)
        expected = first_tuesday_slot(datetime.now(UTC))
        guest_context, guest, guest_problems = new_context(chromium, GUEST_ZONE)
        guest_dialogs = no_dialogs(guest)
        try:
            guest.goto(site_url + "/")
            frame = widget_frame(guest, "[data-booking-url] iframe")
            first_day = frame.locator("a[data-day]").first
            expect(first_day).to_have_attribute(
                "data-day", expected.astimezone(GUEST_ZONE).date().isoformat()
            )
            first_day.click()
            first_slot = frame.locator("a.slot").first
            expect(first_slot).to_have_text(re.compile(clock(expected.astimezone(GUEST_ZONE))))
            first_slot.click()
            frame.wait_for_selector("form.booking-form")
            frame.fill("#f-inviteeName", GUEST["name"])
            frame.fill("#f-inviteeEmail", GUEST["email"])
            frame.get_by_label(re.compile(re.escape(QUESTION))).fill(ANSWER)
            widget_look(guest, frame, "guest-form", axe, shot)
            frame.click("form.booking-form button[type=submit]")
            expect(frame.locator(".confirmation")).to_be_visible()
            widget_look(guest, frame, "guest-booked", axe, shot)
            assert guest_dialogs == []
            assert csp_refusals(guest_problems) == []
        finally:
            guest_context.close()

        state = in_thread(saved, widget_settings, NEW_HOST["slug"])
        assert len(state["bookings"]) == 1, state["bookings"]
        booked = state["bookings"][0]
        start = booked["start"].astimezone(HOST_ZONE)
        assert start == expected, (start, expected)
        assert start.weekday() == TUESDAY and not first <= start.date() <= last
        assert booked["end"] - booked["start"] == timedelta(minutes=30)
        assert booked["email"] == GUEST["email"] and booked["status"] == "Confirmed"
        assert ANSWER in booked["answers"].values(), booked["answers"]
        # The buffer: 15 free minutes are kept after the meeting, so the start right after it
        # (30 minutes later) is gone too; the one after that is free.
        offered = public_slots(host, base_url, "garden", start.date())
        assert utc_z(start) not in offered
        assert utc_z(start + timedelta(minutes=30)) not in offered, offered
        later = start + timedelta(minutes=60)
        if later.time() < time(12) or time(14) <= later.time() < time(16):
            assert utc_z(later) in offered, offered

        # 5. Rosa sees the booking and moves it to the afternoon, from the real free times.
        host.get_by_role("link", name="Bookings").first.click()
        expect(host.get_by_role("heading", name="Bookings", level=1)).to_be_visible()
        booking_row = host.locator("tr", has_text=GUEST["name"])
        expect(booking_row).to_have_count(1)
        look(host, "bookings", axe, shot)
        booking_row.locator("a.booking-when").click()
        expect(host.get_by_role("heading", level=1)).to_have_text(
            f"Garden consultation with {GUEST['name']}"
        )
        main = host.locator("main")
        expect(main).to_contain_text(QUESTION)
        expect(main).to_contain_text(ANSWER)
        expect(main).to_contain_text(GUEST["email"])
        expect(host.locator(".booking-history")).to_contain_text("Booked by the guest")
        look(host, "booking", axe, shot)

        host.get_by_role("link", name="Reschedule…").click()
        expect(
            host.get_by_role("heading", name="Move this booking to another time")
        ).to_be_visible()
        # The afternoon of that day (or the next Tuesday offered, run late on a Tuesday).
        afternoon = datetime.combine(start.date(), time(14), HOST_ZONE)
        target = first_tuesday_slot(
            max(afternoon, start + timedelta(hours=1)) - timedelta(seconds=1)
        )
        host.get_by_label("Go to a date").fill(target.date().isoformat())
        host.get_by_role("button", name="Show times").click()
        expect(host).to_have_url(re.compile(f"day={target.date().isoformat()}"))
        expect(host.get_by_role("group", name=re.compile("Free times on"))).to_be_visible()
        choice = host.locator(f'input[name="start"][value="{utc_z(target)}"]')
        expect(choice).to_have_count(1)
        choice.check()
        host.get_by_label("Reason (optional, the guest sees it)").fill("The morning is taken.")
        look(host, "reschedule", axe, shot)
        host.get_by_role("button", name="Move booking").click()
        expect(host.locator(".flash-success")).to_contain_text("Booking moved to")
        expect(host.locator(".booking-history")).to_contain_text("Rescheduled by you")
        expect(host.locator(".booking-history")).to_contain_text("The morning is taken.")
        look(host, "booking-moved", axe, shot)
        state = in_thread(saved, widget_settings, NEW_HOST["slug"])
        live = [b for b in state["bookings"] if b["status"] == "Confirmed"]
        assert [b["start"] for b in live] == [target.astimezone(UTC)], state["bookings"]
        assert live[0]["answers"] == booked["answers"]
        assert host_dialogs == []
        assert csp_refusals(host_problems) == []
    finally:
        host_context.close()

    # 6. The guest's emails: confirmed, then rescheduled to the new time (in the guest's zone).
    to_guest = [
        m.payload
        for m in in_thread(outbox, widget_settings, "email")
        if m.payload["to"] == GUEST["email"]
    ]
    subjects = [p["subject"] for p in to_guest]
    assert len(to_guest) == 2, subjects
    assert subjects[0].startswith("Confirmed: Garden consultation with"), subjects
    assert subjects[1].startswith("Rescheduled: Garden consultation with"), subjects
    assert NEW_HOST["name"] in subjects[0]
    assert f"When: {when(expected)}" in to_guest[0]["text"], to_guest[0]["text"]
    assert f"When: {when(target)}" in to_guest[1]["text"], to_guest[1]["text"]
    assert f"Previously: {when(expected)}" in to_guest[1]["text"], to_guest[1]["text"]
    assert "The morning is taken." in to_guest[1]["text"]


def when(moment: datetime) -> str:
    """How the guest's (en, New York) emails start a time: ``Tuesday, December 8, 2026, 8:00``."""
    local = moment.astimezone(GUEST_ZONE)
    return f"{local:%A, %B} {local.day}, {local.year}, {local.hour % 12 or 12}:{local:%M}"


def widget_look(guest: Page, frame: Frame, name: str, axe: Axe, shot: Shot) -> None:
    """The customer's page with the widget in it, at both widths; axe inside the widget."""
    for width in (1280, 360):
        guest.set_viewport_size({"width": width, "height": 900})
        scroll = guest.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name} scrolls sideways at {width}px ({scroll}px)"
        shot(guest, f"console-journey-{name}-{width}")
        found = axe(frame)  # the widget's own document (axe runs in the frame)
        assert not found, (name, width, found)
    guest.set_viewport_size({"width": 1280, "height": 900})


# --- 7. bad input everywhere ----------------------------------------------------------------


def test_bad_input_gets_a_clear_message_and_nothing_half_saved(
    page: Page, base_url: str, widget_settings: Settings, axe: Axe, shot: Shot
) -> None:
    page.set_default_timeout(15_000)
    dialogs = no_dialogs(page)
    browser_sign_in(page, base_url, widget_settings, "demo")
    before = in_thread(saved, widget_settings, "demo")

    # A duration of 0: refused next to the field, the form as typed, nothing saved.
    page.goto(base_url + "/console/event-types/new")
    page.get_by_label("Title", exact=True).fill("Pruning advice")
    page.get_by_label("Slug", exact=True).fill("pruning")
    page.get_by_label("Duration (minutes)").fill("0")
    page.get_by_label("Buffer after (minutes)").fill("10")
    page.get_by_role("button", name="Create event type").click()
    expect(page.locator("#form-errors")).to_contain_text("Nothing was saved")
    expect(page.locator("#f-duration-error")).to_contain_text("from 1 to 1440")
    expect(page.get_by_label("Duration (minutes)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Title", exact=True)).to_have_value("Pruning advice")
    expect(page.get_by_label("Buffer after (minutes)")).to_have_value("10")
    look(page, "bad-duration", axe, shot)
    assert in_thread(saved, widget_settings, "demo")["titles"] == before["titles"]

    # A title of 5,000 characters.
    page.get_by_label("Duration (minutes)").fill("30")
    page.get_by_label("Title", exact=True).fill("Prune " * 833 + "ab")
    page.get_by_role("button", name="Create event type").click()
    expect(page.locator("#f-title-error")).to_have_text(
        "Title is too long (at most 200 characters)."
    )
    expect(page.locator("#f-duration-error")).to_have_count(0)
    look(page, "bad-long-title", axe, shot)
    now_saved = in_thread(saved, widget_settings, "demo")
    assert now_saved["titles"] == before["titles"]
    assert now_saved["longest_title"] <= 200

    # A <script> title is a title like any other: saved, and shown as text everywhere.
    page.get_by_label("Title", exact=True).fill(SCRIPT)
    page.get_by_label("Slug", exact=True).fill("script-title")
    page.get_by_role("button", name="Create event type").click()
    expect(page.get_by_text("Event type created.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(SCRIPT)
    look(page, "script-title", axe, shot)
    no_script_ran(page)
    page.get_by_role("link", name="Edit").first.click()
    expect(page.get_by_label("Title", exact=True)).to_have_value(SCRIPT)
    no_script_ran(page)
    page.goto(base_url + "/console/event-types")
    expect(page.get_by_role("link", name=SCRIPT, exact=True)).to_be_visible()
    no_script_ran(page)
    page.goto(base_url + "/console/embed")
    expect(page.locator("#embed-target option", has_text=SCRIPT)).to_have_count(1)
    no_script_ran(page)
    page.goto(base_url + "/demo")
    expect(page.get_by_text(SCRIPT).first).to_be_visible()
    no_script_ran(page)
    page.goto(base_url + "/demo/script-title")
    expect(page.get_by_role("heading", name=SCRIPT)).to_be_visible()
    no_script_ran(page)
    assert in_thread(saved, widget_settings, "demo")["titles"] == sorted(
        [*before["titles"], SCRIPT]
    )

    # Overlapping weekly hours: the day says which intervals, nothing saved.
    page.goto(base_url + "/console/availability")
    page.get_by_role("link", name="Working hours").click()
    page.locator(f"#start-{TUESDAY}-0").fill("10:00")
    page.locator(f"#end-{TUESDAY}-0").fill("12:00")
    page.get_by_role("button", name="Add interval (Tuesday)").click()
    page.locator(f"#start-{TUESDAY}-1").fill("11:00")
    page.locator(f"#end-{TUESDAY}-1").fill("16:00")
    page.get_by_role("button", name="Save hours", exact=True).click()
    tuesday = page.locator(f"#day-{TUESDAY}")
    expect(tuesday.locator(".error")).to_contain_text("10:00–12:00 and 11:00–16:00 overlap")
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was saved")
    expect(page.locator(f"#start-{TUESDAY}-1")).to_have_value("11:00")
    look(page, "bad-overlap", axe, shot)
    assert in_thread(saved, widget_settings, "demo")["hours"] == before["hours"]

    # An override in the past.
    page.reload()
    yesterday = datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin")).date() - timedelta(days=1)
    page.get_by_label("Date (or first day)").fill(yesterday.isoformat())
    page.get_by_label("Unavailable all day").check()
    page.get_by_role("button", name="Add override").click()
    expect(page.locator("#override-from-error")).to_have_text(
        "That date is in the past: choose today or a later date."
    )
    expect(page.get_by_label("Date (or first day)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#add-override .errors")).to_contain_text("Nothing was saved")
    look(page, "bad-override-past", axe, shot)
    assert in_thread(saved, widget_settings, "demo")["overrides"] == before["overrides"]

    assert dialogs == []


def no_script_ran(page: Page) -> None:
    """The title never became a script element (the dialog handler would see one run)."""
    found = page.evaluate(
        "[...document.querySelectorAll('script')].some(s => s.textContent.includes('alert(1)'))"
    )
    assert not found, page.url
