"""Signing in to the console: a one-time emailed link, first-party sessions that can be ended.

The link is the only credential: it works once, for 15 minutes, only for an active host, and the
sign-in request answers the same whether the address has an account or not.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from console_support import link_for, path_of, post_form, signed_in
from litestar.testing import TestClient
from sqlalchemy import select, update

from app import clock
from app.cli import main as cli
from app.db.models import Host, OutboxMessage
from app.hosts.service import create_api_key
from app.main import create_app
from app.settings import Settings
from support import live_server, make_settings, prepare_database, with_session

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def sign_in_emails(settings: Settings) -> list[dict[str, Any]]:
    async def work(session: Any) -> list[dict[str, Any]]:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "email").order_by(OutboxMessage.id)
        )
        return [row.payload for row in rows if "/console/sign-in/" in row.payload["text"]]

    return list(with_session(settings.database_url, work))


def emailed_link(payload: dict[str, Any]) -> str:
    found = re.search(r"https?://\S+/console/sign-in/\S+", payload["text"])
    assert found, payload["text"]
    return found.group(0)


def set_host(settings: Settings, **values: Any) -> None:
    async def work(session: Any) -> None:
        await session.execute(update(Host).where(Host.slug == "demo").values(**values))
        await session.commit()

    with_session(settings.database_url, work)


def is_signed_in(client: TestClient[Any]) -> bool:
    """The console's home checks the session against the database on every visit."""
    return (
        client.get("/console/", follow_redirects=False).headers["location"] == "/console/bookings"
    )


