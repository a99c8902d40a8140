"""Emailed links followed in Chromium: a live server with its worker sends real mail to a local SMTP
server; the links are read out of the received mails, as a guest or host would click them."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from playwright.sync_api import Page, expect
from receivers import Mailbox

import support
from app.settings import Settings
from support import (
    demo_slot,
    free_port,
    live_server,
    make_settings,
    next_weekday,
    prepare_database,
)

pytestmark = pytest.mark.xdist_group("browser")
API = "/api/public/scheduling"
DAY = next_weekday(4)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.url = f"smtp://127.0.0.1:{controller.port}"  # type: ignore[attr-defined]
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def links_settings(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox) -> Settings:
    settings = make_settings(
        tmp_path_factory.mktemp("links"),
        smtp_url=mailbox.url,  # type: ignore[attr-defined]
        run_worker=True,
    )
    prepare_database(settings.database_url)
    return settings


@pytest.fixture(scope="module")
def base_url(links_settings: Settings) -> Iterator[str]:
    """Overrides the widget's server for this module: this one sends mail and runs the worker."""
    with live_server(links_settings) as url:
        yield url


def book(base_url: str, event: str, hour: int, email: str) -> dict[str, Any]:
    with httpx.Client(base_url=base_url) as client:
        return support.book(client, event, hour, day=DAY, inviteeEmail=email)


