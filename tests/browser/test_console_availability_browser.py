"""Console, availability, in Chromium as a host would use it: Tuesday 10-12 and 14-16, a vacation
next week, a refused overlap, the preview; at 1280 and 360 px, with axe-core on every page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from console_support import browser_sign_in
from playwright.sync_api import Page, expect

from app.settings import Settings

pytestmark = pytest.mark.xdist_group("browser")
BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY = 1


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways: {width}px"  # type: ignore[index]


def check(page: Page, axe: Callable[[Page], list[dict[str, Any]]]) -> None:
    assert axe(page) == []
    no_sideways_scroll(page)


def tuesday_row(page: Page, row: int, which: str) -> Any:
    return page.locator(f"#{which}-{TUESDAY}-{row}")


def test_a_host_sets_tuesday_hours_and_a_vacation_and_sees_the_preview(
    page: Page,
    base_url: str,
    widget_settings: Settings,
    axe: Callable[[Page], list[dict[str, Any]]],
    shot: Callable[[Page, str], None],
) -> None:
    browser_sign_in(page, base_url, widget_settings)
    page.goto(base_url + "/console/availability")
    expect(page.get_by_role("heading", name="Availability", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Working hours")).to_be_visible()
    check(page, axe)
    shot(page, "console-availability-list-1280")

    page.get_by_role("link", name="Working hours").click()
    expect(page.get_by_role("heading", name=re.compile("Working hours"), level=1)).to_be_visible()

    # Tuesday: 10:00-12:00, then "Add interval" for 14:00-16:00.
    tuesday_row(page, 0, "start").fill("10:00")
    tuesday_row(page, 0, "end").fill("12:00")
    page.get_by_role("button", name="Add interval (Tuesday)").click()
    expect(tuesday_row(page, 1, "start")).to_be_visible()
    expect(page.get_by_text("Not saved yet")).to_be_visible()
    expect(tuesday_row(page, 0, "start")).to_have_value("10:00")
    tuesday_row(page, 1, "start").fill("14:00")
    tuesday_row(page, 1, "end").fill("16:00")
    page.get_by_role("button", name="Save hours", exact=True).click()
    expect(page.get_by_text("Weekly hours saved.")).to_be_visible()
    expect(tuesday_row(page, 1, "end")).to_have_value("16:00")

    # An overlap is refused at Tuesday, as typed, and nothing is saved.
    tuesday_row(page, 1, "start").fill("11:00")
    page.get_by_role("button", name="Save hours", exact=True).click()
    tuesday = page.locator(f"#day-{TUESDAY}")
    expect(tuesday.get_by_text("10:00–12:00 and 11:00–16:00 overlap")).to_be_visible()
    expect(tuesday_row(page, 1, "start")).to_have_value("11:00")
    expect(tuesday_row(page, 1, "start")).to_have_attribute("aria-invalid", "true")
    check(page, axe)
    shot(page, "console-availability-overlap-1280")
    page.reload()  # the saved hours are still 14:00-16:00
    expect(tuesday_row(page, 1, "start")).to_have_value("14:00")

    # A vacation next week, Monday to Sunday.
    today = datetime.now(UTC).astimezone(BERLIN).date()
    monday = today + timedelta(days=7 - today.weekday())
    page.get_by_label("Date (or first day)").fill(monday.isoformat())
    page.get_by_label("Last day (for a vacation)").fill((monday + timedelta(days=6)).isoformat())
    page.get_by_label("Unavailable all day").check()
    page.get_by_role("button", name="Add override").click()
    expect(page.get_by_text("Override saved from")).to_be_visible()
    overrides = page.locator("#overrides table.table")
    expect(overrides.locator("tbody tr")).to_have_count(1)  # the vacation, as one run of dates
    expect(overrides.get_by_text("Unavailable all day")).to_be_visible()
    expect(page.locator(".avail-month td.is-marked")).not_to_have_count(0)

    # The preview shows this week's Tuesday with exactly those hours (unless it is next week's).
    page.get_by_label("Event type").select_option(label="30 minute meeting")
    page.get_by_role("button", name="Show").click()
    preview = page.locator("#preview")
    expect(preview.locator("h3")).to_have_count(7)
    days_to_tuesday = (TUESDAY - today.weekday()) % 7
    if 0 < days_to_tuesday < 7:
        day = preview.locator("li", has=page.locator("h3", has_text="Tuesday"))
        times = day.locator(".avail-slots li")
        expect(times).to_have_count(8)
        expect(times.first).to_have_text(re.compile(r"^10:00\sAM$"))
        expect(times.last).to_have_text(re.compile(r"^3:30\sPM$"))
    check(page, axe)
    shot(page, "console-availability-schedule-1280")

    page.set_viewport_size({"width": 360, "height": 800})
    page.reload()
    check(page, axe)
    shot(page, "console-availability-schedule-360")
    page.goto(base_url + "/console/availability")
    check(page, axe)
    shot(page, "console-availability-list-360")


def test_copy_to_other_days_and_deleting_a_schedule(
    page: Page,
    base_url: str,
    widget_settings: Settings,
    axe: Callable[[Page], list[dict[str, Any]]],
    shot: Callable[[Page, str], None],
) -> None:
    browser_sign_in(page, base_url, widget_settings)
    page.goto(base_url + "/console/availability")
    page.get_by_label("Name").fill("Evenings")
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_role("button", name="Create schedule").click()
    expect(page.get_by_role("heading", name="Evenings", level=1)).to_be_visible()
    expect(page.get_by_text("America/New York").first).to_be_visible()

    page.locator("#start-0-0").fill("18:00")
    page.locator("#end-0-0").fill("21:00")
    page.locator("#day-0 summary").click()
    copy = page.locator("#day-0 details")
    copy.get_by_label("Wednesday").check()
    copy.get_by_label("Friday").check()
    copy.get_by_role("button", name="Copy and save").click()
    expect(
        page.get_by_text("Monday’s hours copied to Wednesday, Friday and saved.")
    ).to_be_visible()
    for day in (0, 2, 4):
        expect(page.locator(f"#start-{day}-0")).to_have_value("18:00")
        expect(page.locator(f"#end-{day}-0")).to_have_value("21:00")
    expect(page.locator("#day-5 .avail-closed")).to_be_visible()  # Saturday: no hours

    page.get_by_role("link", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", name="Delete “Evenings”?")).to_be_visible()
    check(page, axe)
    shot(page, "console-availability-delete-1280")
    page.get_by_role("button", name="Delete schedule").click()
    expect(page.get_by_text("Schedule “Evenings” deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Evenings")).to_have_count(0)
