"""The optional ALTCHA CAPTCHA: off by default; when a host switches it on, every booking needs a
fresh proof-of-work solution, and each solution books once."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import altcha
import pytest
from sqlalchemy import func, select, update

from app import clock
from app.bookings.captcha import new_challenge
from app.db.models import Host, UsedNonce
from support import booking_body, demo_slot, make_settings, next_weekday, with_session

BASE = "/api/public/scheduling"
BOOK = f"{BASE}/demo/30min/book"


def set_captcha(settings, enabled: bool) -> None:
    async def work(session):
        await session.execute(update(Host).values(captcha_enabled=enabled))
        await session.commit()

    with_session(settings.database_url, work)


def count_nonces(settings) -> int:
    async def work(session):
        return await session.scalar(select(func.count()).select_from(UsedNonce))

    return with_session(settings.database_url, work)


def solve(challenge: dict) -> str:
    """What the browser widget does: find the counter, send challenge and solution in base64."""
    parsed = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(parsed, timeout=60)
    assert solution is not None
    return altcha.Payload(parsed, solution).to_base64()


@pytest.fixture
def captcha_on(settings):
    set_captcha(settings, True)
    return settings


def test_without_captcha_a_token_is_neither_needed_nor_checked(client):
    start, end = demo_slot()
    assert client.post(BOOK, json=booking_body(start, end)).status_code == 201
    start, end = demo_slot(hour=11)
    body = booking_body(start, end, captchaToken="not-checked")
    assert client.post(BOOK, json=body).status_code == 201


def test_the_challenge_is_fresh_signed_and_not_cached(client):
    first = client.get(f"{BASE}/demo/captcha-challenge")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    challenge = first.json()
    assert challenge["signature"]
    assert challenge["parameters"]["algorithm"] == "PBKDF2/SHA-256"
    assert challenge["parameters"]["data"] == {"host": "demo"}
    assert challenge["parameters"]["expiresAt"] > clock.utcnow().timestamp()
    second = client.get(f"{BASE}/demo/captcha-challenge").json()
    assert second["parameters"]["nonce"] != challenge["parameters"]["nonce"]
    assert client.get(f"{BASE}/nobody/captcha-challenge").status_code == 404


def test_a_solved_token_books_once(client, captcha_on):
    start, end = demo_slot()
    missing = client.post(BOOK, json=booking_body(start, end))
    assert missing.status_code == 400
    assert missing.json()["error"].startswith("captchaToken is required")

    token = solve(client.get(f"{BASE}/demo/captcha-challenge").json())
    booked = client.post(BOOK, json=booking_body(start, end, captchaToken=token))
    assert booked.status_code == 201, booked.text
    assert count_nonces(captcha_on) == 1

    start, end = demo_slot(hour=11)
    reused = client.post(BOOK, json=booking_body(start, end, captchaToken=token))
    assert reused.status_code == 400
    assert reused.json()["error"].startswith("captchaToken was already used")


def test_a_failed_booking_does_not_spend_the_token(client, captcha_on):
    start, end = demo_slot()
    first = solve(client.get(f"{BASE}/demo/captcha-challenge").json())
    assert client.post(BOOK, json=booking_body(start, end, captchaToken=first)).status_code == 201
    token = solve(client.get(f"{BASE}/demo/captcha-challenge").json())
    taken = client.post(BOOK, json=booking_body(start, end, captchaToken=token))
    assert taken.json() == {"error": "The selected time slot is no longer available."}
    other = demo_slot(next_weekday(4), hour=12)
    assert client.post(BOOK, json=booking_body(*other, captchaToken=token)).status_code == 201


@pytest.mark.parametrize(
    "token",
    ["", "   ", "%%%not base64%%%", base64.b64encode(b"[1, 2]").decode(), "A" * 5000, 42],
)
def test_garbage_tokens_are_refused_with_a_clear_message(client, captcha_on, token):
    start, end = demo_slot()
    response = client.post(BOOK, json=booking_body(start, end, captchaToken=token))
    assert response.status_code == 400
    assert "captchaToken" in response.json()["error"]


def tamper(token: str, **changes) -> str:
    payload = json.loads(base64.b64decode(token))
    payload["challenge"]["parameters"].update(changes)
    return base64.b64encode(json.dumps(payload).encode()).decode()


def test_forged_expired_and_foreign_tokens_are_refused(client, captcha_on, tmp_path):
    start, end = demo_slot()
    host = Host(slug="demo")
    stranger = make_settings(tmp_path, secret_keys=("some-other-secret-key-0123",))
    past = clock.utcnow() - timedelta(hours=1)
    tokens = {
        "expired": solve(new_challenge(host, captcha_on, now=past)),
        "signed by another server": solve(new_challenge(host, stranger)),
        "for another host": solve(new_challenge(Host(slug="other"), captcha_on)),
        "easier than issued": tamper(
            solve(client.get(f"{BASE}/demo/captcha-challenge").json()), cost=1
        ),
    }
    for what, token in tokens.items():
        response = client.post(BOOK, json=booking_body(start, end, captchaToken=token))
        assert response.status_code == 400, what
        assert response.json()["error"].startswith("captchaToken is invalid or expired"), what
    assert count_nonces(captcha_on) == 0


def test_tokens_signed_before_a_key_rotation_still_verify(client, captcha_on, tmp_path):
    old = make_settings(tmp_path, secret_keys=("the-previous-secret-key-012",))
    rotated = make_settings(
        tmp_path, secret_keys=("a-brand-new-secret-key-0123", "the-previous-secret-key-012")
    )
    from litestar.testing import TestClient

    from app.main import create_app

    token = solve(new_challenge(Host(slug="demo"), old))
    with TestClient(app=create_app(rotated)) as rotated_client:
        start, end = demo_slot()
        response = rotated_client.post(BOOK, json=booking_body(start, end, captchaToken=token))
        assert response.status_code == 201, response.text
