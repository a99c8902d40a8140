"""embed.js on a third-party site (another origin, strict CSP): inline and popup widgets, the
messages the site hears, iframe sizing, prefill, colour, utm_* tracking, and forged messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from embed_support import (
    ARTIFACTS,
    content_height,
    events,
    has_inner_scrollbar,
    in_database,
    launch_chromium,
    pick_first_slot,
    seen,
    settle_height,
    submit_form,
    third_party_site,
    wait_for_event,
    widget_frame,
)
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select, update

from app.db.models import Booking, Host
from support import live_server, make_settings, prepare_database

pytestmark = pytest.mark.xdist_group("browser")

PAYLOAD_KEYS = {
    "id",
    "status",
    "requires_confirmation",
    "attendee_name",
    "start_time",
    "end_time",
    "event_type",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    settings = make_settings(tmp_path_factory.mktemp("embed"))
    prepare_database(settings.database_url)
    with live_server(settings) as base:
        yield settings, base


@pytest.fixture(scope="module")
def chromium(server: tuple[Any, str]) -> Iterator[Browser]:
    """Started after the server: preparing its database uses asyncio, which Playwright blocks."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def tab(chromium: Browser) -> Iterator[Page]:
    """A fresh page; fails the test if the site's or the widget's CSP refused anything."""
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="Europe/Berlin", locale="en-US"
    )
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: refused.append(f"page error: {e}"))
    yield page
    context.close()
    assert refused == []


def stored_booking(settings: Any, uid: str) -> Booking:
    async def work(session: Any) -> Booking:
        return (await session.scalars(select(Booking).where(Booking.uid == uid))).one()

    return in_database(settings.database_url, work)


def set_captcha(settings: Any, enabled: bool) -> None:
    async def work(session: Any) -> None:
        await session.execute(update(Host).values(captcha_enabled=enabled))
        await session.commit()

    in_database(settings.database_url, work)


def test_inline_widget_books_and_the_host_page_hears_it(server, tab):
    settings, base = server
    body = (
        f'<div id="w1" data-booking-url="{base}/demo/30min" data-booking-name="Grace Hopper" '
        'data-booking-email="grace@example.com" data-booking-color="#0f766e" '
        'data-booking-locale="en-GB"></div>'
    )
    with third_party_site(base, {"/": body}) as site:
        tab.goto(site + "/?utm_source=newsletter&utm_campaign=autumn&ref=home")
        frame = widget_frame(tab, "#w1 iframe")
        query = parse_qs(urlsplit(tab.get_attribute("#w1 iframe", "src") or "").query)
        assert query["embed"] == ["1"] and query["parentOrigin"] == [site]
        assert query["name"] == ["Grace Hopper"] and query["email"] == ["grace@example.com"]
        assert query["color"] == ["#0f766e"] and query["locale"] == ["en-GB"]
        assert query["utm_source"] == ["newsletter"] and query["utm_campaign"] == ["autumn"]
        assert "ref" not in query
        iframe = tab.locator("#w1 iframe")
        assert iframe.get_attribute("title")
        assert iframe.evaluate("f => getComputedStyle(f).borderStyle") == "none"
        assert iframe.evaluate("f => f.offsetWidth === f.parentNode.offsetWidth")
        wait_for_event(tab, "booking:ready", "w1")

        calendar = settle_height(tab, "#w1 iframe", frame)
        assert not has_inner_scrollbar(frame)
        tab.screenshot(path=ARTIFACTS / "inline-1280.png", full_page=True)

        pick_first_slot(frame)
        assert frame.input_value("#f-inviteeName") == "Grace Hopper"
        assert frame.input_value("#f-inviteeEmail") == "grace@example.com"
        button = frame.locator("form.booking-form button[type=submit]")
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(15, 118, 110)"
        form = settle_height(tab, "#w1 iframe", frame)
        assert not has_inner_scrollbar(frame)

        submit_form(frame)
        booked = wait_for_event(tab, "booking:booked", "w1")
        confirmation = settle_height(tab, "#w1 iframe", frame)
        assert not has_inner_scrollbar(frame)
        assert len({calendar, form, confirmation}) == 3, (calendar, form, confirmation)
        assert confirmation < form

        tab.set_viewport_size({"width": 360, "height": 740})
        settle_height(tab, "#w1 iframe", frame)
        assert not has_inner_scrollbar(frame)
        assert frame.evaluate("document.documentElement.scrollWidth <= innerWidth")
        tab.screenshot(path=ARTIFACTS / "inline-confirmation-360.png", full_page=True)

        seen_by_site = seen(tab)

    assert booked["bubbles"] is True
    detail = booked["detail"]
    assert detail["type"] == "booking:booked"
    payload = detail["payload"]
    assert set(payload) >= PAYLOAD_KEYS
    assert payload["status"] == "confirmed" and payload["requires_confirmation"] is False
    assert payload["attendee_name"] == "Grace Hopper" and payload["event_type"] == "30min"
    messages = [m for m in seen_by_site["messages"] if m["data"].get("type") == "booking:booked"]
    assert [m["origin"] for m in messages] == [base]
    assert messages[0]["data"] == detail

    booking = stored_booking(settings, payload["id"])
    assert booking.source == "EmbedWidget"
    assert booking.meta["utm_source"] == "newsletter"
    assert booking.meta["utm_campaign"] == "autumn"
    assert booking.invitee_email == "grace@example.com"
    assert booking.start.strftime("%Y-%m-%dT%H:%M:%SZ") == payload["start_time"]


