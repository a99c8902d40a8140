"""Check and normalise what a guest sends before anything touches the database.

Every check raises ``InvalidInput`` naming the field, so the API can answer 400 with a clear
message and the booking form can show it next to the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from app.bookings.errors import InvalidInput
from app.i18n import _

SOURCES = ("BookingPage", "EmbedWidget", "API")
MAX_NAME = 200
MAX_EMAIL = 320
MAX_NOTES = 5000
MAX_REASON = 2000
MAX_FIELD_VALUE = 2000
MAX_CUSTOM_FIELDS = 50
LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,2}$")
PHONE_RE = re.compile(r"^\+?[0-9 ().\-/]{5,40}$")


@dataclass
class BookingInput:
    """A booking request after validation: clean values, UTC times."""

    start: datetime
    end: datetime
    name: str
    email: str
    timezone: str
    phone: str = ""
    locale: str = "en"
    custom_fields: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    source: str = "API"
    guests: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(value: Any, field_name: str = "timezone") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            f"{field_name} is required (an IANA time zone such as Europe/Berlin).", field_name
        )
    zone = value.strip()
    if zone not in _zones():
        raise InvalidInput(f"{field_name} '{zone[:64]}' is not a known IANA time zone.", field_name)
    return zone


# Dates and instants are read only between these days. Zone arithmetic and the slot engine step a
# day or two either side of what they are asked, which overflows Python's dates next to their
# limits (years 1 and 9999); nobody books a meeting, or asks for slots, that far away.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9000, 12, 31)


def in_range(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def _out_of_range(field_name: str) -> InvalidInput:
    return InvalidInput(
        _(
            "%(field)s must be between %(earliest)s and %(latest)s.",
            field=field_name,
            earliest=EARLIEST_DAY.isoformat(),
            latest=LATEST_DAY.isoformat(),
        ),
        field_name,
    )


def parse_day(value: Any, field_name: str) -> date:
    """A date written YYYY-MM-DD, within the years we read."""
    text = value.strip() if isinstance(value, str) else ""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            _(
                "%(field)s '%(value)s' is not a date in YYYY-MM-DD format.",
                field=field_name,
                value=text[:20],
            ),
            field_name,
        ) from None
    if not in_range(day):
        raise _out_of_range(field_name)
    return day


def parse_instant(value: Any, field_name: str) -> datetime:
    """An ISO 8601 instant with a zone (``Z`` or an offset), returned in UTC."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            f"{field_name} is required (ISO 8601 UTC, e.g. 2026-03-16T14:00:00Z).", field_name
        )
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise InvalidInput(
            f"{field_name} '{text[:40]}' is not an ISO 8601 date-time.", field_name
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"{field_name} must be in UTC (end it with Z).", field_name)
    if not in_range(parsed.date()):
        raise _out_of_range(field_name)
    return parsed.astimezone(UTC)


# Control characters (and lone surrogates, which no encoding can store) have no place in text a
# person typed; one-line fields refuse line breaks and tabs too. A name with "\r\n" would otherwise
# reach email headers (where the host's notification then fails on every retry), and PostgreSQL
# refuses NUL in text.
ONE_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
MULTI_LINE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def check_text(
    value: Any,
    field_name: str,
    *,
    required: bool,
    max_length: int,
    multiline: bool = False,
    label: str | None = None,
) -> str:
    """``value`` stripped: a string of at most ``max_length`` characters, without control
    characters (``multiline`` allows line breaks and tabs). Messages name the field by its
    ``label`` (what a form calls it) when given, else by ``field_name``."""
    name = label or field_name
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be a string.", field=name), field_name)
    text = value.strip()
    if required and not text:
        raise InvalidInput(_("%(field)s is required.", field=name), field_name, "required")
    if len(text) > max_length:
        raise InvalidInput(
            _(
                "%(field)s is too long (at most %(count)d characters).",
                field=name,
                count=max_length,
            ),
            field_name,
            "too_long",
        )
    forbidden = MULTI_LINE_FORBIDDEN if multiline else ONE_LINE_FORBIDDEN
    if forbidden.search(text):
        message = (
            _("%(field)s contains a control character.", field=name)
            if multiline
            else _(
                "%(field)s must be one line of text, without control characters.",
                field=name,
            )
        )
        raise InvalidInput(message, field_name)
    return text


def check_reason(value: Any, field_name: str = "reason") -> str:
    """A cancellation, decline or rescheduling reason: free text, cut at 2,000 characters."""
    if isinstance(value, str):
        value = value[:MAX_REASON]
    return check_text(value, field_name, required=False, max_length=MAX_REASON, multiline=True)


