"""Protect the booking form without cookies: it must work inside a third-party iframe.

Browsers block third-party cookies, so the usual CSRF cookie is out. Instead a POST must carry a
signed, expiring form token bound to the event type (so a token cannot be minted once and replayed
against anything for ever), and must not come from another site: the ``Origin`` header, when the
browser sends one, has to be our own public origin, and ``Sec-Fetch-Site: cross-site`` is refused.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from litestar import Request
from litestar.exceptions import PermissionDeniedException

from app.i18n import _
from app.settings import Settings

SALT = "booking-form"
MAX_AGE_SECONDS = 2 * 60 * 60


def expired_form() -> str:
    return _("This form has expired. Please check your details and send it again.")


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    # SECRET_KEYS lists the newest key first; itsdangerous signs with the last of its list.
    return URLSafeTimedSerializer(list(reversed(settings.secret_keys)), salt=SALT)


def form_token(settings: Settings, event_type_id: int) -> str:
    return str(_serializer(settings).dumps({"e": event_type_id}))


def form_token_valid(settings: Settings, token: str, event_type_id: int) -> bool:
    try:
        payload = _serializer(settings).loads(token, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return False
    return isinstance(payload, dict) and payload.get("e") == event_type_id


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_same_origin(
    request: Request[Any, Any, Any], settings: Settings, message: str | None = None
) -> None:
    """Refuse a form POST another site made the browser send (``message`` says which form)."""
    cross_site = request.headers.get("sec-fetch-site", "").lower() == "cross-site"
    origin = request.headers.get("origin")
    if cross_site or (origin is not None and origin.lower() != origin_of(settings.public_url)):
        raise PermissionDeniedException(
            message or _("Bookings can only be made from the booking page.")
        )
