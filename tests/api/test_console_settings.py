"""Console settings: the profile (shown on the booking page), CAPTCHA, and signing out everywhere.

Through the real door: a signed-in session, the page's form with its CSRF token. A refused value is
named next to its field with a 400, and nothing of the form is saved."""

from __future__ import annotations

from typing import Any

import pytest
from console_support import post_form, signed_in
from litestar.testing import TestClient

from app.db.models import Host
from app.hosts.service import host_by_slug
from app.main import create_app
from app.settings import Settings
from support import with_session

PROFILE = {
    "name": "Dr. Ada Lovelace",
    "avatar_url": "https://images.example.com/ada.png",
    "welcome": "Book a call about engines.\nEvery Tuesday.",
    "brand_color": "#0F766E",
    "time_zone": "America/New_York",
    "locale": "fr",
    "time_format": "12",
    "week_start": "Sunday",
    "captcha": "on",
}


def demo(settings: Settings) -> Host:
    return with_session(settings.database_url, lambda s: host_by_slug(s, "demo"))  # type: ignore[no-any-return]


@pytest.fixture
def console(settings: Settings) -> Any:
    with TestClient(app=create_app(settings)) as client:
        yield signed_in(client, settings)


def test_signed_out_goes_to_sign_in(client: TestClient[Any]) -> None:
    answer = client.get("/console/settings", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in"


def test_the_page_shows_the_profile_and_every_language(console: TestClient[Any]) -> None:
    page = console.get("/console/settings")
    assert page.status_code == 200
    html = page.text
    assert 'value="Demo' in html or "Demo" in html
    assert 'aria-current="page"' in html and 'href="/console/settings" aria-current' in html
    for tag in ("en", "de", "es", "fr", "it", "nl", "pt", "pl", "ja", "ar"):
        assert f'<option value="{tag}" lang="{tag}"' in html
    assert 'value="Europe/Berlin" selected' in html
    assert "/console/sign-out-everywhere" in html


def test_a_saved_profile_shows_on_the_booking_page(
    console: TestClient[Any], settings: Settings
) -> None:
    answer = post_form(console, "/console/settings", PROFILE, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/console/settings"
    host = demo(settings)
    assert host.name == "Dr. Ada Lovelace"
    assert host.avatar_url == "https://images.example.com/ada.png"
    assert host.welcome_text == "Book a call about engines.\nEvery Tuesday."
    assert host.brand_color == "#0f766e"
    assert (host.timezone, host.locale, host.time_format, host.week_start) == (
        "America/New_York",
        "fr",
        12,
        "Sunday",
    )
    assert host.captcha_enabled is True
    # The flash after the redirect, and the form showing what was saved.
    page = console.get("/console/settings")
    assert 'value="Dr. Ada Lovelace"' in page.text
    assert 'value="12" checked' in page.text
    # Guests see it.
    public = console.get("/demo")
    assert public.status_code == 200
    assert "Dr. Ada Lovelace" in public.text
    assert "Book a call about engines." in public.text
    assert "https://images.example.com/ada.png" in public.text
    brand = console.get("/demo/30min")
    assert brand.status_code == 200 and "Dr. Ada Lovelace" in brand.text
    # Turning the CAPTCHA off again: an unchecked box sends nothing.
    post_form(console, "/console/settings", {**PROFILE, "captcha": ""})
    assert demo(settings).captcha_enabled is False


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("brand_color", "red", "#4f46e5"),
        ("brand_color", "#12345g", "#4f46e5"),
        ("time_zone", "Mars/Olympus_Mons", "not a known IANA time zone"),
        ("avatar_url", "http://images.example.com/a.png", "https://"),
        ("avatar_url", "javascript:alert(1)", "https://"),
        ("name", "x" * 5000, "too long"),
        ("name", "   ", "required"),
        ("welcome", "w" * 2001, "too long"),
        ("locale", "not a locale!", "locale"),
        ("time_format", "13", "12 or 24"),
        ("week_start", "Someday", "weekStart"),
    ],
)
def test_bad_input_is_named_next_to_its_field_and_nothing_is_saved(
    console: TestClient[Any], settings: Settings, field: str, value: str, words: str
) -> None:
    before = demo(settings)
    answer = post_form(console, "/console/settings", {**PROFILE, field: value})
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.text
    assert words in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert "Nothing was saved" in answer.text
    # The form keeps what was typed, so the host can correct it.
    if field not in ("time_format", "week_start") and value.strip():
        assert value[:50] in answer.text
    after = demo(settings)
    for attribute in ("name", "avatar_url", "welcome_text", "brand_color", "timezone", "locale"):
        assert getattr(after, attribute) == getattr(before, attribute), attribute
    assert after.captcha_enabled == before.captcha_enabled


def test_a_script_in_the_name_is_text(console: TestClient[Any], settings: Settings) -> None:
    post_form(console, "/console/settings", {**PROFILE, "name": "<script>alert(1)</script>"})
    assert demo(settings).name == "<script>alert(1)</script>"
    for path in ("/console/settings", "/demo"):
        html = console.get(path).text
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_form_without_its_csrf_token_is_refused(
    console: TestClient[Any], settings: Settings
) -> None:
    answer = console.post("/console/settings", data=PROFILE)
    assert answer.status_code == 403
    assert demo(settings).name != PROFILE["name"]


def test_the_console_speaks_the_chosen_language(console: TestClient[Any]) -> None:
    post_form(console, "/console/settings", {**PROFILE, "locale": "de"})
    page = console.get("/console/settings")
    assert '<html lang="de"' in page.text


def test_sign_out_everywhere_ends_every_session(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app=app) as laptop, TestClient(app=app) as phone:
        signed_in(laptop, settings)
        signed_in(phone, settings)
        assert phone.get("/console/settings").status_code == 200
        answer = post_form(laptop, "/console/sign-out-everywhere", follow_redirects=False)
        assert answer.status_code == 303
        said = laptop.get(answer.headers["location"])
        assert "You are signed out on every device." in said.text
        for device in (laptop, phone):
            gone = device.get("/console/settings", follow_redirects=False)
            assert gone.status_code == 303
            assert gone.headers["location"] == "/console/sign-in"
