"""The console's embed builder through the real HTTP door: the snippet for each choice (with the
attributes embed.js reads), its escaping, the preview page and its framing policy, bad options,
and the allowed embed origins (saved, enforced on the booking pages, a bad one refused)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from console_support import post_form, signed_in
from litestar.testing import TestClient
from sqlalchemy import select

from app.db.models import Host
from app.hosts.event_types import create_event_type
from app.hosts.service import create_host, host_by_slug
from app.main import create_app
from app.settings import Settings
from support import with_session


@pytest.fixture
def console(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(settings)) as client:
        yield signed_in(client, settings)


def snippet_of(page: str) -> str:
    found = re.search(r'<textarea id="embed-snippet"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, "no snippet on the page"
    return html.unescape(found.group(1))


def preview_src(page: str) -> str:
    found = re.search(r'<iframe class="embed-preview" src="([^"]+)"', page)
    assert found, "no preview on the page"
    return html.unescape(found.group(1))


def origins(settings: Settings) -> list[str]:
    async def work(session: Any) -> list[str]:
        host = (await session.scalars(select(Host).where(Host.slug == "demo"))).one()
        return list(host.embed_origins or [])

    return with_session(settings.database_url, work)


def test_signed_out_goes_to_sign_in(client: TestClient[Any]) -> None:
    for path in ("/console/embed", "/console/embed/preview"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"


def test_default_snippet_is_the_inline_booking_page(console: TestClient[Any]) -> None:
    answer = console.get("/console/embed")
    assert answer.status_code == 200
    assert 'aria-current="page">Embed<' in answer.text
    # The colour starts as the host's brand colour (the demo host's is #4f46e5).
    assert snippet_of(answer.text) == (
        '<div data-booking-url="http://testserver/demo" data-booking-color="#4f46e5"></div>\n'
        '<script src="http://testserver/embed.js" async></script>'
    )
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    # Every event type can be chosen, and the page works as a plain GET form.
    assert '<option value="30min"' in answer.text and '<option value="intro"' in answer.text
    assert '<form method="get" action="/console/embed"' in answer.text


def test_each_choice_becomes_an_attribute_embed_js_reads(console: TestClient[Any]) -> None:
    popup = console.get(
        "/console/embed",
        params={
            "mode": "popup",
            "target": "30min",
            "color": "#0F766E",
            "locale": "de",
            "theme": "dark",
            "text": "Termin buchen",
            "name": "Grace Hopper",
            "email": "grace@example.com",
        },
    )
    assert popup.status_code == 200
    assert snippet_of(popup.text) == (
        '<div data-booking-url="http://testserver/demo/30min" data-booking-mode="popup" '
        'data-booking-text="Termin buchen" data-booking-color="#0f766e" '
        'data-booking-locale="de" data-booking-theme="dark" data-booking-name="Grace Hopper" '
        'data-booking-email="grace@example.com"></div>\n'
        '<script src="http://testserver/embed.js" async></script>'
    )
    floating = console.get(
        "/console/embed", params={"mode": "floating", "position": "left", "target": "intro"}
    )
    assert snippet_of(floating.text).startswith(
        '<div data-booking-url="http://testserver/demo/intro" data-booking-mode="floating" '
        'data-booking-position="left" data-booking-color="#4f46e5"></div>'
    )
    # The inline widget has no button: its label and corner are left out.
    inline = console.get("/console/embed", params={"text": "Go", "position": "left"})
    assert "data-booking-text" not in snippet_of(inline.text)
    assert "data-booking-position" not in snippet_of(inline.text)


def test_the_preview_is_the_snippet_framed_by_the_console_only(console: TestClient[Any]) -> None:
    builder = console.get(
        "/console/embed", params={"mode": "popup", "target": "30min", "name": "Ada"}
    )
    src = preview_src(builder.text)
    assert src.startswith("/console/embed/preview?")
    preview = console.get(src)
    assert preview.status_code == 200
    policy = preview.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in policy and "script-src 'self'" in policy
    assert "x-frame-options" not in preview.headers
    assert snippet_of(builder.text) in preview.text  # the very same HTML, run as is
    assert "<script>" not in preview.text and " style=" not in preview.text


def test_values_are_escaped_in_the_snippet(console: TestClient[Any]) -> None:
    hostile = '"><script>alert(1)</script>'
    builder = console.get("/console/embed", params={"name": hostile, "text": "a&b"})
    assert builder.status_code == 200
    assert "<script>alert(1)" not in builder.text
    snippet = snippet_of(builder.text)
    assert 'data-booking-name="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in snippet
    preview = console.get(preview_src(builder.text))
    assert "<script>alert(1)" not in preview.text
    assert 'data-booking-name="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in preview.text


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"mode": "sidebar"}, "Choose inline, popup button or floating button."),
        ({"target": "nope"}, "Choose one of your event types or your booking page."),
        ({"color": "red"}, "Choose a colour such as #0f766e."),
        ({"locale": "xx"}, "Choose one of the listed languages."),
        ({"theme": "sepia"}, "Choose automatic, light or dark."),
        ({"name": "x" * 201}, "At most 200 characters."),
    ],
)
def test_bad_options_are_named(
    console: TestClient[Any], params: dict[str, str], words: str
) -> None:
    answer = console.get("/console/embed", params=params)
    assert answer.status_code == 400
    assert words in answer.text
    assert 'id="embed-snippet"' not in answer.text
    assert console.get("/console/embed/preview", params=params).status_code == 400


def test_another_hosts_event_type_cannot_be_embedded(
    console: TestClient[Any], settings: Settings
) -> None:
    async def work(session: Any) -> None:
        other = await create_host(
            session, "other", name="Olga Other", email="olga@example.com", timezone="UTC"
        )
        await create_event_type(
            session, other, {"title": "Secret", "slug": "olga-only", "lengthInMinutes": 30}
        )

    with_session(settings.database_url, work)
    answer = console.get("/console/embed", params={"target": "olga-only"})
    assert answer.status_code == 400
    assert "olga-only" not in snippet_of_or_empty(answer.text)
    assert "Secret" not in answer.text


def snippet_of_or_empty(page: str) -> str:
    return snippet_of(page) if 'id="embed-snippet"' in page else ""


def test_allowed_origins_are_saved_and_frame_the_booking_pages(
    console: TestClient[Any], settings: Settings
) -> None:
    answer = post_form(
        console,
        "/console/embed/origins",
        {"origins": "https://shop.example.com/\n http://localhost:8080 ,https://b.example"},
    )
    assert answer.status_code == 200, answer.text
    assert "only the websites you listed" in answer.text
    assert origins(settings) == [
        "https://shop.example.com",
        "http://localhost:8080",
        "https://b.example",
    ]
    assert "https://shop.example.com\nhttp://localhost:8080\nhttps://b.example</textarea>" in (
        answer.text
    )
    policy = console.get("/demo/30min").headers["content-security-policy"]
    assert (
        "frame-ancestors 'self' https://shop.example.com http://localhost:8080 https://b.example"
        in policy
    )

    # A bad origin: a clear 400 naming it, nothing saved, the typed text kept.
    answer = post_form(
        console,
        "/console/embed/origins",
        {"origins": "https://new.example.com\njavascript:alert(1)"},
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert "“javascript:alert(1)” is not an origin such as https://example.com." in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert "https://new.example.com\njavascript:alert(1)</textarea>" in answer.text
    assert origins(settings) == [
        "https://shop.example.com",
        "http://localhost:8080",
        "https://b.example",
    ]
    for bad in ("https://shop.example.com/path", "shop.example.com", "https://a b.example"):
        assert post_form(console, "/console/embed/origins", {"origins": bad}).status_code == 400
    assert len(origins(settings)) == 3

    # Empty: any site may embed again.
    answer = post_form(console, "/console/embed/origins", {"origins": ""})
    assert answer.status_code == 200
    assert "any website" in answer.text
    assert origins(settings) == []
    assert "frame-ancestors *" in console.get("/demo/30min").headers["content-security-policy"]


def test_origins_need_the_csrf_token(console: TestClient[Any], settings: Settings) -> None:
    answer = console.post("/console/embed/origins", data={"origins": "https://x.example"})
    assert answer.status_code == 403
    assert origins(settings) == []


def test_host_by_slug_is_untouched_by_a_refused_save(
    console: TestClient[Any], settings: Settings
) -> None:
    """The refused save leaves the signed-in host usable for the page it renders."""
    answer = post_form(console, "/console/embed/origins", {"origins": "nope"})
    assert answer.status_code == 400
    assert "Demo" in answer.text or "demo" in answer.text

    async def work(session: Any) -> list[str]:
        return list((await host_by_slug(session, "demo")).embed_origins or [])

    assert with_session(settings.database_url, work) == []
