"""Where a meeting happens, in our model and in Cal.com's location shapes, both ways.

Our model (PLAN.md, issue 12): ``EventType.location_type`` is one of

- ``""``: none;
- ``"in_person"``: at ``location_value``, an address;
- ``"phone"``: the host calls the guest, so the booking form asks for a phone number;
- ``"link"``: ``location_value`` is a fixed video URL the host set;
- ``"meeting_room"``: ``location_value`` is a base URL (``https://meet.jit.si``); every booking
  gets its own unguessable room under it, stored on the booking.

Cal.com's (API v2, 2024-06-14) ``locations`` entries map to these as

==================================================  =====================================
Cal.com                                             ours
==================================================  =====================================
``{"type": "address", "address", "public"}``        ``in_person``
``{"type": "attendeePhone"}``                       ``phone``
``{"type": "link", "link", "public"}``              ``link``
``{"type": "integration", "integration": …}``       ``meeting_room``: ``cal-video`` (a room
                                                    per booking, on ``DEFAULT_ROOMS``;
                                                    ``jitsi`` is read as the same and
                                                    answered as ``cal-video``)
==================================================  =====================================

Cal.com's other kinds (the organizer's ``phone`` number, ``attendeeAddress``,
``attendeeDefined``, Google Meet, Zoom and other integrations we do not run) are refused with a
400 that says so, never stored as something else. Values written before the model (``Link``,
``InPerson``, ``Phone``, …) are still described in Cal.com's shapes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from app.bookings.errors import InvalidInput
from app.bookings.validation import check_text

IN_PERSON, PHONE, LINK, MEETING_ROOM = "in_person", "phone", "link", "meeting_room"
JITSI = "https://meet.jit.si"
DEFAULT_ROOMS = JITSI
# Integrations we can run: a room of our own per booking.
ROOM_INTEGRATIONS = {"cal-video": DEFAULT_ROOMS, "jitsi": JITSI}
# Location types stored before the model (issue 12's migration maps them), read as the new ones.
LEGACY = {
    "InPerson": IN_PERSON,
    "Link": LINK,
    "Phone": PHONE,
    "AttendeePhone": PHONE,
    "CalVideo": MEETING_ROOM,
}
LEGACY_INTEGRATIONS = {"GoogleMeet": "google-meet", "Zoom": "zoom", "MSTeams": "office365-video"}
CAL_TYPES = (
    "address",
    "link",
    "integration",
    "phone",
    "attendeeAddress",
    "attendeePhone",
    "attendeeDefined",
)


def to_cal(location_type: str, location_value: str) -> list[dict[str, Any]]:
    """The event type's location as Cal.com's ``locations`` list (empty when there is none)."""
    kind = LEGACY.get(location_type, location_type)
    if kind == "":
        return []
    if kind == IN_PERSON:
        return [{"type": "address", "address": location_value, "public": True}]
    if kind == LINK:
        return [{"type": "link", "link": location_value, "public": True}]
    if kind == PHONE:
        return [{"type": "attendeePhone"}]
    if kind == MEETING_ROOM:
        # A room of its own per booking is what Cal Video is, whatever service hosts it.
        return [{"type": "integration", "integration": "cal-video"}]
    if kind in LEGACY_INTEGRATIONS:
        return [{"type": "integration", "integration": LEGACY_INTEGRATIONS[kind]}]
    return [{"type": "unknown", "location": location_value or kind}]


def from_cal(locations: list[dict[str, Any]]) -> tuple[str, str]:
    """Cal.com's ``locations`` -> (location_type, location_value); 400 for what we cannot run."""
    if not locations:
        return "", ""
    if len(locations) > 1:
        raise InvalidInput(
            "locations: one location per event type is supported (give a list of one).",
            "locations",
        )
    location = locations[0] if isinstance(locations[0], dict) else {}
    kind = location.get("type")
    where = "locations[0]"
    if kind == "address":
        return IN_PERSON, _text(location.get("address"), f"{where}.address")
    if kind == "link":
        link = _text(location.get("link"), f"{where}.link")
        if urlsplit(link).scheme not in ("http", "https"):
            raise InvalidInput(f"{where}.link must be an http(s) URL.", "locations")
        return LINK, link
    if kind == "attendeePhone":
        return PHONE, ""
    if kind == "integration":
        integration = location.get("integration")
        if integration not in ROOM_INTEGRATIONS:
            raise InvalidInput(
                f"{where}.integration '{str(integration)[:40]}' is not available here: use "
                f"{' or '.join(ROOM_INTEGRATIONS)} (a meeting room per booking), or a link.",
                "locations",
            )
        return MEETING_ROOM, ROOM_INTEGRATIONS[str(integration)]
    if kind in CAL_TYPES:
        raise InvalidInput(
            f"{where}.type '{kind}' is not supported: use address, link, attendeePhone "
            "(the host calls the attendee) or integration.",
            "locations",
        )
    raise InvalidInput(f"{where}.type must be one of {', '.join(CAL_TYPES)}.", "locations")


def booking_location(location_type: str, location_value: str, room: str, phone: str) -> str:
    """A booking's ``location`` as Cal.com's bookings show it: the address, the link, the
    room's link, or the number the host calls ("" when the event type has none)."""
    kind = LEGACY.get(location_type, location_type)
    if kind in (IN_PERSON, LINK):
        return location_value
    if kind == MEETING_ROOM:
        return room
    if kind == PHONE:
        return phone
    return LEGACY_INTEGRATIONS.get(kind, location_value)


def meeting_url(location_type: str, location_value: str, room: str) -> str:
    """The video link of a booking, "" when it is not an online meeting."""
    kind = LEGACY.get(location_type, location_type)
    if kind == LINK:
        return location_value
    if kind == MEETING_ROOM:
        return room
    return ""


def _text(value: Any, where: str) -> str:
    return check_text(value, where, required=True, max_length=500)
