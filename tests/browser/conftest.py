"""Fixtures for the widget's browser tests: one live server and one Chromium per test module.

Module scope (not session) because sync Playwright allows one instance per thread at a time, and
other browser modules start their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.settings import Settings
from support import live_server, make_settings, prepare_database

ARTIFACTS = Path(__file__).parent / "artifacts"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def widget_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("widget"))
    prepare_database(settings.database_url)
    return settings


@pytest.fixture(scope="module")
def base_url(widget_settings: Settings) -> Iterator[str]:
    with live_server(widget_settings) as url:
        yield url


@pytest.fixture(scope="module")
def chromium(base_url: str) -> Iterator[Browser]:
    """Started after the server: its database is prepared with asyncio, which Playwright blocks."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh guest in New York with an American browser; CSP violations fail the test."""
    context = chromium.new_context(
        locale="en-US", timezone_id="America/New_York", viewport={"width": 1280, "height": 900}
    )
    guest = context.new_page()
    problems: list[str] = []
    guest.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    guest.on("pageerror", lambda e: problems.append(str(e)))
    yield guest
    context.close()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core findings on the page as it is now."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make tests/browser/vendor/axe.min.js`")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;true")  # DevTools evaluation is not bound by the CSP
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(" "))}))"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def axe() -> Callable[[Page], list[dict[str, Any]]]:
    return axe_violations


@pytest.fixture
def shot() -> Callable[[Page, str], None]:
    return screenshot
