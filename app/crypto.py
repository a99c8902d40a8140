"""Secrets we must keep, encrypted at rest: webhook secrets, calendar passwords, feed URLs.

``seal`` encrypts with a Fernet key (AES-128-CBC + HMAC-SHA256, from the ``cryptography``
package) derived by HKDF-SHA256 from the first of ``SECRET_KEYS``; ``unseal`` tries every key, so
a rotated key keeps opening what the old one sealed until the values are sealed again. The derived
keys are bound to this purpose (``_INFO``): the same ``SECRET_KEYS`` also sign links
(itsdangerous), and neither use can stand in for the other.

A database dump alone then reveals none of these secrets; a dump with ``SECRET_KEYS`` does.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"booking-widget: secrets at rest, v1"


@lru_cache(maxsize=16)
def _fernet(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(keys: tuple[str, ...], plaintext: str) -> str:
    """``plaintext`` encrypted with the first key, as URL-safe text (a Fernet token)."""
    if not keys:
        raise ValueError("no SECRET_KEYS to seal with")
    return _fernet(keys[0]).encrypt(plaintext.encode()).decode("ascii")


def unseal(keys: tuple[str, ...], sealed: str) -> str:
    """The plaintext of ``seal(keys', …)`` for any ``keys'`` sharing a key with ``keys``.

    Raises ``ValueError`` when no key opens it (a lost or removed key, or a tampered value).
    """
    if not keys:
        raise ValueError("no SECRET_KEYS to unseal with")
    try:
        return MultiFernet([_fernet(k) for k in keys]).decrypt(sealed.encode()).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise ValueError("none of SECRET_KEYS opens this sealed value") from exc
