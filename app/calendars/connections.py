"""Opening a provider for a stored connection: unseal its secrets, give it a checked HTTP client.

Secrets stay sealed in the database (``app.crypto``); they are opened here, in memory, for the
length of one sync or one write, and never logged or returned by an API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.calendars.caldav_provider import CalDAVProvider
from app.calendars.ics_feed import IcsFeedProvider
from app.calendars.providers import AuthFailed, Provider
from app.crypto import seal, unseal
from app.db.models import CalendarConnection, ConnectedCalendar
from app.net import outbound_client
from app.settings import Settings

APPLE_URL = "https://caldav.icloud.com/"


def sealed(settings: Settings, secret: str) -> str:
    return seal(settings.secret_keys, secret)


def opened(settings: Settings, value: str) -> str:
    """The plaintext of a sealed column, or ``AuthFailed`` when no key opens it any more."""
    try:
        return unseal(settings.secret_keys, value)
    except ValueError:
        raise AuthFailed(
            "the stored password or address cannot be decrypted (SECRET_KEYS changed?): "
            "connect the calendar again"
        ) from None


def open_provider(
    settings: Settings,
    connection: CalendarConnection,
    calendars: Sequence[ConnectedCalendar],
    *,
    request_timeout: float,
    limits: object | None = None,
) -> Provider:
    http = outbound_client(allow_private=settings.allow_private_urls, timeout=request_timeout)
    if connection.kind == "caldav":
        return CalDAVProvider(
            opened(settings, connection.url_sealed),
            connection.username,
            opened(settings, connection.password_sealed),
            http,
        )
    from app.calendars.expand import Limits

    feeds = {c.external_id: opened(settings, c.url_sealed) for c in calendars}
    return IcsFeedProvider(feeds, http, limits if isinstance(limits, Limits) else Limits())


def provider_factory(
    settings: Settings, options: object
) -> Callable[[CalendarConnection, Sequence[ConnectedCalendar]], Provider]:
    timeout = float(getattr(options, "request_timeout", 20.0))
    limits = getattr(options, "limits", None)

    def factory(connection: CalendarConnection, calendars: Sequence[ConnectedCalendar]) -> Provider:
        return open_provider(
            settings, connection, calendars, request_timeout=timeout, limits=limits
        )

    return factory