def wait_for_mail(
    mailbox: Mailbox, to: str, subject: str, about: str = "", timeout: float = 15
) -> EmailMessage:
    """The newest mail to ``to`` whose subject starts with ``subject`` and text mentions ``about``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [
            m
            for m in mailbox.to(to)
            if str(m["Subject"]).startswith(subject)
            and about in m.get_body(("plain",)).get_content()
        ]
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(
        f"no mail to {to} starting {subject!r}: {[m['Subject'] for m in mailbox.messages]}"
    )


def link(message: EmailMessage, purpose: str) -> str:
    html = message.get_body(("html",)).get_content()
    match = re.search(rf'href="(http://[^"]+/booking/[^"/]+/{purpose})"', html)
    assert match, f"no {purpose} link in {message['Subject']}"
    return match.group(1)


def invite(message: EmailMessage) -> Any:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(part.get_content())
    return calendar, calendar.walk("VEVENT")[0]


def test_guest_cancels_from_the_email_and_the_link_is_then_spent(
    page: Page, base_url: str, mailbox: Mailbox
) -> None:
    created = book(base_url, "30min", 9, "cancel@example.com")
    mail = wait_for_mail(mailbox, "cancel@example.com", "Confirmed")
    calendar, event = invite(mail)
    assert str(calendar["METHOD"]) == "REQUEST" and int(event["SEQUENCE"]) == 0

    page.goto(link(mail, "cancel"))
    expect(page.locator("h1")).to_have_text("Cancel this booking?")
    expect(page.locator(".summary")).to_contain_text("cancel@example.com")
    expect(page.locator("button[type=submit]")).to_have_count(1)
    page.fill("#reason", "Double-booked myself")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Your booking has been cancelled.")
    expect(page.locator("[data-status]")).to_have_text("Cancelled")

    cancelled = wait_for_mail(mailbox, "cancel@example.com", "Cancelled")
    calendar, event = invite(cancelled)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["UID"]) == f"{created['id']}@booking-widget" and int(event["SEQUENCE"]) == 1
    assert "Double-booked myself" in cancelled.get_body(("plain",)).get_content()

    # The same link again: it says what happened and acts no more.
    response = page.goto(link(mail, "cancel"))
    assert response is not None and response.status == 409
    expect(page.locator("h1")).to_have_text("Nothing to do")
    expect(page.locator("[role=status]")).to_have_text("This booking has already been cancelled.")
    expect(page.locator("button[type=submit]")).to_have_count(0)
    # ...and the slot is free again.
    book(base_url, "30min", 9, "next@example.com")


def test_host_confirms_from_the_email(page: Page, base_url: str, mailbox: Mailbox) -> None:
    created = book(base_url, "intro", 10, "confirm@example.com")
    assert created["status"] == "PendingApproval"
    wait_for_mail(mailbox, "confirm@example.com", "Requested")
    request = wait_for_mail(mailbox, "demo@example.com", "Approval needed", "confirm@example.com")

    page.goto(link(request, "confirm"))
    expect(page.locator(".summary")).to_contain_text("confirm@example.com")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("The booking is confirmed.")

    confirmed = wait_for_mail(mailbox, "confirm@example.com", "Confirmed")
    calendar, event = invite(confirmed)
    assert str(calendar["METHOD"]) == "REQUEST" and str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 1
    # The decline link from the same email is spent now.
    page.goto(link(request, "decline"))
    expect(page.locator("[role=status]")).to_have_text("This booking has already been confirmed.")


def test_host_declines_with_a_reason(page: Page, base_url: str, mailbox: Mailbox) -> None:
    book(base_url, "intro", 11, "decline@example.com")
    request = wait_for_mail(mailbox, "demo@example.com", "Approval needed", "decline@example.com")
    page.goto(link(request, "decline"))
    expect(page.locator("h1")).to_have_text("Decline this booking?")
    page.fill("#reason", "No free seats that day")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("The booking has been declined.")
    declined = wait_for_mail(mailbox, "decline@example.com", "Declined")
    assert "No free seats that day" in declined.get_body(("plain",)).get_content()
    assert str(invite(declined)[0]["METHOD"]) == "CANCEL"


def test_reschedule_link_and_json_route_move_the_booking(
    page: Page, base_url: str, mailbox: Mailbox
) -> None:
    created = book(base_url, "30min", 13, "move@example.com")
    mail = wait_for_mail(mailbox, "move@example.com", "Confirmed")
    reschedule = link(mail, "reschedule")
    token = reschedule.split("/")[-2]

    page.goto(reschedule)
    button = page.locator("a.primary")
    expect(button).to_have_text("Choose a new time")
    assert button.get_attribute("href") == f"/demo/30min?reschedule={token}&locale=en"

    start, end = demo_slot(DAY, 14)
    response = httpx.post(
        f"{base_url}{API}/bookings/{token}/reschedule", json={"startTime": start, "endTime": end}
    )
    assert response.status_code == 201, response.text
    assert response.json()["rescheduledFromUid"] == created["id"]
    moved = wait_for_mail(mailbox, "move@example.com", "Rescheduled")
    _, event = invite(moved)
    assert str(event["UID"]) == f"{created['id']}@booking-widget"  # same calendar event
    assert (
        int(event["SEQUENCE"]) == 2 and event["DTSTART"].dt.strftime("%Y-%m-%dT%H:%M:%SZ") == start
    )

    # Links of the old booking act no more but lead to the booking as it is now; the new email
    # carries working ones.
    page.goto(link(mail, "cancel"))
    expect(page.locator("h1")).to_have_text("This booking has moved")
    expect(page.locator(".summary.current")).to_contain_text("Confirmed")
    expect(page.locator("form button[type=submit]")).to_have_text("Email me the current links")
    page.goto(link(moved, "cancel"))
    expect(page.locator("h1")).to_have_text("Cancel this booking?")


def test_tampered_and_expired_links_get_their_pages(
    page: Page, base_url: str, mailbox: Mailbox, links_settings: Settings
) -> None:
    book(base_url, "30min", 15, "late@example.com")
    cancel = link(wait_for_mail(mailbox, "late@example.com", "Confirmed"), "cancel")
    token = cancel.split("/")[-2]
    tampered = cancel.replace(
        token, token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    )
    response = page.goto(tampered)
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("This link does not work")

    with live_server(links_settings, env={"RUN_WORKER": "0"}, clock_shift=30 * 86400) as future_url:
        response = page.goto(cancel.replace(base_url, future_url))
        assert response is not None and response.status == 410
        expect(page.locator("h1")).to_have_text("This link has expired")
        expect(page.locator("button[type=submit]")).to_have_count(0)


def test_guest_reschedules_through_the_widget(page: Page, base_url: str, mailbox: Mailbox) -> None:
    created = book(base_url, "30min", 16, "widget@example.com")
    mail = wait_for_mail(mailbox, "widget@example.com", "Confirmed")
    page.goto(link(mail, "reschedule"))
    page.click("a.primary")
    expect(page.locator(".notice")).to_contain_text("You are moving your booking")
    if page.locator("a[data-day]").count() == 0:
        page.click("a[rel=next]")
    page.locator("a[data-day]").last.click()
    page.locator("#slots a.slot").first.click()
    expect(page.locator(".form-step .notice")).to_contain_text("moves to this time")
    page.fill("#f-reason", "A clash came up")
    page.click("button.primary")
    expect(page.locator(".confirmation")).to_be_visible()

    moved = wait_for_mail(mailbox, "widget@example.com", "Rescheduled")
    _, event = invite(moved)
    assert str(event["UID"]) == f"{created['id']}@booking-widget"
    assert int(event["SEQUENCE"]) == 2
    page.goto(link(mail, "reschedule"))  # the old link is spent, and says where it went
    expect(page.locator("h1")).to_have_text("This booking has moved")
