"""The ``booking`` command as an operator uses it, and what its changes do to the served pages."""

from __future__ import annotations

from click.testing import CliRunner
from litestar.testing import TestClient

from app.cli import main
from app.main import create_app
from support import demo_slot


def booking(settings, *args):
    env = {
        "VAR_DIR": str(settings.var_dir),
        "DATABASE_URL": settings.database_url,
        "SECRET_KEYS": ",".join(settings.secret_keys),
    }
    return CliRunner().invoke(main, list(args), env=env)


def test_create_host_then_key_prints_the_key_last(settings):
    created = booking(
        settings,
        "create-host",
        "ana",
        "--name",
        "Ana",
        "--email",
        "ana@example.com",
        "--timezone",
        "Asia/Kolkata",
    )
    assert created.exit_code == 0, created.output
    keyed = booking(settings, "create-api-key", "ana")
    assert keyed.exit_code == 0
    key = keyed.output.strip().splitlines()[-1]
    with TestClient(app=create_app(settings)) as client:
        me = client.get("/v2/me", headers={"Authorization": f"Bearer {key}"}).json()["data"]
    assert me["timeZone"] == "Asia/Kolkata"


def test_bad_host_input_is_refused_with_a_message(settings):
    result = booking(
        settings,
        "create-host",
        "x",
        "--name",
        "X",
        "--email",
        "x@example.com",
        "--timezone",
        "Mars/Olympus",
    )
    assert result.exit_code == 1
    assert "time zone" in result.output


def test_update_host_limits_framing_and_switches_the_captcha_on(settings):
    result = booking(
        settings,
        "update-host",
        "demo",
        "--embed-origins",
        "https://shop.example.com",
        "--captcha",
        "--color",
        "#0f766e",
    )
    assert result.exit_code == 0, result.output
    assert "framable by https://shop.example.com; captcha on" in result.output
    start, _ = demo_slot()
    with TestClient(app=create_app(settings)) as client:
        page = client.get("/demo/30min?tz=UTC")
        form = client.get("/demo/30min/form", params={"start": start, "tz": "UTC"})
    assert (
        "frame-ancestors 'self' https://shop.example.com" in page.headers["content-security-policy"]
    )
    assert form.status_code == 200
    assert "altcha-widget" in form.text


def test_update_host_refuses_what_is_not_an_origin(settings):
    result = booking(settings, "update-host", "demo", "--embed-origins", "javascript:alert(1)")
    assert result.exit_code == 1
    assert "not an origin" in result.output
