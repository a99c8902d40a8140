"""The email a host gets once when a calendar stays unreachable (through the outbox, like every
email), in the host's language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from app.db.models import CalendarConnection, Host, OutboxMessage
from app.i18n import _, use_locale
from app.notify.notices import notice_email


def stale_email(
    host: Host,
    connection: CalendarConnection,
    error: str,
    since: datetime,
    now: datetime,
    refused: bool = False,
) -> OutboxMessage:
    """An ``email`` outbox row: the worker sends it (or logs it without SMTP)."""
    with use_locale(host.locale):
        when = format_datetime(
            since, "medium", tzinfo=_zone(host.timezone), locale=_babel(host.locale)
        )
        subject = _("Your calendar %(name)s cannot be read", name=connection.label)
        lines = [
            _("Hello %(name)s,", name=host.name),
            "",
            _(
                "Since %(when)s we cannot read your calendar %(name)s. Its last known busy "
                "times still block your booking page, but changes you made in it since then "
                "do not.",
                when=when,
                name=connection.label,
            ),
            "",
            _("The server's answer: %(error)s", error=error or _("no answer")),
            "",
            _(
                "The server refused the user name or password: connect the calendar again "
                "with a valid (app) password. Until then we do not try again."
            )
            if refused
            else _(
                "Check the address and the password, or reconnect the calendar. We keep "
                "trying, and will not email you again about this until it works again."
            ),
        ]
    return notice_email(host.email, subject, lines, now)


def _babel(tag: str) -> str:
    return (tag or "en").replace("-", "_")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")