def test_inline_widget_at_phone_width(server, tab):
    _, base = server
    tab.set_viewport_size({"width": 360, "height": 740})
    body = f'<div id="w1" data-booking-url="{base}/demo/30min"></div>'
    with third_party_site(base, {"/": body}) as site:
        tab.goto(site + "/")
        frame = widget_frame(tab, "#w1 iframe")
        settle_height(tab, "#w1 iframe", frame)
        assert not has_inner_scrollbar(frame)
        assert frame.evaluate("document.documentElement.scrollWidth <= innerWidth")
        assert tab.evaluate("document.documentElement.scrollWidth <= innerWidth")
        tab.screenshot(path=ARTIFACTS / "inline-360.png", full_page=True)


@pytest.mark.parametrize("width", [1280, 360])
def test_popup_opens_books_and_closes(server, tab, width):
    _, base = server
    tab.set_viewport_size({"width": width, "height": 800})
    body = (
        f'<div id="p1" data-booking-url="{base}/demo/30min" data-booking-mode="popup" '
        'data-booking-text="Schedule a call"></div>'
    )
    with third_party_site(base, {"/": body}) as site:
        tab.goto(site + "/")
        button = tab.get_by_role("button", name="Schedule a call")
        dialog = tab.get_by_role("dialog")
        tab.screenshot(path=ARTIFACTS / f"popup-button-{width}.png")

        # Esc closes it and gives focus back to the button.
        button.click()
        expect(dialog).to_be_visible()
        assert dialog.get_attribute("aria-modal") == "true"
        assert tab.evaluate("!!document.activeElement.closest('[role=dialog]')")
        assert tab.evaluate("document.documentElement.style.overflow") == "hidden"
        assert tab.evaluate(
            "document.querySelector('h1').inert && document.getElementById('p1').inert"
        )
        tab.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        expect(button).to_be_focused()
        assert tab.evaluate("document.documentElement.style.overflow") == ""
        assert tab.evaluate(
            "!document.querySelector('h1').inert && !document.getElementById('p1').inert"
        )

        # Esc pressed inside the iframe (keys stay in the frame): the widget asks to be closed.
        button.click()
        inside = widget_frame(tab, "[role=dialog] iframe")
        inside.locator("a[href], button").first.press("Escape")
        expect(dialog).to_have_count(0)
        expect(button).to_be_focused()

        # A click on the backdrop closes it too; a click inside does not.
        button.click()
        widget_frame(tab, "[role=dialog] iframe")
        dialog.click(position={"x": 5, "y": 5})
        expect(dialog).to_be_visible()
        tab.mouse.click(2, tab.viewport_size["height"] - 2)
        expect(dialog).to_have_count(0)

        # Book; the popup stays open on the confirmation until the guest closes it.
        button.click()
        frame = widget_frame(tab, "[role=dialog] iframe")
        wait_for_event(tab, "booking:ready", "p1")
        settle_height(tab, "[role=dialog] iframe", frame)
        tab.screenshot(path=ARTIFACTS / f"popup-{width}.png")
        pick_first_slot(frame)
        submit_form(frame, name="Ada Lovelace", email="ada@example.com")
        booked = wait_for_event(tab, "booking:booked", "p1")
        assert booked["detail"]["payload"]["attendee_name"] == "Ada Lovelace"
        tab.wait_for_timeout(300)
        expect(dialog).to_be_visible()
        assert frame.is_visible(".confirmation")
        settle_height(tab, "[role=dialog] iframe", frame)
        assert not has_inner_scrollbar(frame)
        tab.screenshot(path=ARTIFACTS / f"popup-confirmation-{width}.png")
        tab.get_by_role("button", name="Close").click()
        expect(dialog).to_have_count(0)
        expect(button).to_be_focused()
        assert tab.locator("iframe").count() == 0


