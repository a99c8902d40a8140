"""The booking page stays light: a guest's first visit to /demo/30min, with nothing cached, moves
under 30 KB of HTML, CSS and JavaScript over the wire (gzip included, htmx included), translated
text and dark mode included. A first visit without the zone in the address counts the fragment
widget.js fetches in the browser's zone too: the guest sees no time before it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from embed_support import launch_chromium
from playwright.sync_api import sync_playwright

from support import live_server, make_settings, prepare_database

pytestmark = pytest.mark.xdist_group("browser")

BUDGET = 30 * 1024
COUNTED = {"Document", "Stylesheet", "Script", "Fetch", "XHR"}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(tmp_path_factory.mktemp("weight"))
    prepare_database(settings.database_url)
    with live_server(settings) as base:
        yield base


def transfers(base_url: str, path: str, timezone: str | None) -> list[dict[str, Any]]:
    """Every response of one page load in a new profile (empty cache): url, type, bytes on the
    wire (CDP's encodedDataLength: headers and compressed body). A first visit without ``tz``
    reloads itself once in the browser's zone; that reload is counted too (it may use the cache).
    """
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(timezone_id=timezone or "Europe/Berlin")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        requests: dict[str, dict[str, Any]] = {}
        cdp.on(
            "Network.responseReceived",
            lambda e: requests.setdefault(e["requestId"], {}).update(
                url=e["response"]["url"],
                type=e["type"],
                encoding=e["response"]["headers"].get("content-encoding", ""),
            ),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: requests.setdefault(e["requestId"], {}).update(bytes=e["encodedDataLength"]),
        )
        cdp.send("Network.enable")
        page.goto(base_url + path)
        page.wait_for_load_state("networkidle")
        page.wait_for_selector("a.slot")
        browser.close()
    return [r for r in requests.values() if "bytes" in r and "type" in r]


def report(rows: list[dict[str, Any]]) -> int:
    counted = [r for r in rows if r["type"] in COUNTED]
    for r in counted:
        print(f"{r['bytes']:>7} B  {r['type']:<10} {r['encoding'] or 'identity':<8} {r['url']}")
    total = sum(r["bytes"] for r in counted)
    print(f"{total:>7} B  total HTML+CSS+JS (budget {BUDGET} B)")
    return total


@pytest.mark.parametrize(
    "path", ["/demo/30min", "/demo/30min?tz=Europe/Berlin"], ids=["first-visit", "with-tz"]
)
def test_booking_page_weight(base_url, path, capsys):
    rows = transfers(base_url, path, "Europe/Berlin")
    with capsys.disabled():
        print(f"\npage weight of {path}:")
        total = report(rows)
    kinds = {r["type"] for r in rows}
    assert {"Document", "Stylesheet", "Script"} <= kinds
    assert any("htmx" in r["url"] for r in rows)
    big = [r for r in rows if r["type"] in COUNTED and r["bytes"] > 1500]
    assert all(r["encoding"] == "gzip" for r in big), big
    assert total < BUDGET
