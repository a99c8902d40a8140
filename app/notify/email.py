"""Booking emails: composed from ``templates/emails/`` by the worker, then sent by it.

Composition happens when the worker expands a booking event (``app.notify.events``), from the
booking as the event's snapshot describes it, so the links carry tokens bound to the booking's
version *after* that change even if it has changed again since; the email's outbox row then holds
everything a send needs (recipient, subject, text, HTML, .ics), so a send never depends on later
state.

Each email is written in its reader's language (the guest's locale for the guest, the host's for
the host: gettext catalogs, ``app.i18n``), with dates and times in the reader's zone as their
locale writes them (``app.dates``), and says who made a change and why. Every message gets a
``Date`` and a ``Message-ID`` (the outbox row's id, so a resend after a crash is recognisable).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app import i18n
from app.actor import GUEST, HOST
from app.bookings.locations import describe
from app.dates import Formats
from app.db.models import Booking
from app.i18n import _, isolate, text_direction, use_locale
from app.notify.ics import build_invite
from app.settings import TEMPLATES_DIR, Settings

REMINDER = "BOOKING_REMINDER"
LINKS = "BOOKING_LINKS"

log = logging.getLogger("app.notify")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR / "emails"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
i18n.install(_env)


def when(start: datetime, end: datetime, timezone: str, locale: str) -> str:
    """``Monday, March 16, 2026, 3:00 – 3:30 PM`` in the reader's zone, locale and clock."""
    return Formats.of(locale, timezone).when(start, end)


@dataclass(frozen=True)
class Email:
    """One composed email; ``as_payload`` is what the outbox row stores."""

    to: str
    subject: str
    text: str
    html: str
    ics: bytes
    ics_method: str

    def as_payload(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "ics": self.ics.decode(),
            "icsMethod": self.ics_method,
        }


def _render(name: str, context: dict[str, Any]) -> tuple[str, str]:
    return (
        _env.get_template(f"{name}.txt").render(context),
        _env.get_template(f"{name}.html").render(context),
    )


def guest_subject(trigger: str, booking: Booking, day: str) -> str:
    names = {
        "event": isolate(booking.event_type.title),
        "host": isolate(booking.host.name),
        "date": day,
    }
    subjects = {
        "BOOKING_CREATED": _("Confirmed: %(event)s with %(host)s, %(date)s", **names),
        "BOOKING_REQUESTED": _("Requested: %(event)s with %(host)s, %(date)s", **names),
        "BOOKING_CONFIRMED": _("Confirmed: %(event)s with %(host)s, %(date)s", **names),
        "BOOKING_DECLINED": _("Declined: %(event)s with %(host)s, %(date)s", **names),
        "BOOKING_CANCELLED": _("Cancelled: %(event)s with %(host)s, %(date)s", **names),
        "BOOKING_RESCHEDULED": _("Rescheduled: %(event)s with %(host)s, now %(date)s", **names),
        REMINDER: _("Reminder: %(event)s with %(host)s, %(date)s", **names),
        LINKS: _("Your links: %(event)s with %(host)s, %(date)s", **names),
    }
    return subjects[trigger]


def guest_headline(trigger: str, booking: Booking, by: str, soon: str = "") -> str:
    host = isolate(booking.host.name)
    if trigger == REMINDER:
        return _("Your booking with %(host)s starts in %(time)s.", host=host, time=soon)
    if trigger == "BOOKING_CANCELLED":
        if by == GUEST:
            return _("You have cancelled your booking with %(host)s.", host=host)
        if by == HOST:
            return _("%(host)s has cancelled your booking.", host=host)
        return _("Your booking with %(host)s has been cancelled.", host=host)
    if trigger == "BOOKING_RESCHEDULED":
        if by == GUEST:
            return _("You have moved your booking with %(host)s to a new time.", host=host)
        if by == HOST:
            return _("%(host)s has moved your booking to a new time.", host=host)
        return _("Your booking with %(host)s has been moved to a new time.", host=host)
    headlines = {
        "BOOKING_CREATED": _("Your booking with %(host)s is confirmed.", host=host),
        "BOOKING_REQUESTED": _(
            "Your request has been sent. %(host)s will confirm or decline it, and we will "
            "email you either way.",
            host=host,
        ),
        "BOOKING_CONFIRMED": _("%(host)s has confirmed your booking.", host=host),
        "BOOKING_DECLINED": _("%(host)s has declined your booking request.", host=host),
        LINKS: _("Here are the links for your booking with %(host)s, as it stands now.", host=host),
    }
    return headlines[trigger]


