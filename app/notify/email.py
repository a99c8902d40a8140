"""Booking emails: composed from ``templates/emails/`` by the worker, then sent by it.

Composition happens when the worker expands a booking event (``app.notify.events``), from the
booking as the event's snapshot describes it, so the links carry tokens bound to the booking's
version *after* that change even if it has changed again since; the email's outbox row then holds
everything a send needs (recipient, subject, text, HTML, .ics), so a send never depends on later
state.

Dates are written in the reader's locale and time zone with Babel (the guest's for the guest, the
host's for the host). The guest's wording exists in English, German, Spanish and French.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import aiosmtplib
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_timezone_name
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.db.models import Booking
from app.settings import ROOT, Settings

log = logging.getLogger("app.notify")

LANGUAGES = ("en", "de", "es", "fr")

# Guest wording per trigger: (subject word, headline). ``{host}`` is the host's name.
GUEST_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "BOOKING_CREATED": {
        "en": ("Confirmed", "Your booking with {host} is confirmed."),
        "de": ("Bestätigt", "Ihr Termin mit {host} ist bestätigt."),
        "es": ("Confirmada", "Tu reserva con {host} está confirmada."),
        "fr": ("Confirmé", "Votre rendez-vous avec {host} est confirmé."),
    },
    "BOOKING_REQUESTED": {
        "en": ("Requested", "Your booking is waiting for {host} to approve it."),
        "de": ("Angefragt", "Ihr Termin wartet auf die Bestätigung durch {host}."),
        "es": ("Solicitada", "Tu reserva está pendiente de la aprobación de {host}."),
        "fr": ("Demandé", "Votre rendez-vous attend l'approbation de {host}."),
    },
    "BOOKING_CONFIRMED": {
        "en": ("Confirmed", "{host} has confirmed your booking."),
        "de": ("Bestätigt", "{host} hat Ihren Termin bestätigt."),
        "es": ("Confirmada", "{host} ha confirmado tu reserva."),
        "fr": ("Confirmé", "{host} a confirmé votre rendez-vous."),
    },
    "BOOKING_DECLINED": {
        "en": ("Declined", "{host} has declined your booking request."),
        "de": ("Abgelehnt", "{host} hat Ihre Terminanfrage abgelehnt."),
        "es": ("Rechazada", "{host} ha rechazado tu solicitud de reserva."),
        "fr": ("Refusé", "{host} a refusé votre demande de rendez-vous."),
    },
    "BOOKING_CANCELLED": {
        "en": ("Cancelled", "Your booking with {host} has been cancelled."),
        "de": ("Abgesagt", "Ihr Termin mit {host} wurde abgesagt."),
        "es": ("Cancelada", "Tu reserva con {host} ha sido cancelada."),
        "fr": ("Annulé", "Votre rendez-vous avec {host} a été annulé."),
    },
    "BOOKING_RESCHEDULED": {
        "en": ("Rescheduled", "Your booking with {host} has been moved to a new time."),
        "de": ("Verschoben", "Ihr Termin mit {host} wurde verschoben."),
        "es": ("Reprogramada", "Tu reserva con {host} se ha cambiado de hora."),
        "fr": ("Reporté", "Votre rendez-vous avec {host} a été déplacé."),
    },
}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "when": "When",
        "was": "Previously",
        "reason": "Reason",
        "cancel": "Cancel",
        "reschedule": "Reschedule",
        "manage": "Need to change something?",
    },
    "de": {
        "when": "Wann",
        "was": "Bisher",
        "reason": "Grund",
        "cancel": "Absagen",
        "reschedule": "Verschieben",
        "manage": "Etwas ändern?",
    },
    "es": {
        "when": "Cuándo",
        "was": "Antes",
        "reason": "Motivo",
        "cancel": "Cancelar",
        "reschedule": "Reprogramar",
        "manage": "¿Necesitas cambiar algo?",
    },
    "fr": {
        "when": "Quand",
        "was": "Auparavant",
        "reason": "Motif",
        "cancel": "Annuler",
        "reschedule": "Reporter",
        "manage": "Besoin de modifier quelque chose ?",
    },
}

HOST_TEXT: dict[str, tuple[str, str]] = {
    "BOOKING_CREATED": ("New booking", "{guest} booked a meeting with you."),
    "BOOKING_REQUESTED": (
        "Approval needed",
        "{guest} asked for a meeting that needs your approval.",
    ),
    "BOOKING_CONFIRMED": ("Confirmed", "You confirmed the booking with {guest}."),
    "BOOKING_DECLINED": ("Declined", "You declined the booking request from {guest}."),
    "BOOKING_CANCELLED": ("Cancelled", "The booking with {guest} has been cancelled."),
    "BOOKING_RESCHEDULED": ("Rescheduled", "{guest} moved the booking to a new time."),
}

_env = Environment(
    loader=FileSystemLoader(ROOT / "templates" / "emails"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def language_of(locale: str) -> str:
    """The supported language closest to ``locale`` (``de-AT`` -> ``de``), English otherwise."""
    try:
        language = Locale.parse(locale.replace("-", "_")).language
    except (UnknownLocaleError, ValueError, TypeError):
        return "en"
    return language if language in LANGUAGES else "en"


def when(start: datetime, end: datetime, timezone: str, locale: str) -> str:
    """``Montag, 16. März 2026, 15:00–15:30 (Mitteleuropäische Zeit)`` in the reader's zone."""
    zone, babel_locale = _zone(timezone), _locale(locale)
    day = format_date(start.astimezone(zone), "full", locale=babel_locale)
    first = format_time(start, "short", tzinfo=zone, locale=babel_locale)
    last = format_time(end, "short", tzinfo=zone, locale=babel_locale)
    return f"{day}, {first}–{last} ({get_timezone_name(zone, locale=babel_locale)})"


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


