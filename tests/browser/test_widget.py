"""A guest in a real browser: book through a direct link, change zone, fix an error, lose a slot."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from support import BERLIN, booking_body, demo_slot, next_weekday

pytestmark = pytest.mark.xdist_group("browser")
SLOT_TAKEN = "Sorry, someone has just taken that time. Please choose another one."


def span_label(start: datetime, minutes: int = 30) -> str:
    """A slot's accessible name for an American browser, as CLDR's interval format writes a
    range within one half of the day: ``5:00\u2009–\u20095:30\u202fPM``."""
    end = start + timedelta(minutes=minutes)
    half = "AM" if start.hour < 12 else "PM"
    assert half == ("AM" if end.hour < 12 else "PM")
    return (
        f"{start.hour % 12 or 12}:{start.minute:02d}\u2009–\u2009"
        f"{end.hour % 12 or 12}:{end.minute:02d}\u202f{half}"
    )


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


@pytest.mark.parametrize("width", [1280, 360])
def test_a_guest_books_through_a_direct_link(
    page: Page, base_url: str, width: int, axe, shot
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base_url}/demo/30min")
    # The page asks for its times in the browser's zone at once (no second page load): the
    # first free day's times show, and the address says the zone.
    expect(page.locator("#slots a.slot").first).to_be_visible()
    page.wait_for_url(re.compile(r"tz=America%2FNew_York"))
    expect(page.locator(".tz-now")).to_contain_text("Eastern Time")
    expect(page.locator(".tz-now")).to_contain_text("New York")
    expect(page.locator("#calendar table[role=grid]")).to_be_visible()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    no_horizontal_scroll(page)
    shot(page, f"widget-{width}-1-calendar")
    if width == 1280:
        assert axe(page) == []

    chosen = page.locator("a[data-day][aria-current=true]")
    expect(chosen).to_have_count(1)
    other = page.locator("a[data-day]:not([aria-current])").first.get_attribute("data-day")
    day = page.locator(f'a[data-day="{other}"]')
    label = day.get_attribute("aria-label")
    assert re.fullmatch(r"\w+day, \w+ \d{1,2}, \d{4}, \d+ times? available", label), label
    day.click()
    expect(page.locator("#slots-title")).to_be_focused()
    expect(day).to_have_attribute("aria-current", "true")
    assert re.search(r"[?&]date=\d{4}-\d{2}-\d{2}", page.url)
    slot = page.locator("#slots a.slot").first
    assert re.fullmatch(
        r"\d{1,2}:\d{2}\u2009–\u2009\d{1,2}:\d{2}\u202f[AP]M", slot.get_attribute("aria-label")
    )
    no_horizontal_scroll(page)
    shot(page, f"widget-{width}-2-slots")
    if width == 1280:
        assert axe(page) == []

    slot.click()
    expect(page.locator("form.booking-form")).to_be_visible()
    expect(page.locator("#form-title")).to_be_focused()
    expect(page.locator(".place")).to_contain_text("private video room")
    no_horizontal_scroll(page)
    shot(page, f"widget-{width}-3-form")
    if width == 1280:
        assert axe(page) == []

    page.fill("#f-inviteeName", f"Guest {width}")
    page.fill("#f-inviteeEmail", f"guest{width}@example.com")
    page.click("form.booking-form button[type=submit]")
    expect(page.locator(".confirmation h2")).to_have_text("You are booked")
    expect(page.locator("#done-title")).to_be_focused()
    expect(page.locator(".summary")).to_contain_text("Eastern Time")
    expect(page.locator(".summary a[href^='https://meet.jit.si/30min-']")).to_have_count(1)
    assert "/demo/30min/confirmation?" in page.url
    no_horizontal_scroll(page)
    shot(page, f"widget-{width}-4-confirmation")
    if width == 1280:
        assert axe(page) == []
        # The back button returns to the form's state, the address still works after a reload.
        page.reload()
        expect(page.locator(".confirmation h2")).to_have_text("You are booked")


def test_switching_the_time_zone_moves_the_times(page: Page, base_url: str, axe) -> None:
    day = next_weekday()
    page.goto(f"{base_url}/demo/30min?tz=Europe/Berlin&date={day.isoformat()}")
    expect(page.locator("#slots a.slot").first).to_have_attribute(
        "aria-label", "9:00\u2009–\u20099:30\u202fAM"
    )
    # Months change in place (htmx), and the address follows.
    page.evaluate("window.stayed = true")
    title = page.locator("#calendar-title").inner_text()
    page.click("a[rel=next]")
    expect(page.locator("#calendar-title")).not_to_have_text(title)
    expect(page.locator("#calendar-title")).to_be_focused()
    assert page.evaluate("window.stayed === true")
    assert "month=" in page.url
    # The zone search finds cities by name, in place, while the guest types.
    page.click(".tz-change summary")
    page.fill("#tz-q", "toky")
    results = page.locator("#zone-results a")
    expect(results.first).to_contain_text("Tokyo")
    expect(results.first).to_contain_text("Japan")
    expect(results.first).to_contain_text("GMT+09:00")
    expect(page.locator("#tz-q")).to_be_focused()
    assert axe(page) == []
    results.first.click()
    page.wait_for_url(re.compile(r"tz=Asia%2FTokyo"))
    expect(page.locator(".tz-now")).to_contain_text("Japan")
    labels = page.locator("#slots a.slot").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))"
    )
    assert "9:00\u2009–\u20099:30\u202fAM" not in labels
    # The demo host's 9:00 in Berlin, in Tokyo on that day: zoneinfo knows both zones' DST rules.
    berlin_nine = datetime.combine(day, time(9), BERLIN).astimezone(ZoneInfo("Asia/Tokyo"))
    assert span_label(berlin_nine) in labels
    # 24-hour clock on request; the choice sticks to the links.
    page.click(".clock a[aria-label='24-hour clock']")
    expect(page.locator("#slots a.slot").first).not_to_contain_text("M")
    assert "clock=24" in page.url
    assert f"{berlin_nine:%H:%M}" in page.locator("#slots").inner_text()


def test_a_validation_error_shows_next_to_its_field(page: Page, base_url: str, shot) -> None:
    start, _ = demo_slot(next_weekday(4), 11)
    page.goto(f"{base_url}/demo/30min/form?tz=Europe/Berlin&start={start}")
    page.fill("#f-inviteeName", "Kim Typed")
    page.fill("#f-inviteeEmail", "kim@example")
    page.fill("#f-inviteeNotes", "Please call after lunch")
    page.click("form.booking-form button[type=submit]")
    error = page.locator("#f-inviteeEmail-error")
    expect(error).to_contain_text("Please enter a valid email address")
    expect(page.locator("#f-inviteeEmail")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-inviteeEmail")).to_be_focused()
    expect(page.locator("#f-inviteeName")).to_have_value("Kim Typed")
    expect(page.locator("#f-inviteeNotes")).to_have_value("Please call after lunch")
    shot(page, "widget-1280-5-form-error")
    page.fill("#f-inviteeEmail", "kim@example.com")
    page.click("form.booking-form button[type=submit]")
    expect(page.locator(".confirmation h2")).to_have_text("You are booked")


def test_a_slot_taken_meanwhile_says_so_and_offers_the_days_times(
    page: Page, base_url: str, shot
) -> None:
    day = next_weekday(5)
    start, end = demo_slot(day, 15)
    page.goto(f"{base_url}/demo/30min?tz=Europe/Berlin&date={day.isoformat()}")
    page.click(f'#slots a.slot[href*="start={start.replace(":", "%3A")}"]')
    page.fill("#f-inviteeName", "Slow Guest")
    page.fill("#f-inviteeEmail", "slow@example.com")
    taken = httpx.post(
        f"{base_url}/api/public/scheduling/demo/30min/book", json=booking_body(start, end)
    )
    assert taken.status_code == 201
    page.click("form.booking-form button[type=submit]")
    expect(page.locator(".alert")).to_have_text(SLOT_TAKEN)
    expect(page.locator(".alert")).to_be_focused()
    expect(page.locator("#slots a.slot").first).to_be_visible()
    assert page.locator(f'#slots a.slot[href*="start={start.replace(":", "%3A")}"]').count() == 0
    shot(page, "widget-1280-6-slot-taken")


def test_without_javascript_plain_links_and_forms_still_book(chromium, base_url: str) -> None:
    context = chromium.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    try:
        day = next_weekday(6)
        page.goto(f"{base_url}/demo/30min?tz=Europe/London&month={day:%Y-%m}")
        page.click(f'a[data-day="{day.isoformat()}"]')
        expect(page.locator("#slots-title")).to_contain_text(str(day.day))
        page.locator("#slots a.slot", has_text="13:00").click()
        page.fill("#f-inviteeName", "No Script")
        page.fill("#f-inviteeEmail", "noscript@example.com")
        page.click("form.booking-form button[type=submit]")
        expect(page.locator(".confirmation h2")).to_have_text("You are booked")
        expect(page.locator(".summary")).to_contain_text("13:00–13:30")
        expect(page.locator(".summary")).to_contain_text("British Time")
        # Without a zone in the address, a browser without JavaScript is sent to the host's.
        page.goto(f"{base_url}/demo/30min")
        page.wait_for_url(re.compile(r"tz=Europe%2FBerlin"))
        expect(page.locator("#slots a.slot").first).to_be_visible()
    finally:
        context.close()


def test_the_keyboard_reaches_a_day_and_its_times(page: Page, base_url: str) -> None:
    day = next_weekday(7)
    page.goto(f"{base_url}/demo/30min?tz=Europe/Berlin&month={day:%Y-%m}")
    first = page.locator("a[data-day]").first
    first.focus()
    page.keyboard.press("ArrowRight")
    second = page.locator("a[data-day]").nth(1)
    expect(second).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#slots-title")).to_be_focused()
    expect(page.locator("#live")).to_contain_text("times available")
    expect(second).to_have_attribute("aria-current", "true")
