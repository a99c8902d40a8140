"""Where a meeting happens, limited to what this server can keep its word on.

An event type has one ``location_type``:

- ``""``: nothing to say (the host tells the guest themselves);
- ``in_person``: ``location_value`` is the address;
- ``phone``: the host calls the guest, so the booking needs the guest's number (the phone field
  becomes required whatever ``phone_mode`` says);
- ``link``: ``location_value`` is a fixed video link the host set (the same for every booking);
- ``meeting_room``: ``location_value`` is a video service's base URL (``https://meet.jit.si``) and
  each booking gets a room of its own there, an unguessable link stored as ``Booking.location``;
  a rescheduled booking keeps its room.

``describe`` says, in the reader's language, exactly what will happen: the pages and emails
promise nothing else (no "a Google Meet link follows" that nobody sends).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.bookings.errors import InvalidInput
from app.db.models import PENDING, Booking, EventType
from app.i18n import _

NONE = ""
IN_PERSON = "in_person"
PHONE = "phone"
LINK = "link"
MEETING_ROOM = "meeting_room"
LOCATION_TYPES = (NONE, IN_PERSON, PHONE, LINK, MEETING_ROOM)
DEFAULT_ROOM_SERVICE = "https://meet.jit.si"


def _is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.username


def check_location(location_type: str, value: str) -> tuple[str, str]:
    """A valid (type, value) pair for an event type, or ``InvalidInput`` saying what is wrong."""
    value = (value or "").strip()
    if location_type not in LOCATION_TYPES:
        raise InvalidInput(
            _(
                "Unknown location type “%(type)s”: use in_person, phone, link or meeting_room.",
                type=str(location_type)[:40],
            ),
            "location_type",
        )
    if len(value) > 500:
        raise InvalidInput(_("The location is too long (at most 500 characters)."), "location")
    if location_type == IN_PERSON and not value:
        raise InvalidInput(_("An in-person meeting needs an address."), "location")
    if location_type == LINK and not _is_web_url(value):
        raise InvalidInput(
            _("A video link must be a full web address starting with https://."), "location"
        )
    if location_type == MEETING_ROOM:
        value = (value or DEFAULT_ROOM_SERVICE).rstrip("/")
        if not _is_web_url(value):
            raise InvalidInput(
                _("A meeting room service must be a web address such as https://meet.jit.si."),
                "location",
            )
    if location_type in (NONE, PHONE):
        value = ""
    return location_type, value


def phone_mode(event_type: EventType) -> str:
    """Whether the booking form asks for a phone number: always required when the host calls."""
    return "required" if event_type.location_type == PHONE else event_type.phone_mode


def new_room(event_type: EventType, replaces: Booking | None = None) -> str:
    """The ``Booking.location`` of a new booking: its own room link, or the one it is moved from."""
    if event_type.location_type != MEETING_ROOM:
        return ""
    if replaces is not None and replaces.location:
        return replaces.location
    base = (event_type.location_value or DEFAULT_ROOM_SERVICE).rstrip("/")
    return f"{base}/{event_type.slug[:24]}-{secrets.token_urlsafe(16)}"


def meeting_url(booking: Booking) -> str:
    """The link to join, once the booking is confirmed (the room or the host's fixed link)."""
    if booking.status == PENDING or not booking.is_held:
        return ""
    kind = booking.event_type.location_type
    if kind == MEETING_ROOM:
        return booking.location
    if kind == LINK:
        return booking.event_type.location_value
    return ""


def where(booking: Booking) -> str:
    """One line for calendars (``LOCATION`` of the invite, Google Calendar's location field)."""
    kind = booking.event_type.location_type
    if kind == IN_PERSON:
        return booking.event_type.location_value
    if kind == PHONE:
        return _("Phone call: %(phone)s", phone=booking.invitee_phone)
    return meeting_url(booking)


@dataclass(frozen=True)
class Place:
    """What a page or an email says about the location: a label, a sentence, maybe a link."""

    label: str
    text: str
    url: str = ""


def describe(
    event_type: EventType, booking: Booking | None = None, *, for_host: bool = False
) -> Place | None:
    """The location in the reader's words; before a booking exists, what *will* happen."""
    kind = event_type.location_type
    host = (booking.host if booking is not None else event_type.host).name
    pending = booking is not None and booking.status == PENDING
    if kind == IN_PERSON:
        return Place(_("In person"), event_type.location_value)
    if kind == PHONE:
        if booking is None:
            return Place(
                _("Phone call"), _("%(host)s will call you on the number you give.", host=host)
            )
        if for_host:
            return Place(
                _("Phone call"),
                _(
                    "Call %(guest)s on %(phone)s.",
                    guest=booking.invitee_name,
                    phone=booking.invitee_phone,
                ),
            )
        return Place(
            _("Phone call"),
            _("%(host)s will call you on %(phone)s.", host=host, phone=booking.invitee_phone),
        )
    if kind in (LINK, MEETING_ROOM):
        label = _("Video call")
        if booking is None:
            if kind == MEETING_ROOM:
                return Place(
                    label,
                    _(
                        "A private video room is made for your booking; its link comes with your confirmation."
                    ),
                )
            return Place(label, _("The link to join comes with your confirmation."))
        if pending and not for_host:
            return Place(label, _("You get the link to join once %(host)s confirms.", host=host))
        url = meeting_url(booking) if not pending else ""
        if for_host and pending:
            url = booking.location if kind == MEETING_ROOM else event_type.location_value
        return Place(label, "", url)
    return None
