"""What a guest downloads to first see the booking page: the HTML and the CSS and JS it links.

Bytes are counted as they come over the wire with ``Accept-Encoding: gzip`` (bodies only, no
headers), which is what a first visit with an empty cache costs.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(str(values["src"]))
        if tag == "link" and "stylesheet" in (values.get("rel") or "") and values.get("href"):
            self.urls.append(str(values["href"]))


def first_load(page_url: str) -> list[tuple[str, int, int]]:
    """(path, bytes on the wire, bytes unpacked) for the page and each asset it links."""
    headers = {"Accept-Encoding": "gzip"}
    with httpx.Client(headers=headers, timeout=10) as client:
        page = client.get(page_url)
        page.raise_for_status()
        parser = _Assets()
        parser.feed(page.text)
        rows = [(httpx.URL(page_url).path, page.num_bytes_downloaded, len(page.content))]
        for url in dict.fromkeys(parser.urls):
            absolute = urljoin(page_url, url)
            if httpx.URL(absolute).host != httpx.URL(page_url).host:
                continue  # third-party assets are not ours to weigh
            asset = client.get(absolute)
            asset.raise_for_status()
            rows.append((url, asset.num_bytes_downloaded, len(asset.content)))
    return rows