def test_messages_from_other_origins_or_windows_are_ignored(server, tab):
    _, base = server
    body = f'<div id="w1" data-booking-url="{base}/demo/30min"></div>'
    body += '<iframe id="other" title="Other" src="/forger.html"></iframe>'
    with third_party_site(base, {"/": body}) as site:
        tab.goto(site + "/")
        frame = widget_frame(tab, "#w1 iframe")
        wait_for_event(tab, "booking:ready", "w1")
        height = settle_height(tab, "#w1 iframe", frame)

        def forged(count: int) -> None:
            tab.wait_for_function(
                "n => seen.messages.filter(m => m.data && m.data.payload"
                " && m.data.payload.id === 'bkg_forged').length >= n",
                arg=count,
            )

        forged(1)  # another frame, another origin
        tab.evaluate("postMessage({type: 'booking:booked', payload: {id: 'bkg_forged'}}, '*')")
        forged(2)  # the site's own window
        frame.goto(site + "/forger.html")  # the widget's own iframe, now showing another origin
        forged(3)

        assert events(tab, "booking:booked") == []
        assert [e for e in events(tab, "booking:resize") if e["detail"]["height"] == 7] == []
        assert abs(tab.locator("#w1 iframe").evaluate("f => f.offsetHeight") - height) <= 1


def test_two_widgets_a_second_include_and_a_late_container(server, tab):
    settings, base = server
    body = (
        f'<div id="w1" data-booking-url="{base}/demo/30min"></div>'
        f'<div id="w2" data-booking-url="{base}/demo/intro"></div>'
        f'<script src="{base}/embed.js"></script>'
        f'<button id="add-widget" type="button" data-url="{base}/demo/30min">More</button>'
        '<div id="more"></div>'
    )
    with third_party_site(base, {"/": body}) as site:
        tab.goto(site + "/")
        for box in ("w1", "w2"):
            wait_for_event(tab, "booking:ready", box)
        tab.click("#add-widget")
        wait_for_event(tab, "booking:ready", "late")
        for box in ("w1", "w2", "late"):
            assert tab.locator(f"#{box} iframe").count() == 1
        assert tab.locator("iframe").count() == 3

        first = widget_frame(tab, "#w1 iframe")
        second = widget_frame(tab, "#w2 iframe")
        w1_height = settle_height(tab, "#w1 iframe", first)
        pick_first_slot(second)
        second.fill("#f-customFields-company", "Acme")
        submit_form(second, name="Linus", email="linus@example.com")
        booked = wait_for_event(tab, "booking:booked", "w2")
        settle_height(tab, "#w2 iframe", second)
        assert abs(tab.locator("#w1 iframe").evaluate("f => f.offsetHeight") - w1_height) <= 1
        assert content_height(first) == pytest.approx(w1_height, abs=1)

    assert [e["target"] for e in events(tab, "booking:booked")] == ["w2"]
    payload = booked["detail"]["payload"]
    assert payload["event_type"] == "intro"
    assert payload["status"] == "pending" and payload["requires_confirmation"] is True
    assert stored_booking(settings, payload["id"]).source == "EmbedWidget"


def test_captcha_in_the_embedded_widget_under_the_widgets_csp(server, tab):
    settings, base = server
    set_captcha(settings, True)
    try:
        body = f'<div id="w1" data-booking-url="{base}/demo/30min"></div>'
        with third_party_site(base, {"/": body}) as site:
            tab.goto(site + "/")
            frame = widget_frame(tab, "#w1 iframe")
            pick_first_slot(frame)
            frame.wait_for_selector("altcha-widget")
            frame.fill("#f-inviteeName", "Captcha Guest")
            frame.fill("#f-inviteeEmail", "captcha@example.com")
            frame.wait_for_function(
                "() => (document.querySelector('input[name=captchaToken]') || {}).value",
                timeout=30_000,
            )
            settle_height(tab, "#w1 iframe", frame)
            tab.screenshot(path=ARTIFACTS / "inline-captcha-1280.png", full_page=True)
            submit_form(frame)
            booked = wait_for_event(tab, "booking:booked", "w1")
    finally:
        set_captcha(settings, False)
    assert stored_booking(settings, booked["detail"]["payload"]["id"]).invitee_name == (
        "Captcha Guest"
    )


def set_embed_origins(settings: Any, origins: list[str]) -> None:
    async def work(session: Any) -> None:
        await session.execute(update(Host).values(embed_origins=origins))
        await session.commit()

    in_database(settings.database_url, work)


