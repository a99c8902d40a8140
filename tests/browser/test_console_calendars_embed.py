"""The console's Calendars and Embed sections in Chromium, as a host uses them.

Calendars: connect a real Radicale account through the form (a wrong password first), choose
which calendar blocks and which receives bookings, add an event and "Sync now": the public slots
lose that time; disconnect through the confirmation page.

Embed: build a popup snippet with htmx updating the live preview (whose popup opens the real
widget), the same builder without JavaScript, then paste the generated inline snippet into a page
of another origin (with a strict CSP of its own) and book through it; limit the allowed origins
to another site and the paste is refused, as the host asked.

Screenshots at 1280 and 360 px (tests/browser/artifacts/console-calendars-*.png,
console-embed-*.png) and axe-core: no serious or critical finding on any of these pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from console_support import browser_sign_in as sign_in
from embed_support import (
    in_database,
    pasting_site,
    pick_first_slot,
    submit_form,
    widget_frame,
)
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.db.models import Booking, CalendarConnection
from app.settings import Settings
from calendar_servers import DavServer, radicale
from support import make_settings, next_weekday, prepare_database

pytestmark = pytest.mark.xdist_group("browser")

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def widget_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The module's server may reach the loopback CalDAV server (ALLOW_PRIVATE_URLS=1)."""
    settings = make_settings(tmp_path_factory.mktemp("console-cal"), allow_private_urls=True)
    prepare_database(settings.database_url)
    return settings


@pytest.fixture(scope="module")
def dav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    with radicale(tmp_path_factory.mktemp("console-cal-radicale")) as server:
        yield server


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN).astimezone(UTC)


def event(uid: str, start: datetime, end: datetime) -> str:
    stamp = "%Y%m%dT%H%M%SZ"
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start.strftime(stamp)}\r\n"
        f"DTEND:{end.strftime(stamp)}\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def free_slots(page: Page, base_url: str, day: date) -> set[str]:
    answer = page.request.get(
        f"{base_url}/api/public/scheduling/demo/30min/slots?dateFrom={day}&dateTo={day}"
        "&timezone=UTC"
    )
    assert answer.ok, answer.text()
    return set(re.findall(r'"(?:startTime|start)":"([^"]+)"', answer.text()))


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fits_360(page: Page, shot: Callable[[Page, str], None], name: str) -> None:
    page.set_viewport_size({"width": 360, "height": 780})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    shot(page, name)
    page.set_viewport_size({"width": 1280, "height": 900})


def flash(page: Page) -> str:
    return page.locator(".flash").first.inner_text()


