"""Console → Bookings in Chromium, as a host uses it: sign in from the emailed link, see the
guests' bookings, open one, move it to another free time, cancel another; at 1280 and 360 px,
with axe-core finding nothing serious on any page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from console_support import browser_sign_in as sign_in
from console_support import in_thread
from playwright.sync_api import Page, expect

from app.settings import Settings
from support import book, demo_slot, next_weekday, outbox

pytestmark = pytest.mark.xdist_group("browser")
DAY = next_weekday(4)
Axe = Callable[[Page], list[dict[str, Any]]]
Shot = Callable[[Page, str], None]


@pytest.fixture(scope="module")
def bookings(base_url: str) -> Iterator[dict[str, str]]:
    """Two guests' bookings on one day, made through the public API."""
    with httpx.Client(base_url=base_url) as client:
        first = book(
            client, hour=10, day=DAY, inviteeName="Mia Mover", inviteeEmail="mia@example.com"
        )
        second = book(
            client,
            hour=11,
            day=DAY,
            inviteeName="Carl Cancel",
            inviteeEmail="carl@example.com",
            inviteeNotes="Looking forward to it.",
        )
    yield {"move": first["id"], "cancel": second["id"]}


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def checked(page: Page, axe: Axe) -> None:
    found = axe(page)
    assert not found, found


