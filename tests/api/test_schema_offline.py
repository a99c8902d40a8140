"""/schema: the API documentation page loads nothing from elsewhere and nothing inline, so the
Content-Security-Policy lets it run and it works without internet (the browser half of this is in
tests/browser/test_console_settings.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar.testing import TestClient


class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.inline: list[str] = []
        self.styles: list[str] = []
        self.inline_styles = 0
        self.style_attributes = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if "style" in values:
            self.style_attributes += 1
        if tag == "script":
            self.scripts.append(values.get("src"))
            self._in_script = True
        elif tag == "link":
            self.styles.append(values.get("href") or "")
        elif tag == "style":
            self.inline_styles += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger"])
def test_the_docs_page_uses_only_our_own_files(client: TestClient[Any], path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assets = Assets()
    assets.feed(page.text)
    assert assets.inline == [] and assets.inline_styles == 0 and assets.style_attributes == 0
    assert assets.scripts and all(src and src.startswith("/static/") for src in assets.scripts)
    assert assets.styles and all(href.startswith("/static/") for href in assets.styles)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)
    for url in [*assets.scripts, *assets.styles]:
        asset = client.get(str(url))
        assert asset.status_code == 200, url
        assert "//cdn" not in asset.text[:2000]
    assert 'data-spec-url="/schema/openapi.json"' in page.text


def test_the_starter_script_reads_the_document_address_from_the_page(
    client: TestClient[Any],
) -> None:
    script = client.get("/static/api-docs.js").text
    assert 'getAttribute("data-spec-url")' in script
    assert "validatorUrl: null" in script  # no badge fetched from the validator's site


def test_the_document_itself_is_still_served(client: TestClient[Any]) -> None:
    document = client.get("/schema/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Booking widget API"
    assert "/v2/me" in document.json()["paths"]
