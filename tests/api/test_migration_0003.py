"""Migration 0003 seals webhook secrets stored in plaintext before it, with SECRET_KEYS."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.crypto import unseal
from app.db.migrate import downgrade, upgrade
from support import SECRET, with_session


def plaintext_webhook(url: str) -> None:
    async def work(session):
        await session.execute(
            text(
                "INSERT INTO hosts (slug, name, email, timezone, locale, embed_origins,"
                " captcha_enabled, brand_color, welcome_text, avatar_url, created_at)"
                " VALUES ('h', 'H', 'h@example.com', 'UTC', 'en', '[]', false, '', '', '',"
                " CURRENT_TIMESTAMP)"
            )
        )
        await session.execute(
            text(
                "INSERT INTO webhooks (host_id, subscriber_url, triggers, secret, active,"
                " created_at, updated_at) SELECT id, 'https://example.com/h', '[]',"
                " 'whsec-plain-0123456789', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
                " FROM hosts"
            )
        )
        await session.commit()

    with_session(url, work)


def stored(url: str) -> tuple[str, str]:
    async def work(session):
        return (await session.execute(text("SELECT secret, secret_hint FROM webhooks"))).one()

    return tuple(with_session(url, work))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_plaintext_secrets_are_sealed_and_opened_again_on_downgrade(request, tmp_path, backend):
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_empty_url")
    )
    upgrade(url, "0002")
    plaintext_webhook(url)
    with pytest.raises(RuntimeError, match="SECRET_KEYS"):
        upgrade(url, "0003")  # no keys: refuses rather than keep or lose the secrets
    upgrade(url, "0003", secret_keys=(SECRET,))
    sealed, hint = stored(url)
    assert "whsec" not in sealed and hint == "6789"
    assert unseal((SECRET,), sealed) == "whsec-plain-0123456789"
    downgrade(url, "0002", secret_keys=(SECRET,))

    async def plain(session):
        return (await session.execute(text("SELECT secret FROM webhooks"))).scalar_one()

    assert with_session(url, plain) == "whsec-plain-0123456789"
