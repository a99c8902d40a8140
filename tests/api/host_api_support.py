"""Shared by the host API tests: API keys for the demo host and for a second host."""

from __future__ import annotations

from typing import Any

import pytest

from app.hosts.service import create_api_key, create_host
from support import with_session

ATTENDEE = {"name": "Alex Johnson", "email": "alex@example.com", "timeZone": "America/New_York"}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "cal-api-version": "2024-08-13"}


@pytest.fixture
def demo_headers(settings: Any) -> dict[str, str]:
    return auth(with_session(settings.database_url, lambda s: create_api_key(s, "demo")))


@pytest.fixture
def other_headers(settings: Any) -> dict[str, str]:
    """A key of a second host, who must never see the demo host's objects."""

    async def work(session: Any) -> str:
        await create_host(
            session, "other", name="Olga Other", email="olga@example.com", timezone="UTC"
        )
        return await create_api_key(session, "other")

    return auth(with_session(settings.database_url, work))