def test_calendars_connect_choose_sync_and_disconnect(
    page: Page, base_url: str, widget_settings: Settings, dav: DavServer, axe: Any, shot: Any
) -> None:
    user, password = dav.account()
    work = dav.make_calendar(user, password, "Work")
    dav.make_calendar(user, password, "Family")
    day = next_weekday(6)
    sign_in(page, base_url, widget_settings)
    page.goto(base_url + "/console/calendars")
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendars")
    expect(page.locator(".empty")).to_contain_text("No calendar connected yet")
    assert axe(page) == []

    # A wrong password: the server's refusal in plain words, nothing saved.
    page.get_by_label("Server address").fill(dav.url)
    page.get_by_label("User name").fill(user)
    page.get_by_label("App password").fill("not-the-password")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator("#caldav-error")).to_contain_text("refused the user name or password")
    expect(page.get_by_label("User name")).to_have_value(user)
    expect(page.get_by_label("App password")).to_have_value("")
    assert axe(page) == []
    shot(page, "console-calendars-wrong-password-1280")
    assert in_database(widget_settings.database_url, _connections) == 0

    page.get_by_label("App password").fill(password)
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("is connected")
    rows = page.locator(".cal-connection tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator(".cal-connection .badge-ok")).to_have_text("Up to date")

    # Family stops blocking and receives the bookings; then an event in Work, and Sync now.
    family = rows.filter(has_text="Family")
    family.get_by_role("checkbox").uncheck()
    family.get_by_role("radio").check()
    page.get_by_role("button", name="Save choices").click()
    expect(page.locator(".flash")).to_contain_text("Your choices are saved.")
    family = page.locator(".cal-connection tbody tr").filter(has_text="Family")
    expect(family.get_by_role("checkbox")).not_to_be_checked()
    expect(family.get_by_role("radio")).to_be_checked()

    work.save_event(event("dentist", at(day, 10), at(day, 11)))
    assert z(at(day, 10)) in free_slots(page, base_url, day)
    page.get_by_role("button", name=re.compile("^Sync now")).click()
    expect(page.locator(".flash")).to_contain_text("is up to date")
    assert z(at(day, 10)) not in free_slots(page, base_url, day)
    assert z(at(day, 11)) in free_slots(page, base_url, day)

    assert axe(page) == []
    shot(page, "console-calendars-1280")
    fits_360(page, shot, "console-calendars-360")

    page.get_by_role("link", name=re.compile("^Disconnect")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Disconnect")
    assert axe(page) == []
    shot(page, "console-calendars-disconnect-1280")
    page.get_by_role("button", name="Disconnect", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("is disconnected")
    expect(page.locator(".empty")).to_contain_text("No calendar connected yet")
    assert z(at(day, 10)) in free_slots(page, base_url, day)


async def _connections(session: Any) -> int:
    return len(list(await session.scalars(select(CalendarConnection))))


def test_embed_builder_updates_its_live_preview(
    page: Page, base_url: str, widget_settings: Settings, axe: Any, shot: Any
) -> None:
    sign_in(page, base_url, widget_settings)
    page.goto(base_url + "/console/calendars")
    page.get_by_role("link", name="Embed").click()  # through the navigation (hx-boost)
    expect(page.get_by_role("heading", level=1)).to_have_text("Embed")
    snippet = page.locator("#embed-snippet")
    expect(snippet).to_have_value(re.compile(r'^<div data-booking-url="[^"]+/demo" '))

    # Each change updates the snippet and the preview in place (htmx), and the address bar.
    page.get_by_label("A button that opens it in a popup").check()
    expect(snippet).to_have_value(re.compile('data-booking-mode="popup"'))
    page.get_by_label("What guests can book").select_option("30min")
    expect(snippet).to_have_value(re.compile(r'/demo/30min" data-booking-mode="popup"'))
    page.get_by_label("Name").fill("Grace Hopper")
    expect(snippet).to_have_value(re.compile('data-booking-name="Grace Hopper"'))
    page.get_by_label("Language").select_option("de")
    expect(snippet).to_have_value(re.compile('data-booking-locale="de"'))
    expect(page).to_have_url(re.compile(r"/console/embed\?.*mode=popup"))
    expect(page.locator("iframe.embed-preview")).to_have_attribute(
        "src", re.compile(r"name=Grace\+Hopper")
    )

    # The preview runs that snippet: its button opens the real widget in the popup.
    preview = page.frame_locator("iframe.embed-preview")
    preview.get_by_role("button", name="Termin buchen").click()
    widget = preview.frame_locator("[role=dialog] iframe")
    expect(widget.locator("a[data-day]").first).to_be_visible()
    assert axe(page) == []
    shot(page, "console-embed-1280")
    fits_360(page, shot, "console-embed-360")


def test_embed_builder_works_without_javascript(
    chromium: Browser, base_url: str, widget_settings: Settings, shot: Any
) -> None:
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    try:
        sign_in(page, base_url, widget_settings)
        page.goto(base_url + "/console/embed")
        page.get_by_label("A floating button in a corner of the page").check()
        page.get_by_label("Floating button corner").select_option("left")
        page.get_by_role("button", name="Update the preview").click()
        page.wait_for_url(re.compile(r"mode=floating"))
        value = page.locator("#embed-snippet").input_value()
        assert 'data-booking-mode="floating" data-booking-position="left"' in value
    finally:
        context.close()


@pytest.fixture
def site(base_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    with pasting_site(base_url) as served:
        yield served


def pasted(snippet: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Plumbing</title>'
        "</head><body><h1>Acme Plumbing</h1><p>Book a visit:</p>"
        f"{snippet}</body></html>"
    )


def test_the_generated_snippet_works_on_another_origin(
    page: Page, base_url: str, widget_settings: Settings, site: Any, axe: Any, shot: Any
) -> None:
    site_url, pages = site
    sign_in(page, base_url, widget_settings)
    page.goto(base_url + "/console/embed?target=30min&name=Ada+Lovelace&email=ada%40example.com")
    snippet = page.locator("#embed-snippet").input_value()
    assert snippet.endswith(f'<script src="{base_url}/embed.js" async></script>')

    # Only this site may embed the booking pages.
    page.get_by_label("Allowed websites").fill(site_url)
    page.get_by_role("button", name="Save allowed websites").click()
    expect(page.locator(".flash")).to_contain_text("only the websites you listed")

    pages["/"] = pasted(snippet)
    guest = page.context.new_page()
    refused: list[str] = []
    guest.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    guest.goto(site_url + "/")
    frame = widget_frame(guest, "[data-booking-url] iframe")
    pick_first_slot(frame)
    assert frame.input_value("#f-inviteeName") == "Ada Lovelace"
    submit_form(frame)
    assert refused == []

    async def booked(session: Any) -> list[str]:
        return list(await session.scalars(select(Booking.invitee_email)))

    assert "ada@example.com" in in_database(widget_settings.database_url, booked)

    # Another site only: the same paste is refused by the browser, and says so.
    page.get_by_label("Allowed websites").fill("https://elsewhere.example")
    page.get_by_role("button", name="Save allowed websites").click()
    expect(page.locator(".flash")).to_contain_text("only the websites you listed")
    guest.goto(site_url + "/")
    expect(guest.get_by_role("alert")).to_contain_text("could not be loaded here", timeout=20000)
    guest.close()

    # Back to any site, as the page was.
    page.get_by_label("Allowed websites").fill("")
    page.get_by_role("button", name="Save allowed websites").click()
    expect(page.locator(".flash")).to_contain_text("any website")
    assert axe(page) == []
