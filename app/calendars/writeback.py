"""Bookings written to the host's destination calendar, through the outbox.

When the worker expands a booking event (``app.notify.events``) for a host that has a destination
calendar, or whose booking chain already has an event written, it adds one ``calendar_write``
row. Delivering that row writes the *current* state of the booking chain (not the state at the
event), so rows delivered late or out of order (a retry after the server was down) still leave
the calendar right: a held booking is PUT (``TENTATIVE`` while it waits for approval), a
cancelled or declined one is DELETEd, and a reschedule moves the same event. The UID is the
emailed invite's (``<first uid>@booking-widget``) and SEQUENCE the booking's, so calendar apps
see one event. After writing, the booking's version is read again: if it moved meanwhile, the
write is done again with the newer state.

A server that is down makes the delivery fail; the outbox retries it with backoff, and the
booking itself was never waiting on it. ``CalendarEventRef`` records where each chain's event
is (``booking_references`` lists it for ``/v2/bookings/{uid}/references``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from app import clock
from app.calendars.connections import open_provider
from app.calendars.providers import RemoteCalendar
from app.db.models import (
    CONFIRMED,
    HELD_STATUSES,
    PENDING,
    Booking,
    CalendarConnection,
    CalendarEventRef,
    ConnectedCalendar,
    OutboxMessage,
)
from app.db.session import begin_write
from app.i18n import _, use_locale
from app.notify.ics import PRODID, ical_uid
from app.settings import Settings

log = logging.getLogger("app.calendars")

CALENDAR_KIND = "calendar_write"
WRITE_TIMEOUT = 20.0
MAX_ROUNDS = 3


@dataclass(frozen=True)
class BookingReference:
    """One place a booking lives outside this server (Cal.com's booking reference)."""

    type: str  # the integration, e.g. "caldav_calendar"
    uid: str  # the iCalendar UID
    external_calendar_id: str  # the calendar's URL
    href: str  # the event's URL
    status: str  # "written" | "deleted"
    updated_at: datetime


async def booking_references(session: AsyncSession, booking_uid: str) -> list[BookingReference]:
    """The calendar events written for a booking (any booking of a rescheduled chain)."""
    from app.notify.events import first_uid

    booking = (await session.scalars(select(Booking).where(Booking.uid == booking_uid))).first()
    if booking is None:
        return []
    root = await first_uid(session, booking)
    refs = await session.scalars(
        select(CalendarEventRef).where(CalendarEventRef.booking_uid == root)
    )
    return [
        BookingReference(r.integration, r.ical_uid, r.external_id, r.href, r.status, r.updated_at)
        for r in refs
    ]


async def needs_write(session: AsyncSession, host_id: int, root_uid: str) -> bool:
    """Whether a booking event of this chain should touch the host's calendar."""
    query = select(ConnectedCalendar.id).where(
        ConnectedCalendar.host_id == host_id, ConnectedCalendar.destination.is_(True)
    )
    if (await session.scalars(query)).first() is not None:
        return True
    ref = select(CalendarEventRef.id).where(CalendarEventRef.booking_uid == root_uid)
    return (await session.scalars(ref)).first() is not None


def write_row(booking_uid: str, root_uid: str, now: datetime) -> OutboxMessage:
    return OutboxMessage(
        kind=CALENDAR_KIND,
        booking_uid=booking_uid,
        payload={"rootUid": root_uid},
        available_at=now,
        created_at=now,
    )


@dataclass
class _Target:
    booking: Booking  # the latest of the chain
    ref: CalendarEventRef | None
    calendar: ConnectedCalendar | None
    connection: CalendarConnection | None


async def write_booking(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], message: OutboxMessage
) -> str:
    """Deliver a ``calendar_write`` row; returns what was done. Raises when the server fails
    (the outbox retries)."""
    root = str(message.payload["rootUid"])
    done = "nothing to do"
    for _round in range(MAX_ROUNDS):
        target = await _load(sessionmaker, root)
        if target is None:
            return "the booking no longer exists"
        if target.calendar is None or target.connection is None:
            return done if target.ref is None else "its calendar is no longer connected"
        done = await _write(settings, sessionmaker, root, target)
        async with sessionmaker() as session:
            latest = await _latest(session, root)
        if latest is not None and (latest.uid, latest.version) == (
            target.booking.uid,
            target.booking.version,
        ):
            return done
    return done


async def _load(sessionmaker: async_sessionmaker[AsyncSession], root: str) -> _Target | None:
    async with sessionmaker() as session:
        booking = await _latest(session, root)
        if booking is None:
            return None
        ref = (
            await session.scalars(
                select(CalendarEventRef).where(CalendarEventRef.booking_uid == root)
            )
        ).first()
        if ref is not None:
            calendar = (
                await session.get(ConnectedCalendar, ref.calendar_id) if ref.calendar_id else None
            )
        else:
            calendar = (
                await session.scalars(
                    select(ConnectedCalendar).where(
                        ConnectedCalendar.host_id == booking.host_id,
                        ConnectedCalendar.destination.is_(True),
                    )
                )
            ).first()
        connection = (
            await session.get(CalendarConnection, calendar.connection_id) if calendar else None
        )
        session.expunge_all()
    return _Target(booking, ref, calendar, connection)


