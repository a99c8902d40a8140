"""iCalendar invites (RFC 5545/5546) for a booking, built with ``icalendar``.

Calendar clients match updates by UID and keep the one with the highest SEQUENCE, so the UID stays
the same across reschedules (the first booking's uid) and ``Booking.sequence`` rises on every
change. ``METHOD:REQUEST`` adds or updates the event; ``METHOD:CANCEL`` removes it.
"""

from __future__ import annotations

from icalendar import Calendar, Event, vCalAddress, vText

from app import clock
from app.bookings.locations import where
from app.db.models import CANCELLED, CONFIRMED, DECLINED, PENDING, Booking
from app.i18n import _

PRODID = "-//booking-widget//EN"
STATUS = {CONFIRMED: "CONFIRMED", PENDING: "TENTATIVE", CANCELLED: "CANCELLED"}


def ical_uid(root_uid: str) -> str:
    return f"{root_uid}@booking-widget"


def build_invite(
    booking: Booking,
    method: str = "REQUEST",
    uid: str | None = None,
    *,
    summary: str = "",
    description: str = "",
) -> bytes:
    """The ``.ics`` for ``booking``; ``uid`` is the first booking's uid when it was rescheduled.

    ``summary`` is the event's title as its reader's calendar shows it (the guest's and the host's
    differ, each in their own language); by default "<event type> with <host>" in the current
    language. ``LOCATION`` says where, as the pages do (``app.bookings.locations.where``)."""
    if method not in ("REQUEST", "CANCEL", "PUBLISH"):
        raise ValueError(f"unsupported METHOD {method}")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)

    host = booking.host
    event = Event()
    event.add("uid", ical_uid(uid or booking.uid))
    event.add("sequence", booking.sequence)
    event.add("dtstamp", clock.utcnow())
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add(
        "summary",
        summary or _("%(event)s with %(host)s", event=booking.event_type.title, host=host.name),
    )
    if description or booking.notes:
        event.add("description", description or booking.notes)
    location = where(booking)
    if location:
        event.add("location", location)
    cancelled = method == "CANCEL" or booking.status in (CANCELLED, DECLINED)
    event.add("status", "CANCELLED" if cancelled else STATUS.get(booking.status, "CONFIRMED"))

    organizer = vCalAddress(f"mailto:{host.email}")
    organizer.params["cn"] = vText(host.name)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{booking.invitee_email}")
    attendee.params["cn"] = vText(booking.invitee_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText(
        "ACCEPTED" if booking.status == CONFIRMED else "NEEDS-ACTION"
    )
    event.add("attendee", attendee)

    calendar.add_component(event)
    return bytes(calendar.to_ical())
