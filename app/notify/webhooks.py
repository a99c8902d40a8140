"""Webhook calls as Cal.com sends them: the body (as of the change), its signatures, the POST.

Body: ``{"triggerEvent", "createdAt", "payload"}``, the payload in Cal.com's webhook version
2021-10-20 (its ``BookingPayloadBuilder``): the booking's calendar event (``type``, ``title``,
``startTime``, ``organizer``, ``attendees`` with ``utcOffset``, ``responses`` as
``{label, value}``, ``uid``, ``bookingId``, …), the event type's ``eventTitle``, ``length``,
``price``, ``status`` in Cal.com's words (``ACCEPTED``, ``PENDING``, ``CANCELLED``,
``REJECTED``) and the trigger's extras (``cancellationReason``, ``rejectionReason``,
``rescheduleUid``/``rescheduleStartTime``, …). ``BOOKING_NO_SHOW_UPDATED`` carries
``{bookingUid, bookingId, attendees: [{email, noShow}], message}`` instead; ``MEETING_STARTED``
and ``MEETING_ENDED`` the booking itself. A subscription with a ``payloadTemplate`` gets that
template filled in instead (Cal.com's Handlebars variables: ``{{title}}``, ``{{organizer.name}}``,
``{{attendees.0.email}}``, ``{{triggerEvent}}``, …), sent as JSON when the template is JSON and
as a form otherwise.

Triggers: Cal.com's names, and ours kept as aliases. A confirmation is ``BOOKING_CONFIRMED`` to
a subscriber of that name and ``BOOKING_CREATED`` (status ``ACCEPTED``) to one of Cal.com's
names, as Cal.com announces an accepted request; ``BOOKING_DECLINED`` is Cal.com's
``BOOKING_REJECTED``. Each subscriber gets one call per change, under the name it chose.

Bodies are rendered once, when the worker expands the booking event (``app.notify.events``),
and stored as text, so every retry sends the same bytes. Two signatures are made at send time,
with the subscription's current secret: Cal.com's ``X-Cal-Signature-256`` (hex HMAC-SHA256 of
the body; ``no-secret-provided`` without a secret, as Cal.com sends) and ours,
``X-Booking-Signature`` over ``"<t>.<body>"`` with the Unix time of the attempt, so a receiver
can refuse replays; ``X-Booking-Delivery`` (the outbox message id) is the same across retries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from app.db.models import CANCELLED, CONFIRMED, DECLINED, PENDING, RESCHEDULED, Booking
from app.hosts import cal_locations
from app.notify.ics import ical_uid

SIGNATURE_HEADER = "X-Booking-Signature"
CAL_SIGNATURE_HEADER = "X-Cal-Signature-256"
CAL_VERSION_HEADER = "X-Cal-Webhook-Version"
CAL_WEBHOOK_VERSION = "2021-10-20"
NO_SECRET = "no-secret-provided"
DELIVERY_HEADER = "X-Booking-Delivery"
EVENT_HEADER = "X-Booking-Event"
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_TEMPLATE = 10_000

# Cal.com's trigger names that we send. Ours, kept as aliases: BOOKING_CONFIRMED (no Cal.com
# name: it announces an accepted request as BOOKING_CREATED) and BOOKING_DECLINED.
CAL_TRIGGERS = (
    "BOOKING_CREATED",
    "BOOKING_REQUESTED",
    "BOOKING_RESCHEDULED",
    "BOOKING_CANCELLED",
    "BOOKING_REJECTED",
    "BOOKING_NO_SHOW_UPDATED",
    "MEETING_STARTED",
    "MEETING_ENDED",
)
ALIASES = ("BOOKING_CONFIRMED", "BOOKING_DECLINED")
# Each change's trigger -> the names a subscriber may know it by, preferred first.
DELIVERED_AS = {
    "BOOKING_CONFIRMED": ("BOOKING_CONFIRMED", "BOOKING_CREATED"),
    "BOOKING_DECLINED": ("BOOKING_REJECTED", "BOOKING_DECLINED"),
}
# Cal.com's triggers for what never happens here: refused when subscribing, never silently kept.
NEVER_SENT = (
    "BOOKING_PAYMENT_INITIATED",
    "BOOKING_PAID",
    "FORM_SUBMITTED",
    "RECORDING_READY",
    "INSTANT_MEETING",
    "RECORDING_TRANSCRIPTION_GENERATED",
    "OOO_CREATED",
    "AFTER_HOSTS_CAL_VIDEO_NO_SHOW",
    "AFTER_GUESTS_CAL_VIDEO_NO_SHOW",
    "FORM_SUBMITTED_NO_EVENT",
)
CAL_STATUS = {
    CONFIRMED: "ACCEPTED",
    PENDING: "PENDING",
    CANCELLED: "CANCELLED",
    RESCHEDULED: "CANCELLED",
    DECLINED: "REJECTED",
}


def delivered_as(trigger: str, subscribed: list[str]) -> str | None:
    """The name a subscriber to ``subscribed`` gets ``trigger`` under, or None: not sent."""
    for name in DELIVERED_AS.get(trigger, (trigger,)):
        if name in subscribed:
            return name
    return None


# Bodies -------------------------------------------------------------------------------------


def _z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def created_at(value: datetime) -> str:
    """Cal.com's ``createdAt``: ``toISOString()``, milliseconds and Z."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _utc_offset(zone: str, at: datetime) -> int:
    """Minutes east of UTC in ``zone`` at ``at`` (Cal.com's ``utcOffset``)."""
    offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def _first_and_last(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first, last.strip()


def _attendee(name: str, email: str, zone: str, locale: str, at: datetime) -> dict[str, Any]:
    first, last = _first_and_last(name)
    return {
        "email": email,
        "name": name,
        "firstName": first,
        "lastName": last,
        "timeZone": zone,
        "language": {"locale": locale},
        "utcOffset": _utc_offset(zone, at),
    }


def _responses(booking: Booking) -> tuple[dict[str, Any], dict[str, Any]]:
    """(responses, userFieldsResponses) as Cal.com's ``{field: {label, value}}``."""
    labels = {q["key"]: q.get("label") or q["key"] for q in booking.event_type.questions}
    custom = {
        key: {"label": labels.get(key, key), "value": value}
        for key, value in (booking.custom_fields or {}).items()
    }
    responses: dict[str, Any] = {
        "name": {"label": "your_name", "value": booking.invitee_name},
        "email": {"label": "email_address", "value": booking.invitee_email},
    }
    if booking.notes:
        responses["notes"] = {"label": "additional_notes", "value": booking.notes}
    if booking.guests:
        responses["guests"] = {"label": "additional_guests", "value": list(booking.guests)}
    if booking.invitee_phone:
        responses["attendeePhoneNumber"] = {"label": "phone_number", "value": booking.invitee_phone}
    return {**responses, **custom}, custom


def booking_payload(
    booking: Booking, trigger: str, previous: Booking | None = None, root_uid: str = ""
) -> dict[str, Any]:
    """Cal.com's webhook payload (version 2021-10-20) for ``booking`` as it is now;
    ``root_uid``: the first booking of its reschedule chain (the invite's UID)."""
    event_type, host = booking.event_type, booking.host
    at = booking.start
    room = str(getattr(booking, "location", "") or "")
    where = cal_locations.booking_location(
        event_type.location_type, event_type.location_value, room, booking.invitee_phone
    )
    video = cal_locations.meeting_url(event_type.location_type, event_type.location_value, room)
    responses, custom = _responses(booking)
    organizer = {
        "id": host.id,
        "name": host.name,
        "email": host.email,
        "username": host.slug,
        "timeZone": host.timezone,
        "language": {"locale": host.locale},
        "timeFormat": "h:mma" if host.time_format == 12 else "HH:mm",
        "utcOffset": _utc_offset(host.timezone, at),
    }
    first = _attendee(
        booking.invitee_name,
        booking.invitee_email,
        booking.invitee_timezone,
        booking.invitee_locale,
        at,
    )
    if booking.invitee_phone:
        first["phoneNumber"] = booking.invitee_phone
    guests = [
        _attendee("", guest, booking.invitee_timezone, booking.invitee_locale, at)
        for guest in booking.guests
    ]
    payload: dict[str, Any] = {
        "type": event_type.slug,
        "title": f"{event_type.title} between {host.name} and {booking.invitee_name}",
        "description": booking.notes,
        "additionalNotes": booking.notes,
        "customInputs": {},
        "startTime": _z(booking.start),
        "endTime": _z(booking.end),
        "organizer": organizer,
        "responses": responses,
        "userFieldsResponses": custom,
        "attendees": [first, *guests],
        "location": where,
        "destinationCalendar": None,
        "hideCalendarNotes": False,
        "requiresConfirmation": event_type.requires_approval,
        "eventTypeId": event_type.id,
        "seatsShowAttendees": True,
        "seatsPerTimeSlot": None,
        "uid": booking.uid,
        "iCalUID": ical_uid(root_uid or booking.uid),
        "iCalSequence": booking.sequence,
        "hashedLink": None,
        "eventTitle": event_type.title,
        "eventDescription": event_type.description or None,
        "price": 0,
        "currency": "usd",
        "length": event_type.duration_minutes,
        "bookingId": booking.id,
        "metadata": {**booking.meta, **({"videoCallUrl": video} if video else {})},
        "status": CAL_STATUS.get(booking.status, booking.status.upper()),
        "assignmentReason": None,
        "absentHost": bool(booking.absent_host),
    }
    if trigger == "BOOKING_CANCELLED":
        payload["cancellationReason"] = booking.cancellation_reason
        payload["requestReschedule"] = False
    if trigger in ("BOOKING_DECLINED", "BOOKING_REJECTED"):
        payload["rejectionReason"] = booking.decline_reason
    if trigger == "BOOKING_RESCHEDULED" and previous is not None:
        payload["rescheduleId"] = previous.id
        payload["rescheduleUid"] = previous.uid
        payload["rescheduleStartTime"] = _z(previous.start)
        payload["rescheduleEndTime"] = _z(previous.end)
        payload["reschedulingReason"] = booking.rescheduling_reason
    if trigger in ("MEETING_STARTED", "MEETING_ENDED"):
        payload["id"] = booking.id  # Cal.com sends the booking row itself for these
    return payload


def no_show_payload(booking: Booking) -> dict[str, Any]:
    absent = {email.lower() for email in booking.absent_attendees or []}
    everyone = [booking.invitee_email, *booking.guests]
    attendees = [{"email": email, "noShow": email.lower() in absent} for email in everyone]
    missing = [a["email"] for a in attendees if a["noShow"]]
    parts = [f"{', '.join(missing)} marked as no-show"] if missing else []
    if booking.absent_host:
        parts.append("the host marked as no-show")
    return {
        "bookingUid": booking.uid,
        "bookingId": booking.id,
        "attendees": attendees,
        "noShowHost": bool(booking.absent_host),
        "message": "; ".join(parts) or "no-shows cleared",
    }


def event_payload(
    booking: Booking, trigger: str, previous: Booking | None = None, root_uid: str = ""
) -> dict[str, Any]:
    if trigger == "BOOKING_NO_SHOW_UPDATED":
        return no_show_payload(booking)
    return booking_payload(booking, trigger, previous, root_uid)


def calls(
    hooks: list[Any],
    trigger: str,
    at: datetime,
    payload: dict[str, Any],
) -> list[tuple[str, dict[str, Any]]]:
    """One ``("webhook", row payload)`` per subscriber of ``trigger``, under the name it chose,
    rendered with its own template (if any)."""
    rows = []
    for hook in hooks:
        name = delivered_as(trigger, hook.triggers or [])
        if name is None:
            continue
        body, content_type = render_body(name, at, payload, hook.payload_template or "")
        rows.append(
            (
                "webhook",
                {
                    "trigger": name,
                    "webhookId": hook.id,
                    "url": hook.subscriber_url,
                    "body": body,
                    "contentType": content_type,
                },
            )
        )
    return rows


def render_body(
    trigger: str, at: datetime, payload: dict[str, Any], template: str = ""
) -> tuple[str, str]:
    """(body, content type) of one call: Cal.com's envelope, or the subscription's template."""
    stamp = created_at(at)
    if not template:
        body = {"triggerEvent": trigger, "createdAt": stamp, "payload": payload}
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False), JSON_TYPE
    data = {**payload, "triggerEvent": trigger, "createdAt": stamp}
    filled = fill_template(template, data).replace("&quot;", '"')
    if _json_or_none(template) is not None:
        # Cal.com sends JSON.stringify(JSON.parse(filled)), and `false` when that fails (a value
        # with a quote in it breaks the JSON the template makes): so do we.
        parsed = _json_or_none(filled)
        parsed = False if parsed is None else parsed
        return json.dumps(parsed, separators=(",", ":"), ensure_ascii=False), JSON_TYPE
    return filled, FORM_TYPE


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


