"""The guest's whole journey in German, Japanese and Arabic (right to left), in dark mode and at
360 px: every word in the guest's language, dates as the locale writes them, the emails read from
the outbox in the reader's language (the host's in English), an old link after a reschedule, a host
reading the answer to their own question; and the states around it: slow and failing networks, an
upstream error page, the rate limit. axe-core finds nothing serious in any of them."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from app.settings import Settings
from support import live_server, make_settings, outbox, prepare_database

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str]]:
    """A server without a worker: the test expands the outbox itself and reads the emails."""
    settings = make_settings(tmp_path_factory.mktemp("journey"), run_worker=False)
    prepare_database(settings.database_url)
    with live_server(settings) as base:
        yield dataclasses.replace(settings, public_url=base), base


@pytest.fixture(scope="module")
def base_url(journey: tuple[Settings, str]) -> str:
    return journey[1]


def emails(settings: Settings, to: str) -> list[dict[str, Any]]:
    """The emails to ``to`` in the outbox, oldest first (booking events expanded first)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        rows = pool.submit(outbox, settings, "email").result()
    return [row.payload for row in rows if row.payload["to"] == to]


def link(mail: dict[str, Any], purpose: str) -> str:
    match = re.search(rf'href="(http://[^"]+/booking/[^"/]+/{purpose})"', mail["html"])
    assert match, f"no {purpose} link in {mail['subject']}"
    return match.group(1)


def guest_page(chromium: Browser, locale: str, zone: str, **options: Any) -> Page:
    context = chromium.new_context(locale=locale, timezone_id=zone, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


# What each journey must read, in its own words.
JOURNEYS = {
    "de": {
        "context": {"locale": "de-DE", "zone": "Europe/Berlin"},
        "zone": "Mitteleuropäische Zeit",
        "form": "Ihre Angaben",
        "button": "Termin bestätigen",
        "done": "Ihr Termin ist gebucht",
        "subject": "Bestätigt: 30 minute meeting mit Dana Demo",
        "headline": "Ihr Termin mit Dana Demo ist bestätigt.",
        "weekday": "Mo.",
    },
    "ja": {
        "context": {"locale": "ja-JP", "zone": "Asia/Tokyo", "width": 360},
        "zone": "日本時間",
        "form": "お客様情報",
        "button": "予約を確定",
        "done": "予約が完了しました",
        "subject": "予約確定：30 minute meeting（Dana Demo）",
        "headline": "Dana Demoとのご予約が確定しました。",
        "weekday": "日",
    },
    "ar": {
        "context": {"locale": "ar-SA", "zone": "Asia/Riyadh", "dark": True},
        "zone": "توقيت",
        "form": "بياناتك",
        "button": "تأكيد الحجز",
        "done": "تم الحجز",
        # Names inside right-to-left text are isolated (U+2068…U+2069), so they keep their order.
        "subject": "تم التأكيد: \u206830 minute meeting\u2069 مع \u2068Dana Demo\u2069",
        "headline": "تم تأكيد حجزك مع \u2068Dana Demo\u2069.",
        "weekday": "الأحد",
    },
}


@pytest.mark.parametrize("language", list(JOURNEYS))
def test_the_journey_in_the_guests_language_with_its_emails(
    chromium: Browser, journey: tuple[Settings, str], language: str, axe, shot
) -> None:
    settings, base = journey
    want = JOURNEYS[language]
    context = want["context"]
    width = context.get("width", 1280)
    page = guest_page(
        chromium,
        context["locale"],
        context["zone"],
        viewport={"width": width, "height": 900},
        color_scheme="dark" if context.get("dark") else "light",
    )
    name = f"journey-{language}-{width}" + ("-dark" if context.get("dark") else "")
    page.goto(f"{base}/demo/30min")
    expect(page.locator("#slots a.slot").first).to_be_visible()
    html = page.locator("html")
    expect(html).to_have_attribute("lang", context["locale"])
    expect(html).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    expect(page.locator(".tz-now")).to_contain_text(want["zone"])
    assert page.locator("thead th").first.inner_text() == want["weekday"]  # the week's first day
    if context.get("dark"):
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 24, 39)", background
    no_horizontal_scroll(page)
    shot(page, f"{name}-1-picker")
    assert axe(page) == []

    page.locator("#slots a.slot").nth(1).click()
    expect(page.locator("#form-title")).to_have_text(want["form"])
    when = page.locator(".when").inner_text().splitlines()[0]
    no_horizontal_scroll(page)
    shot(page, f"{name}-2-form")
    assert axe(page) == []
    page.fill("#f-inviteeName", "Alex Johnson")
    page.fill("#f-inviteeEmail", f"alex-{language}@example.com")
    page.click(f"button:has-text('{want['button']}')")
    expect(page.locator("#done-title")).to_have_text(want["done"])
    no_horizontal_scroll(page)
    shot(page, f"{name}-3-done")
    assert axe(page) == []

    # The emails: the guest's in their language, with the same date the page showed; the host's
    # in the host's language (English).
    [guest] = emails(settings, f"alex-{language}@example.com")
    assert guest["subject"].startswith(want["subject"])
    assert want["headline"] in guest["text"]
    assert when in guest["text"]
    [host] = [m for m in emails(settings, "demo@example.com") if f"alex-{language}" in m["text"]]
    assert host["subject"].startswith("New booking: 30 minute meeting with Alex Johnson")
    page.context.close()