def host_subject(trigger: str, booking: Booking, day: str) -> str:
    names = {
        "event": isolate(booking.event_type.title),
        "guest": isolate(booking.invitee_name),
        "date": day,
    }
    subjects = {
        "BOOKING_CREATED": _("New booking: %(event)s with %(guest)s, %(date)s", **names),
        "BOOKING_REQUESTED": _("Approval needed: %(event)s with %(guest)s, %(date)s", **names),
        "BOOKING_CONFIRMED": _("Confirmed: %(event)s with %(guest)s, %(date)s", **names),
        "BOOKING_DECLINED": _("Declined: %(event)s with %(guest)s, %(date)s", **names),
        "BOOKING_CANCELLED": _("Cancelled: %(event)s with %(guest)s, %(date)s", **names),
        "BOOKING_RESCHEDULED": _("Rescheduled: %(event)s with %(guest)s, now %(date)s", **names),
        REMINDER: _("Reminder: %(event)s with %(guest)s, %(date)s", **names),
    }
    return subjects[trigger]


def host_headline(trigger: str, booking: Booking, by: str, soon: str = "") -> str:
    guest = isolate(booking.invitee_name)
    if trigger == REMINDER:
        return _("Your meeting with %(guest)s starts in %(time)s.", guest=guest, time=soon)
    if trigger == "BOOKING_CANCELLED":
        if by == GUEST:
            return _("%(guest)s has cancelled the booking.", guest=guest)
        if by == HOST:
            return _("You have cancelled the booking with %(guest)s.", guest=guest)
        return _("The booking with %(guest)s has been cancelled.", guest=guest)
    if trigger == "BOOKING_RESCHEDULED":
        if by == GUEST:
            return _("%(guest)s has moved the booking to a new time.", guest=guest)
        if by == HOST:
            return _("You have moved the booking with %(guest)s to a new time.", guest=guest)
        return _("The booking with %(guest)s has been moved to a new time.", guest=guest)
    headlines = {
        "BOOKING_CREATED": _("%(guest)s has booked a meeting with you.", guest=guest),
        "BOOKING_REQUESTED": _(
            "%(guest)s asks for a meeting with you. It needs your approval.", guest=guest
        ),
        "BOOKING_CONFIRMED": _("You have confirmed the booking with %(guest)s.", guest=guest),
        "BOOKING_DECLINED": _("You have declined the booking request from %(guest)s.", guest=guest),
    }
    return headlines[trigger]


def reason_of(booking: Booking, trigger: str) -> str:
    if trigger == "BOOKING_CANCELLED":
        return booking.cancellation_reason
    if trigger == "BOOKING_DECLINED":
        return booking.decline_reason
    if trigger == "BOOKING_RESCHEDULED":
        return booking.rescheduling_reason
    return ""


def answers(booking: Booking) -> list[tuple[str, str]]:
    """Every answer to the event type's questions, labelled as the form asked them."""
    given = booking.custom_fields or {}
    rows = []
    for question in booking.event_type.questions:
        key = question.get("key")
        if key not in given:
            continue
        value = given[key]
        if isinstance(value, bool):
            value = _("Yes") if value else _("No")
        rows.append((str(question.get("label") or key), str(value)))
    known = {q.get("key") for q in booking.event_type.questions}
    rows += [(str(key), str(value)) for key, value in given.items() if key not in known]
    return rows


def guest_email(
    booking: Booking,
    trigger: str,
    links: dict[str, str],
    ics: bytes | None,
    ics_method: str,
    previous: Booking | None = None,
    by: str = "",
    ics_uid: str | None = None,
    lead_minutes: int = 0,
) -> Email:
    """The guest's email, in the guest's language, zone and clock. ``ics`` None: built here, with
    the summary in the guest's language; empty: no invite attached (a reminder)."""
    with use_locale(booking.invitee_locale):
        fmt = Formats.of(booking.invitee_locale, booking.invitee_timezone)
        context = {
            "booking": booking,
            "lang": booking.invitee_locale,
            "dir": text_direction(booking.invitee_locale),
            "headline": guest_headline(trigger, booking, by, fmt.duration(lead_minutes)),
            "when": fmt.when(booking.start, booking.end),
            "zone": fmt.zone_name(),
            "previous_when": fmt.when(previous.start, previous.end) if previous else "",
            "place": describe(booking.event_type, booking) if booking.is_held else None,
            "reason": reason_of(booking, trigger),
            "reason_by": booking.host.name if trigger == "BOOKING_DECLINED" else "",
            "links": links,
            "reminder": trigger == REMINDER,
        }
        text, html = _render("guest", context)
        subject = guest_subject(trigger, booking, fmt.short_date(booking.start))
        if ics is None:
            ics = build_invite(
                booking,
                ics_method,
                uid=ics_uid,
                summary=_(
                    "%(event)s with %(host)s",
                    event=booking.event_type.title,
                    host=booking.host.name,
                ),
            )
    return Email(booking.invitee_email, subject, text, html, ics, ics_method)