@pytest.mark.parametrize("width", [1280, 360])
def test_floating_button_opens_books_and_the_site_hears_both_messages(server, tab, width, axe):
    """A button fixed in the corner of another site opens the widget (dark, in the visitor's
    zone from the first request), books, and the site hears ``booking:booked`` and SchedKit's
    ``schedkit:booked`` (seed 002) with the same payload, from the widget's origin only."""
    _, base = server
    tab.set_viewport_size({"width": width, "height": 800})
    body = (
        f'<div id="f1" data-booking-url="{base}/demo/30min" data-booking-mode="floating" '
        'data-booking-theme="dark" data-booking-text="Book a call"></div>'
    )
    with third_party_site(base, {"/": body}) as site:
        tab.goto(site + "/")
        button = tab.get_by_role("button", name="Book a call")
        box = button.bounding_box()
        assert box is not None
        assert (
            tab.evaluate(
                "getComputedStyle(document.querySelector('.booking-widget-button')).position"
            )
            == "fixed"
        )
        assert box["x"] + box["width"] >= width - 24 and box["y"] + box["height"] >= 800 - 24
        tab.screenshot(path=ARTIFACTS / f"floating-button-{width}.png")

        button.click()
        expect(tab.get_by_role("dialog")).to_be_visible()
        src = tab.get_attribute("[role=dialog] iframe", "src") or ""
        query = parse_qs(urlsplit(src).query)
        assert query["tz"] == ["Europe/Berlin"] and query["theme"] == ["dark"]
        frame = widget_frame(tab, "[role=dialog] iframe")
        # The zone came with the first request: one page load, no detection step.
        assert frame.evaluate("performance.getEntriesByType('navigation').length") == 1
        assert frame.evaluate("document.documentElement.dataset.theme") == "dark"
        wait_for_event(tab, "booking:ready", "f1")
        settle_height(tab, "[role=dialog] iframe", frame)
        assert axe(frame) == []
        tab.screenshot(path=ARTIFACTS / f"floating-open-{width}.png")
        pick_first_slot(frame)
        submit_form(frame, name="Flo Ting", email="flo@example.com")
        booked = wait_for_event(tab, "booking:booked", "f1")
        tab.wait_for_function(
            "() => seen.messages.some(m => m.data && m.data.type === 'schedkit:booked')"
        )
        assert axe(frame) == []
        tab.screenshot(path=ARTIFACTS / f"floating-booked-{width}.png")
        messages = seen(tab)["messages"]

    ours = [m for m in messages if m["data"].get("type") in ("booking:booked", "schedkit:booked")]
    assert [m["data"]["type"] for m in ours] == ["booking:booked", "schedkit:booked"]
    assert {m["origin"] for m in ours} == {base}
    assert ours[0]["data"]["payload"] == ours[1]["data"]["payload"] == booked["detail"]["payload"]
    payload = ours[1]["data"]["payload"]
    assert payload["status"] == "confirmed" and payload["attendee_name"] == "Flo Ting"


def test_a_refused_frame_says_so_and_fires_booking_error(server, chromium):
    """A host that allows only other sites: the browser refuses the frame; instead of the broken-
    frame icon the visitor sees why and a link, and the site gets ``booking:error``. (Its own
    page, not ``tab``: the refusal is a CSP report in the console, which ``tab`` fails on.)"""
    settings, base = server
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    tab = context.new_page()
    set_embed_origins(settings, ["https://only-this-shop.example"])
    try:
        body = f'<div id="w1" data-booking-url="{base}/demo/30min"></div>'
        with third_party_site(base, {"/": body}) as site:
            tab.goto(site + "/")
            error = wait_for_event(tab, "booking:error", "w1")
            assert error["detail"]["reason"] == "load"
            note = tab.locator("#w1 [role=alert]")
            expect(note).to_contain_text("The booking calendar could not be loaded here.")
            expect(note.get_by_role("link", name="Open it in a new tab")).to_have_attribute(
                "href", f"{base}/demo/30min"
            )
            assert tab.locator("#w1 iframe").count() == 0
            tab.screenshot(path=ARTIFACTS / "inline-refused-1280.png")
    finally:
        set_embed_origins(settings, [])
        context.close()


def test_the_script_api_opens_and_closes_the_popup(server, tab):
    _, base = server
    body = f'<button id="open-api" type="button" data-url="{base}/demo/intro">Talk to us</button>'
    with third_party_site(base, {"/": body}) as site:
        tab.goto(site + "/")
        tab.click("#open-api")
        dialog = tab.get_by_role("dialog")
        expect(dialog).to_be_visible()
        query = parse_qs(urlsplit(tab.get_attribute("[role=dialog] iframe", "src") or "").query)
        assert query["name"] == ["Api Guest"] and query["theme"] == ["light"]
        widget_frame(tab, "[role=dialog] iframe")
        tab.evaluate("BookingWidget.close()")
        expect(dialog).to_have_count(0)
        expect(tab.locator("#open-api")).to_be_focused()
        assert tab.locator("[data-booking-url]").count() == 0  # nothing left behind