def test_an_old_link_after_a_reschedule_leads_to_the_booking_as_it_is_now(
    chromium: Browser, journey: tuple[Settings, str], axe, shot
) -> None:
    settings, base = journey
    page = guest_page(chromium, "de-DE", "Europe/Berlin")
    page.goto(f"{base}/demo/30min")
    page.locator("#slots a.slot").nth(3).click()
    page.fill("#f-inviteeName", "Mara Meyer")
    page.fill("#f-inviteeEmail", "mara@example.com")
    page.click("form.booking-form button[type=submit]")
    expect(page.locator(".confirmation")).to_be_visible()
    [first] = emails(settings, "mara@example.com")

    # The guest moves it from the email's link, giving a reason.
    page.goto(link(first, "reschedule"))
    expect(page.locator("h1")).to_have_text("Diesen Termin verschieben?")
    page.click("a.primary")
    expect(page.locator(".notice")).to_contain_text("Sie verschieben Ihren Termin")
    page.locator("#slots a.slot").last.click()
    page.fill("#f-reason", "Ein Kundentermin kam dazwischen")
    page.click("form.booking-form button[type=submit]")
    expect(page.locator("#done-title")).to_have_text("Ihr Termin wurde verschoben")
    moved = emails(settings, "mara@example.com")[-1]
    assert moved["subject"].startswith("Verschoben:")
    assert "Sie haben Ihren Termin mit Dana Demo verschoben." in moved["text"]
    assert "Grund: Ein Kundentermin kam dazwischen" in moved["text"]
    [host] = [m for m in emails(settings, "demo@example.com") if "Mara Meyer" in m["text"]][-1:]
    assert "Mara Meyer has moved the booking to a new time." in host["text"]
    assert "Reason: Ein Kundentermin kam dazwischen" in host["text"]

    # The first email's cancel link: it acts no more, shows the booking as it is now, and sends
    # the current links again on request.
    page.goto(link(first, "cancel"))
    expect(page.locator("h1")).to_have_text("Dieser Termin wurde verschoben")
    current = page.locator(".summary.current")
    expect(current).to_contain_text("Bestätigt")
    when = re.search(r"Wann: (.+) \(", moved["text"]).group(1)
    expect(current).to_contain_text(when)
    shot(page, "journey-de-1280-4-old-link")
    assert axe(page) == []
    page.click("button:has-text('Aktuelle Links per E-Mail schicken')")
    expect(page.locator("h1")).to_have_text("Sehen Sie in Ihr Postfach")
    expect(page.locator("main")).to_contain_text("mara@example.com")
    resent = emails(settings, "mara@example.com")[-1]
    assert resent["subject"].startswith("Ihre Links:")
    page.goto(link(resent, "cancel"))
    expect(page.locator("h1")).to_have_text("Diesen Termin absagen?")
    page.context.close()


def test_the_host_reads_the_answer_to_their_own_question_in_the_approval_email(
    chromium: Browser, journey: tuple[Settings, str]
) -> None:
    settings, base = journey
    page = guest_page(chromium, "en-US", "America/New_York")
    page.goto(f"{base}/demo/intro")
    page.locator("#slots a.slot").first.click()
    expect(page.locator(".place")).to_contain_text("The link to join comes with your confirmation")
    page.fill("#f-inviteeName", "Sam Rivera")
    page.fill("#f-inviteeEmail", "sam@example.com")
    page.fill("#f-customFields-company", "Rivera Robotics")
    page.fill("#f-inviteeNotes", "About the spring launch")
    page.click("button:has-text('Send request')")
    expect(page.locator("#done-title")).to_have_text("Request sent")
    expect(page.locator(".confirmation")).not_to_contain_text("Add to")  # not booked yet
    [request] = [m for m in emails(settings, "demo@example.com") if "Sam Rivera" in m["text"]]
    assert request["subject"].startswith("Approval needed: Intro call with Sam Rivera")
    assert "Company: Rivera Robotics" in request["text"]
    assert "Notes: About the spring launch" in request["text"]
    assert "/confirm" in request["text"] and "/decline" in request["text"]
    page.context.close()


