"""The console's settings, developers and hosts pages, and /schema, in Chromium: a host's main
flows, with screenshots at 1280 and 360 px, axe-core, and no CSP violation (the ``page`` fixture
fails a test on any)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from console_support import browser_sign_in
from playwright.sync_api import Page, expect
from receivers import WebhookReceiver

from app.settings import Settings
from support import make_settings, prepare_database

pytestmark = pytest.mark.xdist_group("browser")
pytest_plugins = ("receivers",)
Shot = Callable[[Page, str], None]
Axe = Callable[[Page], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def widget_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """This module's server calls a local webhook receiver and runs its outbox worker."""
    settings = make_settings(
        tmp_path_factory.mktemp("console-settings"), allow_private_urls=True, run_worker=True
    )
    prepare_database(settings.database_url)
    return settings


@pytest.fixture
def host_page(page: Page, base_url: str, widget_settings: Settings) -> Iterator[Page]:
    browser_sign_in(page, base_url, widget_settings)
    yield page


def look(page: Page, name: str, shot: Shot, axe: Axe) -> None:
    """Screenshots at 1280 and 360 px, no horizontal scrolling at 360, no serious axe finding."""
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, f"{name}-1280")
    assert axe(page) == []
    page.set_viewport_size({"width": 360, "height": 780})
    shot(page, f"{name}-360")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{name} scrolls sideways at 360 px ({width} px)"
    assert axe(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})
    # axe leaves empty style attributes behind, which htmx would copy onto the next page's
    # elements of the same id (a CSP violation no real visitor causes): start afresh.
    page.reload()


def test_settings_profile_shows_on_the_booking_page(
    host_page: Page, base_url: str, shot: Shot, axe: Axe
) -> None:
    page = host_page
    page.goto(base_url + "/console/settings")
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    look(page, "console-settings", shot, axe)

    # A name far too long: the page says so next to the field, and nothing is saved.
    page.get_by_label("Name", exact=True).fill("x" * 5000)
    page.get_by_role("button", name="Save settings").click()
    error = page.locator("#name-error")
    expect(error).to_contain_text("too long")
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    shot(page, "console-settings-error-1280")
    assert axe(page) == []
    page.reload()  # see look()

    page.get_by_label("Name", exact=True).fill("Robin Gardener")
    page.get_by_label("Welcome text").fill("Talk to me about gardens.")
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.get_by_label("12-hour (2:30 PM)").check()
    page.get_by_label("Ask guests to pass a CAPTCHA before they book").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash-success")).to_contain_text("Your settings are saved.")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Robin Gardener")
    expect(page.get_by_label("Time zone")).to_have_value("America/Chicago")

    page.goto(base_url + "/demo")
    expect(page.get_by_text("Robin Gardener").first).to_be_visible()
    expect(page.get_by_text("Talk to me about gardens.")).to_be_visible()


def test_developers_key_webhook_test_and_log(
    host_page: Page, base_url: str, receiver: WebhookReceiver, shot: Shot, axe: Axe
) -> None:
    page = host_page
    page.goto(base_url + "/console/developers")
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    look(page, "console-developers-empty", shot, axe)

    page.get_by_label("Name of a new key").fill("Zapier")
    page.get_by_role("button", name="Create key").click()
    key_box = page.locator("#new-key")
    expect(key_box).to_have_value(re.compile(r"^bk_"))
    key = key_box.input_value()
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    look(page, "console-developers-key", shot, axe)  # ends with a reload of the page
    expect(page.locator("#new-key")).to_have_count(0)
    assert page.url == base_url + "/console/developers"
    assert key not in page.content()
    expect(page.get_by_role("cell", name="Zapier", exact=True)).to_be_visible()

    page.get_by_role("link", name="New webhook").click()
    expect(page.get_by_role("heading", name="New webhook")).to_be_visible()
    look(page, "console-developers-new-webhook", shot, axe)
    page.get_by_label("URL to call").fill(receiver.url)
    page.get_by_label("Secret").fill("whsec-browser-0123456789")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_role("heading", name="Webhook", exact=True)).to_be_visible()
    expect(page.get_by_text("No calls yet")).to_be_visible()

    page.get_by_role("button", name="Send a test call").click()
    expect(page.locator(".flash-success")).to_contain_text("The test call was delivered.")
    expect(page.locator("table.deliveries .badge-ok")).to_have_count(1)
    assert len(receiver.hooks) == 1 and receiver.hooks[0].json["triggerEvent"] == "PING"

    page.get_by_role("button", name=re.compile("^Redeliver")).first.click()
    expect(page.locator(".flash-success")).to_contain_text("queued again")
    page.wait_for_timeout(1500)  # the server's worker sends it within a second or so
    page.reload()
    expect(page.locator("table.deliveries .badge-ok")).to_have_count(2)
    assert len(receiver.hooks) == 2
    look(page, "console-developers-webhook-log", shot, axe)

    page.goto(base_url + "/console/developers")
    look(page, "console-developers", shot, axe)


def test_hosts_invite_and_disable(
    host_page: Page, base_url: str, widget_settings: Settings, shot: Shot, axe: Axe
) -> None:
    page = host_page
    page.goto(base_url + "/console/bookings")
    page.goto(base_url + "/console/hosts")
    expect(page.get_by_role("heading", name="Hosts", level=1)).to_be_visible()
    page.get_by_label("Slug").fill("sam")
    page.locator("#invite-name").fill("Sam Smith")
    page.locator("#invite-email").fill("sam@example.com")
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("sign-in link is on its way")
    expect(page.get_by_role("cell", name="sam@example.com", exact=True)).to_be_visible()
    look(page, "console-hosts", shot, axe)

    page.get_by_role("link", name="Disable sam").click()
    expect(page.get_by_role("heading", name="Disable Sam Smith?")).to_be_visible()
    look(page, "console-hosts-disable", shot, axe)
    page.get_by_role("button", name="Disable").click()
    expect(page.locator(".flash-success")).to_contain_text("is disabled")
    expect(page.get_by_role("link", name="Enable sam")).to_be_visible()
    assert page.request.get(base_url + "/sam").status == 404


def test_schema_renders_offline(page: Page, base_url: str, shot: Shot) -> None:
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: (
            elsewhere.append(request.url)
            if not request.url.startswith((base_url, "data:", "blob:"))
            else None
        ),
    )
    page.goto(base_url + "/schema")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Booking widget API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    expect(page.get_by_text("/v2/me").first).to_be_attached()
    shot(page, "schema-1280")
    assert elsewhere == []
