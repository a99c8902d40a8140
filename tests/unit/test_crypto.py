"""Secrets at rest: sealed with the first of SECRET_KEYS, opened with any of them."""

from __future__ import annotations

import pytest

from app.crypto import seal, unseal

OLD, NEW = "old-key-000000000000", "new-key-111111111111"


def test_a_sealed_secret_opens_and_does_not_show() -> None:
    sealed = seal((OLD,), "whsec-the-secret")
    assert "whsec" not in sealed and sealed != seal((OLD,), "whsec-the-secret")  # random IV
    assert unseal((OLD,), sealed) == "whsec-the-secret"


def test_rotation_seals_with_the_first_key_and_opens_with_any() -> None:
    old = seal((OLD,), "s1")
    new = seal((NEW, OLD), "s2")
    assert unseal((NEW, OLD), old) == "s1"
    assert unseal((NEW,), new) == "s2"
    with pytest.raises(ValueError):
        unseal((OLD,), new)


def test_a_lost_key_or_a_tampered_value_is_a_value_error() -> None:
    sealed = seal((OLD,), "secret")
    for keys, value in (((NEW,), sealed), ((OLD,), sealed[:-4] + "AAAA"), ((OLD,), "plain")):
        with pytest.raises(ValueError):
            unseal(keys, value)
    with pytest.raises(ValueError):
        seal((), "secret")


def test_the_key_is_not_the_link_signing_key_itself() -> None:
    """Derived for this purpose: a Fernet key made straight from SECRET_KEYS does not open it."""
    import base64
    import hashlib

    from cryptography.fernet import Fernet, InvalidToken

    naive = Fernet(base64.urlsafe_b64encode(hashlib.sha256(OLD.encode()).digest()))
    with pytest.raises(InvalidToken):
        naive.decrypt(seal((OLD,), "secret").encode())
