"""Helpers for the embed tests: a third-party site on another origin, a browser, the widget flow.

The "site" is a tiny ``http.server`` on another port of 127.0.0.1, so it is a different origin from
the booking server, as a customer's website would be. It sends a strict CSP of its own (no inline
scripts or styles) so the tests also show that embed.js needs nothing the CSP forbids.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Frame, Page, Playwright

from support import in_thread, with_session

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# The site's own script: records every booking:* DOM event and every message it receives, so the
# tests can check what the *host page* saw (not what the iframe did).
LISTENER_JS = """
window.seen = { events: [], messages: [] };
["booking:ready", "booking:resize", "booking:booked", "booking:close", "booking:error"].forEach(function (type) {
  document.addEventListener(type, function (e) {
    seen.events.push({ type: e.type, target: e.target.id, detail: e.detail, bubbles: e.bubbles });
  });
});
window.addEventListener("message", function (e) {
  seen.messages.push({ origin: e.origin, data: e.data });
});
document.addEventListener("click", function (e) {
  if (e.target.id === "open-api") {
    BookingWidget.open(e.target.getAttribute("data-url"), { name: "Api Guest", theme: "light" });
    return;
  }
  if (e.target.id !== "add-widget") return;
  var box = document.createElement("div");
  box.id = "late";
  box.setAttribute("data-booking-url", e.target.getAttribute("data-url"));
  document.getElementById("more").appendChild(box);
});
"""

# A page on the site's origin that, once framed, pretends to be the widget.
FORGER_JS = """
parent.postMessage({ type: "booking:booked", payload: { id: "bkg_forged" } }, "*");
parent.postMessage({ type: "booking:resize", height: 7 }, "*");
"""


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


def site_csp(widget_base: str) -> str:
    return (
        f"default-src 'self'; script-src 'self' {widget_base}; frame-src 'self' {widget_base}; "
        "style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'"
    )


@contextmanager
def serve(csp: str, lookup: Callable[[str], tuple[str, str]]) -> Iterator[str]:
    """A site on another origin (another port of 127.0.0.1) sending ``csp``; ``lookup(path)``
    gives each path's (content type, text), read at each request; empty text is a 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            kind, text = lookup(urlsplit(self.path).path)
            data = text.encode()
            self.send_response(200 if data else 404)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Security-Policy", csp)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def third_party_site(widget_base: str, pages: dict[str, str]) -> Iterator[str]:
    """Serve ``pages`` (path -> HTML body) plus /listener.js and /forger.js; yield the base URL."""
    files = {
        "/listener.js": ("application/javascript", LISTENER_JS),
        "/forger.js": ("application/javascript", FORGER_JS),
        "/forger.html": ("text/html", '<!doctype html><script src="/forger.js"></script>'),
    }
    for path, body in pages.items():
        files[path] = ("text/html", page_html(widget_base, body))
    with serve(site_csp(widget_base), lambda path: files.get(path, ("text/plain", ""))) as url:
        yield url


@contextmanager
def pasting_site(widget_base: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A customer's site with a strict CSP (only the booking server's script and frames); the
    test puts whole HTML pages (path -> HTML) into the dict it yields, at any time."""
    pages: dict[str, str] = {}
    with serve(site_csp(widget_base), lambda path: ("text/html", pages.get(path, ""))) as url:
        yield url, pages


def page_html(widget_base: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>Acme Plumbing</title><script src="/listener.js"></script></head>'
        f"<body><h1>Acme Plumbing</h1><p>Talk to us about your project.</p>{body}"
        f'<script src="{widget_base}/embed.js" async></script></body></html>'
    )


def seen(page: Page) -> dict[str, list[dict[str, Any]]]:
    return page.evaluate("JSON.parse(JSON.stringify(window.seen))")


def events(page: Page, kind: str, target: str | None = None) -> list[dict[str, Any]]:
    return [
        e
        for e in seen(page)["events"]
        if e["type"] == kind and (target is None or e["target"] == target)
    ]


def wait_for_event(page: Page, kind: str, target: str, count: int = 1) -> dict[str, Any]:
    page.wait_for_function(
        "([kind, target, count]) => window.seen && seen.events.filter("
        "e => e.type === kind && e.target === target).length >= count",
        arg=[kind, target, count],
    )
    return events(page, kind, target)[-1]


def widget_frame(page: Page, selector: str) -> Frame:
    """The widget's frame (``selector`` finds its iframe) once it is shown in the browser's zone."""
    handle = page.wait_for_selector(selector, state="attached")
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_url(lambda url: "tz=" in url)
    frame.wait_for_load_state()
    frame.wait_for_selector("a[data-day]")
    return frame


def iframe_height(page: Page, selector: str) -> float:
    return float(page.eval_on_selector(selector, "f => f.getBoundingClientRect().height"))


def settle_height(page: Page, selector: str, frame: Frame) -> float:
    """Wait until the iframe is exactly as tall as the page inside it; return that height."""
    page.wait_for_function(
        "([selector, want]) => Math.abs(document.querySelector(selector)"
        ".getBoundingClientRect().height - want) <= 1",
        arg=[selector, content_height(frame)],
    )
    return iframe_height(page, selector)


def content_height(frame: Frame) -> float:
    return float(frame.evaluate("Math.ceil(document.body.getBoundingClientRect().height)"))


def has_inner_scrollbar(frame: Frame) -> bool:
    return bool(
        frame.evaluate(
            "document.documentElement.scrollHeight > document.documentElement.clientHeight + 1"
        )
    )


def pick_first_slot(frame: Frame) -> None:
    frame.locator("a[data-day]").first.click()
    frame.locator("a.slot").first.click()
    frame.wait_for_selector("form.booking-form")


def submit_form(frame: Frame, name: str | None = None, email: str | None = None) -> None:
    if name is not None:
        frame.fill("#f-inviteeName", name)
    if email is not None:
        frame.fill("#f-inviteeEmail", email)
    frame.click("form.booking-form button[type=submit]")
    frame.wait_for_selector(".confirmation")


def in_database(url: str, work: Any) -> Any:
    """``with_session`` from a thread: sync Playwright keeps an event loop running in this one."""
    return in_thread(with_session, url, work)
