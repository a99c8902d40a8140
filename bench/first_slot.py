"""Time from navigation to the first visible time slot, in a real browser (Debian's Chromium).

A customer's page on another origin embeds the booking page; each run is a new browser context
(empty cache, no cookies: a first visit), and the clock runs from the customer page's navigation
start to the moment the first slot button of the widget is on screen. Two ways in:

- *zone known*: the page uses embed.js, which passes the visitor's time zone (and language) to the
  widget, so the booking page comes with its times at once;
- *zone unknown*: the page frames the booking URL itself (an ``<iframe>`` pasted by hand), so the
  widget has to learn the zone in the browser first: a light page, then one fragment request.

The moment is taken inside the widget's frame by a script Playwright adds to every frame: a
MutationObserver notes the first ``a.slot`` and the next animation frame after it (when it is
painted), on the frame's clock, which is put on the customer page's clock with
``performance.timeOrigin``.
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
RUNS = 9

# Runs in every frame before its own scripts: records when the first slot is painted.
WATCH = """
(() => {
  const seen = () => {
    const slot = document.querySelector("a.slot");
    if (!slot || window.__firstSlot) return false;
    requestAnimationFrame(() => {
      window.__firstSlot = performance.timeOrigin + performance.now();
    });
    return true;
  };
  new MutationObserver((_, observer) => { if (seen()) observer.disconnect(); })
    .observe(document, { childList: true, subtree: true });
})();
"""


@dataclass
class Timing:
    scenario: str
    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p90(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


@contextmanager
def customer_site(pages: dict[str, str]) -> Iterator[str]:
    """Another origin (another port of 127.0.0.1) serving ``pages``; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0], "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def page(body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme</title></head>'
        f"<body><h1>Acme Plumbing</h1>{body}</body></html>"
    )


def measure(booking_url: str, runs: int = RUNS) -> list[Timing]:
    """Median and spread of ``runs`` cold first visits for each way in."""
    from playwright.sync_api import sync_playwright

    widget_origin = booking_url.split("/", 3)[:3]
    script = "/".join(widget_origin) + "/embed.js"
    pages = {
        "/known": page(
            f'<div data-booking-url="{booking_url}"></div><script src="{script}"></script>'
        ),
        "/unknown": page(
            f'<iframe src="{booking_url}?embed=1" title="Book" width="100%" height="800"></iframe>'
        ),
    }
    scenarios = [
        ("Embed on another origin, zone known (embed.js)", "/known"),
        ("Embed on another origin, zone unknown (plain iframe)", "/unknown"),
    ]
    results = [Timing(name, []) for name, _ in scenarios]
    with customer_site(pages) as site, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for _ in range(runs):
                for timing, (_, path) in zip(results, scenarios, strict=True):
                    timing.samples.append(first_slot_ms(browser, site + path))
        finally:
            browser.close()
    return results


def first_slot_ms(browser: Any, url: str) -> float:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="America/New_York"
    )
    try:
        context.add_init_script(WATCH)
        tab = context.new_page()
        tab.goto(url)
        frame_element = tab.wait_for_selector("iframe", state="attached")
        frame = frame_element.content_frame()
        frame.wait_for_function("() => window.__firstSlot", timeout=30_000)
        seen = frame.evaluate("window.__firstSlot")
        start = tab.evaluate("performance.timeOrigin")
        return float(seen) - float(start)
    finally:
        context.close()