# Waiting and failing ---------------------------------------------------------------------------


def test_slow_failing_and_broken_responses_each_have_a_face(
    chromium: Browser, base_url: str, axe, shot
) -> None:
    page = guest_page(chromium, "en-US", "America/New_York")
    page.goto(f"{base_url}/demo/30min")
    expect(page.locator("#slots a.slot").first).to_be_visible()
    days = page.locator("a[data-day]:not([aria-current])")

    # Slow: the slot column says it is busy at once and shows a spinner after a moment.
    def slow(route: Route) -> None:
        page.wait_for_timeout(1200)
        route.continue_()

    page.route("**/demo/30min/slots?*", slow)
    days.nth(0).click()
    expect(page.locator("#slots")).to_have_attribute("aria-busy", "true")
    expect(page.locator("#slots")).to_have_class(re.compile("is-loading"))
    shot(page, "states-1280-1-slow")
    expect(page.locator("#slots")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#slots-title")).to_be_focused()
    page.unroute("**/demo/30min/slots?*")

    # Offline: a message and a retry where the guest was looking; nothing replaced.
    page.route("**/demo/30min/slots?*", lambda route: route.abort("internetdisconnected"))
    before = page.locator("#slots-title").inner_text()
    days.nth(1).click()
    alert = page.locator(".request-problem")
    expect(alert).to_contain_text("We could not reach the booking server")
    expect(alert.locator("button")).to_be_focused()
    expect(page.locator("#slots-title")).to_have_text(before)
    shot(page, "states-1280-2-offline")
    assert axe(page) == []
    page.unroute("**/demo/30min/slots?*")
    alert.locator("button").click()
    expect(alert).to_have_count(0)
    expect(page.locator("#slots-title")).not_to_have_text(before)

    # An upstream error page (a proxy's 502): never shown raw in the slot column.
    page.route(
        "**/demo/30min/slots?*",
        lambda route: route.fulfill(status=502, body="<h1>502 Bad Gateway</h1><hr>nginx"),
    )
    days.nth(2).click()
    expect(page.locator(".request-problem")).to_contain_text("Something went wrong on our side")
    expect(page.locator("body")).not_to_contain_text("nginx")
    expect(page.locator("#slots a.slot").first).to_be_visible()
    page.unroute("**/demo/30min/slots?*")
    page.context.close()


def test_the_rate_limit_keeps_the_form_and_says_when_to_try_again(
    chromium: Browser, tmp_path_factory: pytest.TempPathFactory, axe, shot
) -> None:
    settings = make_settings(tmp_path_factory.mktemp("limited"), book_rate_limit="2/minute")
    with ThreadPoolExecutor(max_workers=1) as pool:  # sync Playwright holds this thread's loop
        pool.submit(prepare_database, settings.database_url).result()
    with live_server(settings) as base:
        page = guest_page(chromium, "de-DE", "Europe/Berlin")
        page.goto(f"{base}/demo/30min")
        page.locator("#slots a.slot").first.click()
        page.fill("#f-inviteeName", "Eilige Erika")
        page.fill("#f-inviteeNotes", "Bitte vorher anrufen")
        for _ in range(2):  # two sends with a bad address use up the limit
            page.fill("#f-inviteeEmail", "erika@example")
            with page.expect_response(lambda r: r.url.startswith(f"{base}/demo/30min/book")):
                page.click("form.booking-form button[type=submit]")
            expect(page.locator("#f-inviteeEmail-error")).to_be_visible()
            expect(page.locator("form.booking-form button[type=submit]")).to_be_enabled()
        page.fill("#f-inviteeEmail", "erika@example.com")
        page.click("form.booking-form button[type=submit]")
        alert = page.locator(".request-problem")
        expect(alert).to_contain_text("Zu viele Versuche")
        expect(alert).to_contain_text(re.compile(r"in \d+ Sekunden? erneut"))
        expect(page.locator("#f-inviteeName")).to_have_value("Eilige Erika")
        expect(page.locator("#f-inviteeEmail")).to_have_value("erika@example.com")
        expect(page.locator("#f-inviteeNotes")).to_have_value("Bitte vorher anrufen")
        expect(page.locator("form.booking-form button[type=submit]")).to_be_enabled()
        shot(page, "states-1280-3-rate-limited")
        assert axe(page) == []
        page.context.close()