PLACEHOLDER = re.compile(r"\{\{(\{)?\s*([\w.]+)\s*\}?\}\}")
ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;", "`": "&#x60;"}
ESCAPES["="] = "&#x3D;"


def _lookup(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _text(value: Any) -> str:
    """How Handlebars writes a value: booleans in lower case, nothing for null, a list's items
    joined with commas, ``[object Object]`` for an object."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def fill_template(template: str, data: dict[str, Any]) -> str:
    """Cal.com's payload templates are Handlebars: ``{{path.to.value}}`` is replaced by the value,
    HTML-escaped, ``{{{path}}}`` by the raw value (only plain paths, no helpers)."""

    def replace(match: re.Match[str]) -> str:
        text = _text(_lookup(data, match[2]))
        raw = match[1] is not None
        return text if raw else "".join(ESCAPES.get(c, c) for c in text)

    return PLACEHOLDER.sub(replace, template)


# Signatures and delivery ---------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: str) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``; no secret, no signature header value."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def cal_signature(secret: str, body: str) -> str:
    """Cal.com's ``X-Cal-Signature-256``: the hex HMAC-SHA256 of the body."""
    if not secret:
        return NO_SECRET
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def verify(secret: str, header: str, body: str, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: check the HMAC and refuse timestamps older than ``tolerance``."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


class SubscriptionGone(Exception):
    """The subscription was deleted or switched off after the call was queued: do not retry."""


async def post_webhook(
    client: httpx.AsyncClient,
    url: str,
    secret: str,
    payload: dict[str, Any],
    message_id: str,
    now: int,
) -> None:
    """POST the stored body to ``url``, signed with ``secret`` (the subscription's *current*
    one, so a rotated secret applies to queued calls; "" sends it unsigned); raise on transport
    errors, a refused address (``app.net.OutboundRefused``) or a non-2xx answer."""
    body: str = payload["body"]
    headers = {
        "Content-Type": payload.get("contentType") or JSON_TYPE,
        CAL_SIGNATURE_HEADER: cal_signature(secret, body),
        CAL_VERSION_HEADER: CAL_WEBHOOK_VERSION,
        DELIVERY_HEADER: message_id,
        EVENT_HEADER: payload["trigger"],
        "User-Agent": "booking-widget-webhooks/1",
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, now, body)
    response = await client.post(url, content=body.encode(), headers=headers)
    if not response.is_success:
        raise RuntimeError(f"HTTP {response.status_code} from {url}")
