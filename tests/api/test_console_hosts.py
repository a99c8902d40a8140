"""Console hosts page (administrators only): the list, inviting a host (a sign-in link emailed
through the outbox, which works), and disabling a host, which ends everything they could do."""

from __future__ import annotations

import re
from typing import Any

import pytest
from console_support import link_for, path_of, post_form, signed_in
from litestar.testing import TestClient
from sqlalchemy import select

from app.db.models import Host, OutboxMessage
from app.hosts.service import create_api_key, create_host
from app.main import create_app
from app.settings import Settings
from support import with_session

INVITE = {"slug": "grace", "name": "Grace Hopper", "email": "grace@example.com", "timezone": "UTC"}


@pytest.fixture
def app(settings: Settings) -> Any:
    return create_app(settings)


@pytest.fixture
def admin(app: Any, settings: Settings) -> Any:
    with TestClient(app=app) as client:
        yield signed_in(client, settings)  # demo is the first host: the admin


def hosts(settings: Settings) -> dict[str, Host]:
    async def work(session: Any) -> dict[str, Host]:
        return {h.slug: h for h in await session.scalars(select(Host))}

    return dict(with_session(settings.database_url, work))


def emails(settings: Settings) -> list[OutboxMessage]:
    async def work(session: Any) -> list[OutboxMessage]:
        query = select(OutboxMessage).where(OutboxMessage.kind == "email")
        return list(await session.scalars(query.order_by(OutboxMessage.id)))

    return list(with_session(settings.database_url, work))


def add_host(settings: Settings, slug: str = "ada") -> Host:
    async def work(session: Any) -> Host:
        return await create_host(
            session, slug, name=slug.title(), email=f"{slug}@example.com", timezone="UTC"
        )

    return with_session(settings.database_url, work)  # type: ignore[no-any-return]


def test_signed_out_goes_to_sign_in(client: TestClient[Any]) -> None:
    answer = client.get("/console/hosts", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"


def test_a_host_who_is_not_admin_gets_403(app: Any, settings: Settings) -> None:
    other = add_host(settings)
    with TestClient(app=app) as client:
        signed_in(client, settings, "ada")
        page = client.get("/console/hosts")
        assert page.status_code == 403
        assert "Only an administrator can do this." in page.text
        assert 'href="/console/hosts"' not in page.text  # not in the navigation either
        for path in ("/console/hosts/invite", f"/console/hosts/{other.id}/disable"):
            assert post_form(client, path, INVITE).status_code == 403
        assert client.get(f"/console/hosts/{other.id}/disable").status_code == 403
    assert "grace" not in hosts(settings)


def test_the_list_shows_every_host(admin: TestClient[Any], settings: Settings) -> None:
    add_host(settings)
    page = admin.get("/console/hosts")
    assert page.status_code == 200
    for text in ("demo", "demo@example.com", "ada@example.com", "Administrator", "Active"):
        assert text in page.text
    assert 'href="/console/hosts" aria-current="page"' in page.text


def test_an_invited_host_gets_a_working_sign_in_link(
    app: Any, admin: TestClient[Any], settings: Settings
) -> None:
    answer = post_form(admin, "/console/hosts/invite", INVITE, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    grace = hosts(settings)["grace"]
    assert (grace.name, grace.email, grace.timezone) == ("Grace Hopper", "grace@example.com", "UTC")
    assert not grace.is_admin and not grace.disabled
    [mail] = [m for m in emails(settings) if m.payload["to"] == "grace@example.com"]
    assert "invited" in mail.payload["subject"]
    link = re.search(r"http://testserver/console/sign-in/\S+", mail.payload["text"])
    assert link
    # Grace opens the emailed link in her own browser and is signed in as herself.
    with TestClient(app=app) as browser:
        path = path_of(link.group(0))
        assert browser.get(path).status_code == 200
        done = post_form(browser, path, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/console/bookings"
        settings_page = browser.get("/console/settings")
        assert settings_page.status_code == 200 and 'value="Grace Hopper"' in settings_page.text
        assert browser.get("/console/hosts").status_code == 403
    # Her booking page exists.
    assert admin.get("/grace").status_code == 200


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"slug": "Not A Slug!"}, "slug", "lowercase"),
        ({"slug": "console"}, "slug", "reserved"),
        ({"slug": "demo"}, "slug", "already exists"),
        ({"email": "not-an-email"}, "email", "email"),
        ({"email": "Demo@Example.com"}, "email", "already exists"),
        ({"timezone": "Mars/Base"}, "timezone", "time zone"),
        ({"name": "n" * 5000}, "name", "too long"),
    ],
)
def test_a_bad_invitation_is_named_and_nothing_is_made(
    admin: TestClient[Any], settings: Settings, changes: dict[str, str], field: str, words: str
) -> None:
    answer = post_form(admin, "/console/hosts/invite", {**INVITE, **changes})
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.text and words in answer.text
    assert set(hosts(settings)) == {"demo"}
    assert emails(settings) == []


