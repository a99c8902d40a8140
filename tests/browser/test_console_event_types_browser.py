"""Console › Event types in a browser, as a host uses it: create an event type with a question and
a buffer through the form (the question builder's "Add a question"), see its public link and embed
snippet, ask "why not this time?", and find the question on the guest's booking form.
Screenshots at 1280 and 360 px; axe-core finds nothing serious or critical on any page.
"""

from __future__ import annotations

import re
from typing import Any

from console_support import browser_sign_in as sign_in
from playwright.sync_api import Page, expect

from support import next_weekday

WIDTHS = (1280, 360)


def no_page_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways ({width}px)"


def check(page: Page, axe: Any, shot: Any, name: str) -> None:
    """At each width: no sideways scroll, a screenshot, no serious accessibility finding."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        no_page_scroll(page)
        shot(page, f"console-event-types-{name}-{width}")
        # A full-page screenshot leaves style="" on elements; htmx would copy those onto the
        # next page's elements, which the CSP (rightly) refuses. Not something a host meets.
        page.evaluate(
            "document.querySelectorAll('[style=\"\"]').forEach(e => e.removeAttribute('style'))"
        )
        assert axe(page) == [], name


def test_a_host_creates_an_event_type_and_asks_why_not(
    page: Page, base_url: str, widget_settings: Any, axe: Any, shot: Any
) -> None:
    sign_in(page, base_url, widget_settings)
    page.goto(f"{base_url}/console/event-types")
    expect(page.get_by_role("heading", name="Event types", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="30 minute meeting", exact=True)).to_be_visible()
    check(page, axe, shot, "list")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="New event type").click()
    expect(page.get_by_role("heading", name="New event type")).to_be_visible()
    page.get_by_label("Title", exact=True).fill("Strategy session")
    page.get_by_label("Slug", exact=True).fill("strategy")
    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_label("Buffer after (minutes)").fill("15")
    page.get_by_label("Video call: a private room per booking").check()
    page.get_by_role("button", name="Add a question").click()
    question = page.get_by_label("Question", exact=True)
    expect(question).to_be_visible()
    question.fill("What should we talk about?")
    page.get_by_label("Required", exact=True).check()
    page.get_by_role("button", name="Add a question").click()
    expect(page.get_by_role("heading", name="Question 2")).to_be_visible()
    expect(page.locator("#q-0-label")).to_have_value("What should we talk about?")
    page.locator("#q-1-label").fill("How did you hear of us?")
    page.locator("#q-1-type").select_option("select")
    page.locator("#q-1-options").fill("A friend\nA search")
    check(page, axe, shot, "new")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A bad duration: refused next to the field, nothing lost.
    page.get_by_label("Duration (minutes)").fill("0")
    page.get_by_role("button", name="Create event type").click()
    expect(page.locator("#f-duration-error")).to_contain_text("from 1 to 1440")
    expect(page.locator("#q-0-label")).to_have_value("What should we talk about?")
    expect(page.get_by_label("Title", exact=True)).to_have_value("Strategy session")
    check(page, axe, shot, "refused")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_role("button", name="Create event type").click()

    expect(page.get_by_role("heading", name="Strategy session", level=1)).to_be_visible()
    expect(page.get_by_text("Event type created.")).to_be_visible()
    link = f"{base_url}/demo/strategy"
    expect(page.get_by_label("Public link")).to_have_value(link)
    snippet = page.get_by_label("Embed on your website").input_value()
    assert f'data-booking-url="{link}"' in snippet and "/embed.js" in snippet

    # Why not 20:00 on a weekday? Outside the hours.
    day = next_weekday()
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label("Time", exact=True).fill("20:00")
    page.get_by_role("button", name="Check this time").click()
    result = page.locator("#why-result")
    expect(result).to_contain_text("cannot be booked")
    expect(result).to_contain_text("Outside the weekly hours of the schedule.")
    page.get_by_label("Time", exact=True).fill("09:00")
    page.get_by_role("button", name="Check this time").click()
    expect(result).to_contain_text("is bookable")
    check(page, axe, shot, "show")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The guest's booking form asks the question.
    page.goto(f"{base_url}/demo/strategy?date={day.isoformat()}")
    page.locator("#slots a.slot").first.click()
    expect(page.get_by_label(re.compile("What should we talk about"))).to_be_visible()
    expect(page.get_by_label(re.compile("How did you hear of us"))).to_be_visible()

    # Delete it again, through its confirmation page.
    page.goto(f"{base_url}/console/event-types")
    page.get_by_role("link", name="Strategy session", exact=True).click()
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", name=re.compile("Delete"))).to_be_visible()
    check(page, axe, shot, "delete")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Delete event type").click()
    expect(page.get_by_text("is deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Strategy session", exact=True)).to_have_count(0)
