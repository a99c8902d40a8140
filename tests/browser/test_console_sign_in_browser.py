"""A host signs in to the console in a real browser: the sign-in page, the "check your email"
page, the emailed link's confirmation, and back out; at 1280 and 360 px, with axe."""

from __future__ import annotations

import re
from typing import Any

import pytest
from console_support import link_from_thread, path_of
from playwright.sync_api import Page, expect

from app.settings import Settings

pytestmark = pytest.mark.xdist_group("browser-console-sign-in")


@pytest.mark.parametrize("width", [1280, 360])
def test_a_host_signs_in_from_the_emailed_link_and_out_again(
    page: Page, base_url: str, widget_settings: Settings, axe: Any, shot: Any, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{base_url}/console/bookings")
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to your console")
    assert axe(page) == []
    shot(page, f"console-sign-in-{width}")

    page.get_by_label("Email").fill("demo@example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert axe(page) == []
    shot(page, f"console-sign-in-sent-{width}")

    page.goto(base_url + path_of(link_from_thread(widget_settings)))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in as Dana Demo?")
    assert axe(page) == []
    shot(page, f"console-sign-in-confirm-{width}")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/bookings$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/sign-in\?signed_out=1$"))
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    page.goto(f"{base_url}/console/bookings")
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))


def test_a_malformed_address_is_named_next_to_the_field(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/console/sign-in")
    page.get_by_label("Email").fill("not an address")
    page.get_by_role("button", name="Email me a sign-in link").click()
    field = page.get_by_label("Email")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-error")).to_contain_text("Enter your email address")
