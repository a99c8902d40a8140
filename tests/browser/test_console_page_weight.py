"""Console pages keep to the widget's budget: a signed-in host opening a section with nothing
cached moves under 30 KB of HTML, CSS and JavaScript over the wire (gzip and htmx included),
whichever of the heavier pages it is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from console_support import link_for, path_of
from embed_support import launch_chromium
from playwright.sync_api import sync_playwright

from app.settings import Settings
from support import book, live_server, make_settings, prepare_database

pytestmark = pytest.mark.xdist_group("browser-console-weight")

BUDGET = 30 * 1024  # the booking page's own budget (test_page_weight.py)
COUNTED = {"Document", "Stylesheet", "Script", "Fetch", "XHR"}
PAGES = (
    "/console/bookings",
    "/console/event-types/1/edit",
    "/console/availability/1",
    "/console/embed",
    "/console/developers",
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    settings = make_settings(tmp_path_factory.mktemp("console-weight"))
    prepare_database(settings.database_url)
    with live_server(settings) as base:
        for hour in (9, 10, 11):
            import httpx

            with httpx.Client(base_url=base) as client:
                book(client, hour=hour)  # a list with rows in it
        yield base, settings


def weights(base_url: str, settings: Settings) -> dict[str, int]:
    """Bytes on the wire per page (CDP's encodedDataLength) in the page's own frame, each page
    loaded with an empty cache by a signed-in browser. The embed builder's preview frame is the
    booking page itself, weighed by test_page_weight.py."""
    link = path_of(link_for(settings))
    sizes: dict[str, int] = {}
    seen: dict[str, dict[str, Any]] = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.goto(base_url + link)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/console/bookings")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on(
            "Network.responseReceived",
            lambda e: seen.setdefault(e["requestId"], {}).update(
                type=e["type"], frame=e.get("frameId"), url=e["response"]["url"]
            ),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: seen.setdefault(e["requestId"], {}).update(bytes=e["encodedDataLength"]),
        )
        for path in PAGES:
            cdp.send("Network.clearBrowserCache")
            seen.clear()
            page.goto(base_url + path)
            page.wait_for_load_state("networkidle")
            main = cdp.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
            counted = [
                r
                for r in seen.values()
                if r.get("type") in COUNTED and "bytes" in r and r.get("frame") == main
            ]
            for r in counted:
                print(f"{r['bytes']:>7} B  {r['type']:<10} {r['url']}")
            sizes[path] = sum(r["bytes"] for r in counted)
        browser.close()
    return sizes


def test_console_pages_stay_under_the_widgets_budget(served, capsys) -> None:
    base_url, settings = served
    sizes = weights(base_url, settings)
    with capsys.disabled():
        for path, size in sizes.items():
            print(f"\n{size:>7} B  {path} (budget {BUDGET} B)", end="")
        print()
    assert set(sizes) == set(PAGES)
    assert all(size > 10_000 for size in sizes.values())  # htmx and the CSS were counted
    assert {path: size for path, size in sizes.items() if size > BUDGET} == {}