async def _latest(session: AsyncSession, root: str) -> Booking | None:
    """The booking the chain that starts at ``root`` ends with (a reschedule adds one)."""
    query = (
        select(Booking)
        .options(selectinload(Booking.event_type), selectinload(Booking.host))
        .where(Booking.uid == root)
    )
    booking = (await session.scalars(query)).first()
    seen = {root}
    while (
        booking is not None
        and booking.rescheduled_to_uid
        and booking.rescheduled_to_uid not in seen
    ):
        seen.add(booking.rescheduled_to_uid)
        following = (
            await session.scalars(
                select(Booking)
                .options(selectinload(Booking.event_type), selectinload(Booking.host))
                .where(Booking.uid == booking.rescheduled_to_uid)
            )
        ).first()
        if following is None:
            break
        booking = following
    return booking


async def _write(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    root: str,
    target: _Target,
) -> str:
    assert target.calendar is not None and target.connection is not None
    calendar, connection, booking, ref = (
        target.calendar,
        target.connection,
        target.booking,
        target.ref,
    )
    remote = RemoteCalendar(calendar.external_id, calendar.name, calendar.read_only)
    provider = open_provider(settings, connection, [calendar], request_timeout=WRITE_TIMEOUT)
    try:
        if booking.status in HELD_STATUSES:
            data = event_data(booking, root)
            written = await provider.put_event(remote, root, data, ref.href if ref else None)
            href, etag, status = written.href, written.etag, "written"
        elif ref is not None and ref.status == "written":
            await provider.delete_event(ref.href)
            href, etag, status = ref.href, "", "deleted"
        else:
            return "nothing to write"
    finally:
        await provider.aclose()
    async with sessionmaker() as session:
        await begin_write(session)
        stored = (
            await session.scalars(
                select(CalendarEventRef).where(CalendarEventRef.booking_uid == root)
            )
        ).first()
        if stored is None:
            stored = CalendarEventRef(
                host_id=booking.host_id,
                booking_uid=root,
                calendar_id=calendar.id,
                integration=connection.integration,
                external_id=calendar.external_id,
                href=href,
                ical_uid=ical_uid(root),
            )
            session.add(stored)
        stored.href, stored.etag, stored.status = href, etag, status
        stored.sequence = booking.sequence
        stored.updated_at = clock.utcnow()
        await session.commit()
    return f"{status} {href}"


def event_data(booking: Booking, root_uid: str) -> str:
    """The calendar object for the host's calendar: the invite's UID and SEQUENCE, the guest's
    details and answers, no METHOD (a stored object, RFC 4791), and attendees marked
    ``SCHEDULE-AGENT=CLIENT`` so a server that schedules (Nextcloud, iCloud) sends the guest no
    second invitation: we send our own."""
    host, event_type = booking.host, booking.event_type
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", ical_uid(root_uid))
    event.add("sequence", booking.sequence)
    event.add("dtstamp", clock.utcnow())
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add("status", "TENTATIVE" if booking.status == PENDING else "CONFIRMED")
    event.add("transp", "OPAQUE")
    with use_locale(host.locale):
        event.add(
            "summary",
            _("%(title)s with %(guest)s", title=event_type.title, guest=booking.invitee_name),
        )
        event.add("description", _description(booking))
    location = booking.meta.get("location") if isinstance(booking.meta, dict) else None
    if location or event_type.location_value:
        event.add("location", str(location or event_type.location_value))
    organizer = vCalAddress(f"mailto:{host.email}")
    organizer.params["cn"] = vText(host.name)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{booking.invitee_email}")
    attendee.params["cn"] = vText(booking.invitee_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText(
        "ACCEPTED" if booking.status == CONFIRMED else "NEEDS-ACTION"
    )
    attendee.params["schedule-agent"] = vText("CLIENT")
    event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def _description(booking: Booking) -> str:
    labels = {
        str(q.get("key")): str(q.get("label") or q.get("key"))
        for q in (booking.event_type.questions or [])
        if isinstance(q, dict)
    }
    lines = [
        _("Guest: %(name)s <%(email)s>", name=booking.invitee_name, email=booking.invitee_email)
    ]
    if booking.invitee_phone:
        lines.append(_("Phone: %(phone)s", phone=booking.invitee_phone))
    lines.append(_("Guest's time zone: %(zone)s", zone=booking.invitee_timezone))
    for key, value in (booking.custom_fields or {}).items():
        lines.append(f"{labels.get(key, key)}: {_answer(value)}")
    for guest in booking.guests or []:
        lines.append(_("Also invited: %(email)s", email=str(guest)))
    if booking.notes:
        lines += ["", booking.notes]
    if booking.status == PENDING:
        lines += ["", _("Waiting for your approval.")]
    return "\n".join(lines)


def _answer(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