def check_email(value: Any, field_name: str = "inviteeEmail") -> str:
    text = check_text(value, field_name, required=True, max_length=MAX_EMAIL)
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(
            f"{field_name} is not a valid email address: {exc}", field_name, "email"
        ) from None


def check_phone(value: Any, field_name: str = "inviteePhone", *, required: bool = False) -> str:
    """Lenient on format (guests type numbers many ways), strict on what cannot be a number."""
    text = check_text(value, field_name, required=required, max_length=40)
    if not text:
        return ""
    digits = re.sub(r"\D", "", text)
    if not PHONE_RE.match(text) or not 5 <= len(digits) <= 15:
        raise InvalidInput(f"{field_name} is not a valid phone number.", field_name, "phone")
    if text.startswith("+"):
        try:
            number = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            raise InvalidInput(
                f"{field_name} is not a valid phone number.", field_name, "phone"
            ) from None
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return text


def check_locale(value: Any) -> str:
    text = check_text(value, "inviteeLocale", required=False, max_length=16)
    if not text:
        return "en"
    if not LOCALE_RE.match(text):
        raise InvalidInput(
            f"inviteeLocale '{text}' is not a locale such as en or de-AT.", "inviteeLocale"
        )
    return text.replace("_", "-")


def check_source(value: Any) -> str:
    if value in (None, ""):
        return "API"
    if value not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}.", "source")
    return str(value)


def check_custom_fields(value: Any, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Answers to the event type's questions: required ones present, choices among the options."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidInput(
            "customFields must be an object of field names to answers.", "customFields"
        )
    if len(value) > MAX_CUSTOM_FIELDS:
        raise InvalidInput(
            f"customFields has too many entries (at most {MAX_CUSTOM_FIELDS}).", "customFields"
        )
    answers: dict[str, Any] = {}
    multiline = {q["key"] for q in questions if q.get("type") == "textarea"}
    for key, answer in value.items():
        if not isinstance(key, str) or not key or len(key) > 100 or ONE_LINE_FORBIDDEN.search(key):
            raise InvalidInput(
                _("customFields keys must be short non-empty strings without control characters."),
                "customFields",
            )
        if isinstance(answer, bool):
            answers[key] = answer
        elif isinstance(answer, int | float):
            answers[key] = str(answer)
        elif isinstance(answer, str):
            answers[key] = check_text(
                answer,
                f"customFields.{key}",
                required=False,
                max_length=MAX_FIELD_VALUE,
                multiline=key in multiline,
            )
        else:
            raise InvalidInput(
                f"customFields.{key} must be a string or a boolean.", f"customFields.{key}"
            )
    for question in questions:
        key = question["key"]
        answer = answers.get(key)
        label = question.get("label") or key
        if question.get("type") == "checkbox":
            checked = answer is True or (
                isinstance(answer, str) and answer.lower() in {"true", "on", "yes", "1"}
            )
            if question.get("required") and not checked:
                raise InvalidInput(f"{label} must be checked.", f"customFields.{key}", "checkbox")
            if key in answers:
                answers[key] = checked
            continue
        if question.get("required") and (answer is None or answer == ""):
            raise InvalidInput(f"{label} is required.", f"customFields.{key}", "required")
        if (
            question.get("type") == "select"
            and answer not in (None, "")
            and answer not in question.get("options", [])
        ):
            raise InvalidInput(
                f"{label}: choose one of the offered options.", f"customFields.{key}", "choice"
            )
    return answers


def check_booking(
    data: dict[str, Any], questions: list[dict[str, Any]], phone_mode: str
) -> BookingInput:
    """Validate the fields of a public booking request (seed 001's names)."""
    if data.get("honeypotValue") not in (None, ""):
        raise InvalidInput("honeypotValue must be empty.", "honeypotValue")
    start = parse_instant(data.get("startTime"), "startTime")
    end = parse_instant(data.get("endTime"), "endTime")
    if end <= start:
        raise InvalidInput("endTime must be after startTime.", "endTime")
    name = check_text(data.get("inviteeName"), "inviteeName", required=True, max_length=MAX_NAME)
    email = check_email(data.get("inviteeEmail"))
    timezone = check_timezone(data.get("inviteeTimezone"), "inviteeTimezone")
    phone = check_phone(data.get("inviteePhone"), required=phone_mode == "required")
    notes = check_text(
        data.get("inviteeNotes"),
        "inviteeNotes",
        required=False,
        max_length=MAX_NOTES,
        multiline=True,
    )
    return BookingInput(
        start=start,
        end=end,
        name=name,
        email=email,
        timezone=timezone,
        phone=phone if phone_mode != "hidden" else "",
        locale=check_locale(data.get("inviteeLocale")),
        custom_fields=check_custom_fields(data.get("customFields"), questions),
        notes=notes,
        source=check_source(data.get("source")),
    )