def test_a_disabled_host_loses_everything_until_enabled(
    app: Any, admin: TestClient[Any], settings: Settings
) -> None:
    ada = add_host(settings)
    key = with_session(settings.database_url, lambda s: create_api_key(s, "ada", "ada's key"))
    bearer = {"Authorization": f"Bearer {key}"}
    unused_link = path_of(link_for(settings, "ada"))
    with TestClient(app=app) as ada_browser:
        signed_in(ada_browser, settings, "ada")
        assert ada_browser.get("/console/settings").status_code == 200
        assert admin.get("/v2/me", headers=bearer).status_code == 200
        assert admin.get("/ada").status_code == 200

        confirm = admin.get(f"/console/hosts/{ada.id}/disable")
        assert confirm.status_code == 200 and "Disable Ada?" in confirm.text
        answer = post_form(admin, f"/console/hosts/{ada.id}/disable", follow_redirects=False)
        assert answer.status_code == 303
        assert hosts(settings)["ada"].disabled
        assert "Disabled" in admin.get("/console/hosts").text

        # Her session is over, her links and key stop working, her booking page is gone.
        gone = ada_browser.get("/console/settings", follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"] == "/console/sign-in"
        assert ada_browser.get(unused_link).status_code == 400
        assert post_form(ada_browser, unused_link, follow_redirects=False).status_code == 400
        fresh = path_of(link_for(settings, "ada"))
        assert post_form(ada_browser, fresh, follow_redirects=False).status_code == 400
        post_form(ada_browser, "/console/sign-in", {"email": "ada@example.com"})
        assert [m for m in emails(settings) if m.payload["to"] == "ada@example.com"] == []
        assert admin.get("/v2/me", headers=bearer).status_code == 401
        assert admin.get("/ada").status_code == 404
        assert admin.get("/ada/30min").status_code == 404

        # Enabled again: the key and the page work again, and she can sign in.
        post_form(admin, f"/console/hosts/{ada.id}/enable")
        assert not hosts(settings)["ada"].disabled
        assert admin.get("/v2/me", headers=bearer).status_code == 200
        assert admin.get("/ada").status_code == 200
        signed_in(ada_browser, settings, "ada")
        assert ada_browser.get("/console/settings").status_code == 200


def test_an_admin_cannot_disable_themselves(admin: TestClient[Any], settings: Settings) -> None:
    me = hosts(settings)["demo"]
    answer = post_form(admin, f"/console/hosts/{me.id}/disable")
    assert answer.status_code == 400
    assert "You cannot disable your own account." in answer.text
    assert not hosts(settings)["demo"].disabled
    assert admin.get("/console/settings").status_code == 200


def test_an_unknown_host_is_not_found(admin: TestClient[Any]) -> None:
    assert admin.get("/console/hosts/999999/disable").status_code == 404
    assert post_form(admin, "/console/hosts/999999/disable").status_code == 404
