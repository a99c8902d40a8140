"""Signing in to the console from tests: in-process (TestClient) and in a browser (Playwright).

``signed_in(client, settings)`` goes through the real door: a sign-in link made as the emailed one
is, its confirmation page (which sets the CSRF cookie), and the POST that starts the session.
``post_form`` sends a console form the way a browser does, with the CSRF token the page carried.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from app.db.models import Host
from app.hosts.access import sign_in_link
from app.hosts.service import host_by_slug
from app.settings import Settings
from support import in_thread, with_session

CSRF_COOKIE = "console_csrf"


def link_for(settings: Settings, slug: str = "demo") -> str:
    async def work(session: Any) -> str:
        host: Host = await host_by_slug(session, slug)
        return sign_in_link(settings, host)

    return str(with_session(settings.database_url, work))


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def csrf_token(client: TestClient[Any]) -> str:
    token = client.cookies.get(CSRF_COOKIE)
    if not token:
        client.get("/console/sign-in")
        token = client.cookies.get(CSRF_COOKIE)
    assert token, "the console did not set its CSRF cookie"
    return str(token)


def post_form(
    client: TestClient[Any], url: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> Any:
    fields = {"_csrf_token": csrf_token(client), **(data or {})}
    return client.post(url, data=fields, **kwargs)


def signed_in(client: TestClient[Any], settings: Settings, slug: str = "demo") -> TestClient[Any]:
    path = path_of(link_for(settings, slug))
    assert client.get(path).status_code == 200
    answer = post_form(client, path, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def link_from_thread(settings: Settings, slug: str = "demo") -> str:
    """``link_for`` from a test holding sync Playwright."""
    return str(in_thread(link_for, settings, slug))


def browser_sign_in(page: Any, base_url: str, settings: Settings, slug: str = "demo") -> None:
    """Sign a Playwright page in to the console of ``slug`` through the emailed-link door."""
    link = link_from_thread(settings, slug)
    page.goto(base_url + path_of(link))
    page.get_by_role("button", name=re.compile("Sign in|Anmelden")).click()
    page.wait_for_url(re.compile(r"/console/"))