def guest_email(
    booking: Booking,
    trigger: str,
    links: dict[str, str],
    ics: bytes,
    ics_method: str,
    previous: Booking | None = None,
) -> Email:
    language = language_of(booking.invitee_locale)
    word, headline = GUEST_TEXT[trigger][language]
    zone, locale = booking.invitee_timezone, booking.invitee_locale
    context = {
        "booking": booking,
        "headline": headline.format(host=booking.host.name),
        "labels": LABELS[language],
        "lang": language,
        "when": when(booking.start, booking.end, zone, locale),
        "previous_when": when(previous.start, previous.end, zone, locale) if previous else "",
        "reason": booking.cancellation_reason or booking.decline_reason,
        "links": links,
    }
    text, html = _render("guest", context)
    day = format_date(booking.start.astimezone(_zone(zone)), "medium", locale=_locale(locale))
    subject = f"{word}: {booking.event_type.title} – {booking.host.name} – {day}"
    return Email(booking.invitee_email, subject, text, html, ics, ics_method)


def host_email(
    booking: Booking,
    trigger: str,
    links: dict[str, str],
    ics: bytes,
    ics_method: str,
    previous: Booking | None = None,
) -> Email:
    host = booking.host
    word, headline = HOST_TEXT[trigger]
    context = {
        "booking": booking,
        "headline": headline.format(guest=booking.invitee_name),
        "when": when(booking.start, booking.end, host.timezone, host.locale),
        "previous_when": (
            when(previous.start, previous.end, host.timezone, host.locale) if previous else ""
        ),
        "reason": booking.cancellation_reason or booking.decline_reason,
        "links": links,
    }
    text, html = _render("host", context)
    day = format_date(booking.start.astimezone(_zone(host.timezone)), "medium", locale="en")
    subject = f"{word}: {booking.event_type.title} with {booking.invitee_name} – {day}"
    return Email(host.email, subject, text, html, ics, ics_method)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _locale(name: str) -> Locale:
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale("en")


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
    # Fixed per outbox row (not make_msgid's random one): a resend carries the same Message-ID.
    message["Message-ID"] = f"<{message_id}@{_mail_domain(settings)}>"
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    if payload.get("ics"):  # notices to hosts (a calendar that cannot be read) carry none
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