def test_host_moves_one_booking_and_cancels_another(
    page: Page,
    base_url: str,
    widget_settings: Settings,
    bookings: dict[str, str],
    axe: Axe,
    shot: Shot,
) -> None:
    page.set_default_timeout(15_000)
    sign_in(page, base_url, widget_settings)
    expect(page).to_have_url(re.compile(r"/console/bookings$"))
    expect(page.get_by_role("heading", level=1, name="Bookings")).to_be_visible()
    expect(page.get_by_role("link", name="Upcoming")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("cell", name=re.compile("Mia Mover"))).to_be_visible()
    shot(page, "console-bookings-list-1280")
    checked(page, axe)

    # Open Mia's booking and move it to 14:00 the same day.
    page.locator(f'a[href="/console/bookings/{bookings["move"]}"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text("30 minute meeting with Mia Mover")
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(page.locator(".booking-history")).to_contain_text("Booked by the guest")
    shot(page, "console-bookings-detail-1280")
    checked(page, axe)
    page.get_by_role("link", name="Reschedule…").click()
    expect(page.get_by_role("heading", name="Move this booking to another time")).to_be_visible()
    page.locator(f'a[href*="day={DAY.isoformat()}"]').first.click()
    expect(page.get_by_role("group", name=re.compile("Free times on"))).to_be_visible()
    # A guest takes 15:00 while the host is choosing it: the host is told, nothing moves.
    taken, _ = demo_slot(DAY, 15)
    page.locator(f'input[name="start"][value="{taken}"]').check()
    with httpx.Client(base_url=base_url) as client:
        book(client, hour=15, day=DAY, inviteeName="Quick Quinn", inviteeEmail="q@example.com")
    page.get_by_role("button", name="Move booking").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone has just taken that time.")
    expect(page.locator(f'input[name="start"][value="{taken}"]')).to_have_count(0)
    checked(page, axe)

    new_start, _ = demo_slot(DAY, 14)
    slot = page.locator(f'input[name="start"][value="{new_start}"]')
    slot.check()
    page.get_by_label("Reason (optional, the guest sees it)").fill("A clash in my calendar.")
    shot(page, "console-bookings-reschedule-1280")
    checked(page, axe)
    page.get_by_role("button", name="Move booking").click()
    expect(page.locator(".flash-success")).to_contain_text("Booking moved to")
    expect(page.locator(".booking-history")).to_contain_text("Rescheduled by you")
    expect(page.locator(".booking-history")).to_contain_text("A clash in my calendar.")
    expect(page.get_by_role("link", name=re.compile("10:00"))).to_have_attribute(
        "href", f"/console/bookings/{bookings['move']}"
    )
    shot(page, "console-bookings-moved-1280")
    checked(page, axe)

    # Cancel Carl's booking, with a reason, through its confirmation page.
    page.get_by_role("link", name="All bookings").click()
    page.locator(f'a[href="/console/bookings/{bookings["cancel"]}"]').click()
    expect(page.get_by_text("Looking forward to it.")).to_be_visible()
    page.get_by_role("link", name="Cancel booking…").click()
    expect(page.get_by_role("heading", name="Cancel this booking?")).to_be_visible()
    page.get_by_label("Reason (optional, the guest sees it)").fill("I am away that day.")
    shot(page, "console-bookings-cancel-1280")
    checked(page, axe)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel booking").click()
    expect(page.locator(".flash-success")).to_contain_text("Booking cancelled")
    expect(page.locator(".badge-danger")).to_have_text("Cancelled")
    expect(page.locator(".booking-history")).to_contain_text("I am away that day.")
    checked(page, axe)

    page.get_by_role("link", name="All bookings").click()
    page.get_by_role("link", name="Cancelled").click()
    expect(page).to_have_url(re.compile(r"tab=cancelled"))
    expect(page.locator(".bookings-table tbody tr")).to_have_count(2)  # moved away, cancelled
    checked(page, axe)

    # The guests are told (the outbox, read outside Playwright's event loop).
    emails = in_thread(outbox, widget_settings, "email")
    to = {(m.payload["to"], m.payload["subject"]) for m in emails}
    assert any(who == "carl@example.com" and "ancel" in subject for who, subject in to), to
    assert any(who == "mia@example.com" and "eschedul" in subject for who, subject in to), to

    # 360 px: the list, a booking, the reschedule page, the cancel page.
    page.set_viewport_size({"width": 360, "height": 800})
    page.get_by_role("link", name="Upcoming").click()
    expect(page).to_have_url(re.compile(r"tab=upcoming"))
    expect(page.get_by_role("cell", name=re.compile("Mia Mover"))).to_be_visible()
    no_horizontal_scroll(page)
    shot(page, "console-bookings-list-360")
    checked(page, axe)
    page.locator("tr", has_text="Mia Mover").locator("a.booking-when").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("30 minute meeting with Mia Mover")
    no_horizontal_scroll(page)
    shot(page, "console-bookings-detail-360")
    checked(page, axe)
    page.get_by_role("link", name="Reschedule…").click()
    expect(page.get_by_role("heading", name="Move this booking to another time")).to_be_visible()
    no_horizontal_scroll(page)
    shot(page, "console-bookings-reschedule-360")
    checked(page, axe)
    page.go_back()
    page.get_by_role("link", name="Cancel booking…").click()
    expect(page.get_by_role("heading", name="Cancel this booking?")).to_be_visible()
    no_horizontal_scroll(page)
    shot(page, "console-bookings-cancel-360")
    checked(page, axe)


def test_host_reads_a_request_and_confirms_it(
    page: Page, base_url: str, widget_settings: Settings, axe: Axe, shot: Shot
) -> None:
    page.set_default_timeout(15_000)
    start, end = demo_slot(DAY, 16, minutes=15)
    with httpx.Client(base_url=base_url) as client:
        answer = client.post(
            "/api/public/scheduling/demo/intro/book?utm_source=newsletter",
            json={
                "startTime": start,
                "endTime": end,
                "inviteeName": "Rita Request",
                "inviteeEmail": "rita@example.com",
                "inviteeTimezone": "Asia/Tokyo",
                "inviteeLocale": "ja",
                "inviteeNotes": "Can we talk about the winter offer?",
                "customFields": {"company": "Rita Robotics"},
            },
        )
        assert answer.status_code == 201, answer.text
    sign_in(page, base_url, widget_settings)
    page.get_by_role("link", name=re.compile("Waiting for approval")).click()
    expect(page).to_have_url(re.compile(r"tab=unconfirmed"))
    page.locator("tr", has_text="Rita Request").locator("a.booking-when").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Intro call with Rita Request")
    facts = page.locator("main")
    for text in ("Rita Robotics", "Can we talk about the winter offer?", "newsletter", "Japan"):
        expect(facts).to_contain_text(text)
    shot(page, "console-bookings-request-1280")
    checked(page, axe)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("Booking confirmed")
    expect(page.locator(".page-head .badge")).to_have_text("Confirmed")
    expect(page.locator(".booking-history")).to_contain_text("Confirmed by you")
    page.set_viewport_size({"width": 360, "height": 800})
    page.reload()
    no_horizontal_scroll(page)
    shot(page, "console-bookings-request-360")
    checked(page, axe)