def host_email(
    booking: Booking,
    trigger: str,
    links: dict[str, str],
    ics: bytes | None,
    ics_method: str,
    previous: Booking | None = None,
    by: str = "",
    ics_uid: str | None = None,
    lead_minutes: int = 0,
) -> Email:
    """The host's email, in the host's language and zone, with everything the guest gave."""
    host = booking.host
    with use_locale(host.locale):
        fmt = Formats.of(host.locale, host.timezone)
        context = {
            "booking": booking,
            "lang": host.locale,
            "dir": text_direction(host.locale),
            "headline": host_headline(trigger, booking, by, fmt.duration(lead_minutes)),
            "when": fmt.when(booking.start, booking.end),
            "zone": fmt.zone_name(),
            "previous_when": fmt.when(previous.start, previous.end) if previous else "",
            "place": describe(booking.event_type, booking, for_host=True)
            if booking.is_held
            else None,
            "answers": answers(booking),
            "reason": reason_of(booking, trigger),
            "reason_by": booking.invitee_name if by == GUEST else "",
            "links": links,
            "reminder": trigger == REMINDER,
        }
        text, html = _render("host", context)
        subject = host_subject(trigger, booking, fmt.short_date(booking.start))
        if ics is None:
            ics = build_invite(
                booking,
                ics_method,
                uid=ics_uid,
                summary=_(
                    "%(event)s with %(guest)s",
                    event=booking.event_type.title,
                    guest=booking.invitee_name,
                ),
            )
    return Email(host.email, subject, text, html, ics, ics_method)


# Sending ---------------------------------------------------------------------------------------


def build_message(settings: Settings, payload: dict[str, Any], message_id: str) -> EmailMessage:
    """A multipart message (text, HTML, the invite as ``text/calendar``).

    The outbox ``message_id`` becomes the Message-ID, so a resend after a crash is recognisable.
    """
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = payload["to"]
    # One line whatever it holds: names stored before they were checked for line breaks would
    # otherwise make the header, and so every retry of this message, fail.
    message["Subject"] = " ".join(str(payload["subject"]).split())
    message["Date"] = formatdate(usegmt=True)
    # Fixed per outbox row (not make_msgid's random one): a resend carries the same Message-ID.
    message["Message-ID"] = f"<{message_id}@{_mail_domain(settings)}>"
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    # Reminders and notices to hosts (a calendar that cannot be read) carry no invite.
    if payload.get("ics"):
        method = payload.get("icsMethod", "REQUEST")
        message.add_attachment(
            payload["ics"].encode(),
            maintype="text",
            subtype="calendar",
            filename="invite.ics" if method != "CANCEL" else "cancel.ics",
            params={"method": method},
        )
    return message


def _mail_domain(settings: Settings) -> str:
    address = parseaddr(settings.mail_from)[1]
    return address.rpartition("@")[2] or "localhost"


async def send_email(settings: Settings, message: EmailMessage) -> None:
    """Send over ``SMTP_URL`` (``smtp://user:pass@host:port``, ``smtps://`` for implicit TLS)."""
    url = urlsplit(settings.smtp_url)
    implicit_tls = url.scheme == "smtps"
    await aiosmtplib.send(
        message,
        hostname=url.hostname or "localhost",
        port=url.port or (465 if implicit_tls else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=implicit_tls,
        timeout=20,
    )


def log_email(payload: dict[str, Any], message_id: str) -> None:
    """Without ``SMTP_URL`` the email is shown in the log (it stays in the outbox too)."""
    log.info(
        "email %s (no SMTP_URL set, not sent)\nTo: %s\nSubject: %s\n\n%s",
        message_id,
        formataddr(("", payload["to"])),
        payload["subject"],
        payload["text"],
    )