def test_the_console_sends_a_signed_out_visitor_to_sign_in(client: TestClient[Any]) -> None:
    answer = client.get("/console/", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/sign-in")
    page = client.get("/console/sign-in")
    assert page.status_code == 200
    assert 'name="email"' in page.text and 'name="_csrf_token"' in page.text
    # Visiting the sign-in page leaves no session behind, only the CSRF cookie.
    assert "console_session" not in page.headers.get("set-cookie", "")


def test_asking_for_a_link_answers_the_same_for_known_and_unknown_addresses(
    client: TestClient[Any], settings: Settings
) -> None:
    known = post_form(client, "/console/sign-in", {"email": "Demo@Example.com"})
    unknown = post_form(client, "/console/sign-in", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda text: text.replace("Demo@Example.com", "X").replace("nobody@example.com", "X")  # noqa: E731
    assert strip(known.text) == strip(unknown.text)
    emails = sign_in_emails(settings)
    assert [email["to"] for email in emails] == ["demo@example.com"]
    assert "15 minutes" in emails[0]["text"]


def test_a_malformed_address_is_refused_with_a_clear_message(client: TestClient[Any]) -> None:
    answer = post_form(client, "/console/sign-in", {"email": "not an address"})
    assert answer.status_code == 400
    assert "Enter your email address" in answer.text


def test_one_address_gets_at_most_three_links_in_fifteen_minutes(
    client: TestClient[Any], settings: Settings
) -> None:
    for _ in range(5):
        assert (
            post_form(client, "/console/sign-in", {"email": "demo@example.com"}).status_code == 200
        )
    assert len(sign_in_emails(settings)) == 3


def test_the_emailed_link_signs_in_once(client: TestClient[Any], settings: Settings) -> None:
    post_form(client, "/console/sign-in", {"email": "demo@example.com"})
    path = path_of(emailed_link(sign_in_emails(settings)[0]))
    # Opening the link (as a mail scanner would) does not use it.
    for _ in range(2):
        confirm = client.get(path)
        assert confirm.status_code == 200 and "Sign in as Dana Demo?" in confirm.text
    answer = post_form(client, path, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/bookings")
    cookie = answer.headers["set-cookie"]
    assert "console_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # http://testserver; see the https test below
    again = post_form(TestClient(app=client.app), path)
    assert again.status_code == 400 and "already used" in again.text
    assert client.get(path).status_code == 400


def test_a_link_expires_after_fifteen_minutes(client: TestClient[Any], settings: Settings) -> None:
    path = path_of(link_for(settings))
    clock.set_offset(timedelta(minutes=16))
    answer = post_form(client, path)
    assert answer.status_code == 400 and "expired" in answer.text


@pytest.mark.parametrize("mangle", [lambda t: t[:-2], lambda t: t + "x", lambda t: "abc.def"])
def test_a_tampered_link_is_refused(
    client: TestClient[Any], settings: Settings, mangle: Any
) -> None:
    path = path_of(link_for(settings))
    token = path.rsplit("/", 1)[1]
    answer = post_form(client, f"/console/sign-in/{mangle(token)}")
    assert answer.status_code == 400 and "not valid" in answer.text


def test_posting_without_the_csrf_token_is_refused(
    client: TestClient[Any], settings: Settings
) -> None:
    path = path_of(link_for(settings))
    client.get(path)
    assert client.post(path, data={}).status_code == 403
    assert post_form(client, path, follow_redirects=False).status_code == 303


def test_signing_in_gives_a_new_session_id(client: TestClient[Any], settings: Settings) -> None:
    client.cookies.set(
        "console_session", "planted-by-someone-else", domain="testserver.local", path="/console"
    )
    signed_in(client, settings)
    assert client.cookies.get("console_session") not in (None, "planted-by-someone-else")
    assert is_signed_in(client)


def test_sign_out_ends_the_session(client: TestClient[Any], settings: Settings) -> None:
    signed_in(client, settings)
    assert is_signed_in(client)
    answer = post_form(client, "/console/sign-out", follow_redirects=False)
    assert answer.headers["location"].startswith("/console/sign-in")
    assert not is_signed_in(client)


def test_sign_out_everywhere_ends_every_session_and_unused_link(settings: Settings) -> None:
    app = create_app(settings)
    unused = path_of(link_for(settings))
    with TestClient(app=app) as laptop, TestClient(app=app) as phone:
        signed_in(laptop, settings)
        signed_in(phone, settings)
        answer = post_form(laptop, "/console/sign-out-everywhere", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/sign-in?signed_out=everywhere"
        # The phone's cookie lingers; the session behind it no longer signs anyone in.
        assert not is_signed_in(laptop) and not is_signed_in(phone)
        assert post_form(phone, unused).status_code == 400


def test_a_session_ends_after_its_absolute_lifetime(
    client: TestClient[Any], settings: Settings
) -> None:
    signed_in(client, settings)
    clock.set_offset(timedelta(days=13))
    assert is_signed_in(client)
    clock.set_offset(timedelta(days=15))
    assert not is_signed_in(client)


def test_cookies_are_secure_under_https(tmp_path: Any) -> None:
    settings = make_settings(tmp_path, public_url="https://booking.example.com")
    prepare_database(settings.database_url)
    with TestClient(app=create_app(settings), base_url="https://booking.example.com") as client:
        page = client.get("/console/sign-in")
        assert "Secure" in page.headers["set-cookie"]
        answer = post_form(client, path_of(link_for(settings)), follow_redirects=False)
        assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


def test_a_disabled_host_cannot_sign_in_and_loses_everything_public(
    client: TestClient[Any], settings: Settings
) -> None:
    key = with_session(settings.database_url, lambda s: create_api_key(s, "demo"))
    path = path_of(link_for(settings))
    set_host(settings, disabled=True)
    assert post_form(client, path).status_code == 400
    post_form(client, "/console/sign-in", {"email": "demo@example.com"})
    assert sign_in_emails(settings) == []
    assert client.get("/demo/30min").status_code == 404
    assert client.get("/v2/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_disabling_a_host_ends_its_sessions(client: TestClient[Any], settings: Settings) -> None:
    signed_in(client, settings)
    assert is_signed_in(client)
    set_host(settings, disabled=True)
    assert not is_signed_in(client)


def test_login_link_prints_a_working_link_as_its_last_line(
    client: TestClient[Any], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEYS", ",".join(settings.secret_keys))
    monkeypatch.setenv("PUBLIC_URL", settings.public_url)
    monkeypatch.setenv("VAR_DIR", str(settings.var_dir))
    result = CliRunner().invoke(cli, ["login-link", "demo"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("http://testserver/console/sign-in/")
    assert post_form(client, path_of(link), follow_redirects=False).status_code == 303
    assert CliRunner().invoke(cli, ["login-link", "nobody"]).exit_code == 1


def test_the_first_host_is_the_admin(settings: Settings) -> None:
    async def work(session: Any) -> list[tuple[str, bool]]:
        from app.hosts.service import create_host

        await create_host(session, "second", name="B", email="b@example.com", timezone="UTC")
        await create_host(
            session, "third", name="C", email="c@example.com", timezone="UTC", admin=True
        )
        rows = await session.execute(select(Host.slug, Host.is_admin).order_by(Host.id))
        return [tuple(row) for row in rows]

    assert with_session(settings.database_url, work) == [
        ("demo", True),
        ("second", False),
        ("third", True),
    ]


@pytest.mark.xdist_group("servers")
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_one_link_signs_in_once_however_many_requests_carry_it(
    database: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    if database == "sqlite":
        settings = make_settings(tmp_path)
        prepare_database(settings.database_url)
    else:
        settings = make_settings(tmp_path, database_url=request.getfixturevalue("pg_url"))
    path = path_of(link_for(settings))

    async def racer(url: str) -> int:
        async with httpx.AsyncClient(base_url=url, timeout=30) as browser:
            await browser.get(path)
            token = browser.cookies["console_csrf"]
            answer = await browser.post(path, data={"_csrf_token": token})
            return answer.status_code

    async def race(urls: list[str]) -> list[int]:
        return await asyncio.gather(*(racer(urls[i % len(urls)]) for i in range(20)))

    workers = 3 if database == "sqlite" else 1
    with live_server(settings, workers=workers) as url:
        if database == "sqlite":
            codes = asyncio.run(race([url]))
        else:
            with live_server(settings) as second, live_server(settings) as third:
                codes = asyncio.run(race([url, second, third]))
    assert sorted(codes) == [303] + [400] * 19
