"""Link tokens: purpose-bound, version-bound, expiring on the clock, rotating keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import clock
from app.bookings.tokens import (
    ExpiredToken,
    InvalidToken,
    SpentToken,
    check_current,
    link_url,
    make_token,
    read_token,
)
from app.db.models import Booking
from support import make_settings


def booking(start: datetime | None = None, version: int = 1) -> Booking:
    start = start or datetime.now(UTC) + timedelta(days=2)
    return Booking(uid="bkg_abc", version=version, start=start, end=start + timedelta(minutes=30))


def test_round_trip_carries_uid_version_and_expiry(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    b = booking(version=3)
    claims = read_token(settings, "cancel", make_token(settings, "cancel", b))
    assert (claims.uid, claims.version, claims.purpose) == ("bkg_abc", 3, "cancel")
    assert claims.expires_at == b.start.replace(microsecond=0)


def test_token_of_one_purpose_is_refused_for_another(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    token = make_token(settings, "cancel", booking())
    with pytest.raises(InvalidToken) as info:
        read_token(settings, "confirm", token)
    assert type(info.value) is InvalidToken and info.value.status_code == 404


def test_tampered_token_is_invalid(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    token = make_token(settings, "cancel", booking())
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in (flipped, token[:-5], "garbage", ""):
        with pytest.raises(InvalidToken) as info:
            read_token(settings, "cancel", bad)
        assert info.value.reason == "invalid"


def test_token_expires_when_the_meeting_starts(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    start = datetime.now(UTC) + timedelta(hours=1)
    token = make_token(settings, "reschedule", booking(start))
    read_token(settings, "reschedule", token)
    clock.set_offset(timedelta(hours=1, seconds=1))
    with pytest.raises(ExpiredToken) as info:
        read_token(settings, "reschedule", token)
    assert info.value.status_code == 410


def test_key_rotation_signs_with_first_and_accepts_the_others(tmp_path: Path) -> None:
    old = make_settings(tmp_path, secret_keys=("old-key-000000000000",))
    rotated = make_settings(tmp_path, secret_keys=("new-key-111111111111", "old-key-000000000000"))
    new_only = make_settings(tmp_path, secret_keys=("new-key-111111111111",))
    old_token = make_token(old, "cancel", booking())
    assert read_token(rotated, "cancel", old_token).uid == "bkg_abc"
    new_token = make_token(rotated, "cancel", booking())
    assert read_token(new_only, "cancel", new_token).uid == "bkg_abc"
    with pytest.raises(InvalidToken):
        read_token(new_only, "cancel", old_token)


def test_changed_booking_spends_the_token(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    b = booking(version=1)
    claims = read_token(settings, "cancel", make_token(settings, "cancel", b))
    check_current(claims, b, "ok")
    b.version = 2
    with pytest.raises(SpentToken) as info:
        check_current(claims, b, "This booking has already been cancelled.")
    assert info.value.status_code == 409 and info.value.message.startswith("This booking")


def test_link_url(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert link_url(settings, "cancel", "tok") == "http://testserver/booking/tok/cancel"
