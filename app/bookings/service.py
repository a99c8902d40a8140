"""Create and change bookings. Each public function is one transaction.

Writes start with ``begin_write`` (BEGIN IMMEDIATE on SQLite, a per-host advisory lock on
PostgreSQL), check the slot with the pure slot engine, write, and record the notifications in the
same transaction. The database's overlap guard catches whatever the check could miss.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import clock
from app.bookings.availability import MARGIN, load_availability, load_held, slot_rules
from app.bookings.captcha import check_captcha
from app.bookings.errors import Conflict, Forbidden, InvalidInput, NotFound, SlotUnavailable
from app.bookings.locations import new_room, phone_mode
from app.bookings.validation import BookingInput, check_booking, check_reason, check_timezone
from app.calendars.freshness import refresh_before_booking, refresh_before_change
from app.db.models import (
    CANCELLED,
    CONFIRMED,
    DECLINED,
    HELD_STATUSES,
    PENDING,
    RESCHEDULED,
    Booking,
    EventType,
    Host,
    public_id,
)
from app.db.session import begin_write, lock_host
from app.i18n import _
from app.notify import record_booking_event
from app.scheduling import (
    Availability,
    Interval,
    free_slots,
    group_by_date,
    held_range,
    is_free_slot,
    local_day_window,
)
from app.settings import Settings

MAX_RANGE_DAYS = 62
# What one API answer may hold: a 62-day range of a 1-minute event type would be ~85,000 slots
# (6 MB, 0.4 s of CPU). The widget asks for a month at most, so it is never refused.
MAX_SLOTS_PER_ANSWER = 10_000
OVERLAP_MARKERS = ("booking_overlap", "ex_bookings_no_overlap")


@dataclass(frozen=True)
class DaySlots:
    day: date
    slots: list[Interval]


# Lookups ---------------------------------------------------------------------------------------


async def find_host(session: AsyncSession, host_slug: str) -> Host:
    """The host whose pages these are; a disabled host has none."""
    query = select(Host).where(Host.slug == host_slug, Host.disabled.is_(False))
    host = (await session.scalars(query)).first()
    if host is None:
        raise NotFound(f"No scheduling page for '{host_slug[:64]}'.")
    return host


# Built once: every page, slot list and booking starts with this lookup.
_ACTIVE_EVENT_TYPE = (
    select(EventType)
    .join(Host)
    .where(
        Host.slug == bindparam("host_slug"),
        Host.disabled.is_(False),
        EventType.slug == bindparam("event_slug"),
        EventType.active.is_(True),
        EventType.disabled.is_(False),
    )
    .options(contains_eager(EventType.host))
)


async def find_event_type(session: AsyncSession, host_slug: str, event_slug: str) -> EventType:
    """An active event type of the host, hidden ones included (they are bookable by link).

    The host comes from the join that finds the event type (one statement, not two: every page,
    slot list and booking starts here, and each statement is a round trip to the database).
    """
    params = {"host_slug": host_slug, "event_slug": event_slug}
    event_type = (await session.scalars(_ACTIVE_EVENT_TYPE, params)).first()
    if event_type is None:
        await find_host(session, host_slug)
        raise NotFound(f"No event type '{event_slug[:64]}' for '{host_slug[:64]}'.")
    return event_type


async def visible_event_types(session: AsyncSession, host: Host) -> list[EventType]:
    query = (
        select(EventType)
        .where(
            EventType.host_id == host.id,
            EventType.active.is_(True),
            EventType.hidden.is_(False),
            EventType.disabled.is_(False),
        )
        .order_by(EventType.duration_minutes, EventType.id)
    )
    return list((await session.scalars(query)).all())


async def find_booking(
    session: AsyncSession, uid: str, *, host_id: int | None = None, fresh: bool = False
) -> Booking:
    """The booking ``uid`` (of ``host_id``, if given) with its event type and host.

    ``fresh`` reads the row again even if the session already holds the object: a session hands
    back what it read earlier in the request, which may predate another request's change.
    """
    query = (
        select(Booking)
        .where(Booking.uid == uid)
        .options(selectinload(Booking.event_type), selectinload(Booking.host))
    )
    if host_id is not None:
        query = query.where(Booking.host_id == host_id)
    if fresh:
        query = query.execution_options(populate_existing=True)
    booking = (await session.scalars(query)).first()
    if booking is None:
        raise NotFound("Booking not found.")
    return booking


# Slots -----------------------------------------------------------------------------------------


def check_date_range(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise InvalidInput("dateTo must not be before dateFrom.", "dateTo")
    if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(f"The date range is too long (at most {MAX_RANGE_DAYS} days).", "dateTo")


async def slots_for_window(
    session: AsyncSession,
    event_type: EventType,
    window: Interval,
    now: datetime | None = None,
    *,
    capped: bool = False,
    exclude_booking_id: int | None = None,
) -> list[Interval]:
    """Free slots in ``window``. ``capped``: refuse (400) a window holding more than
    ``MAX_SLOTS_PER_ANSWER`` of them, found without computing the rest.
    ``exclude_booking_id``: a booking being rescheduled, whose own time is offered too."""
    now = now or clock.utcnow()
    availability = await load_availability(session, event_type, event_type.host.timezone)
    busy, starts = await load_held(
        session, event_type, window.start, window.end, exclude_booking_id
    )
    limit = MAX_SLOTS_PER_ANSWER + 1 if capped else None
    slots = free_slots(availability, slot_rules(event_type), window, now, busy, starts, limit)
    if capped and len(slots) > MAX_SLOTS_PER_ANSWER:
        raise InvalidInput(
            _(
                "This range holds more than %(count)s times: ask for fewer days at once.",
                count=f"{MAX_SLOTS_PER_ANSWER:,}",
            ),
            "dateTo",
        )
    return slots


async def list_slots(
    session: AsyncSession,
    event_type: EventType,
    date_from: date,
    date_to: date,
    timezone: str,
    now: datetime | None = None,
) -> list[DaySlots]:
    """Free slots for the guest's local dates ``date_from``..``date_to``, grouped by date."""
    check_date_range(date_from, date_to)
    timezone = check_timezone(timezone)
    window = local_day_window(date_from, date_to, timezone)
    slots = await slots_for_window(session, event_type, window, now, capped=True)
    return [DaySlots(day, day_slots) for day, day_slots in group_by_date(slots, timezone)]


async def next_free_slot(
    session: AsyncSession,
    event_type: EventType,
    after: datetime,
    now: datetime | None = None,
    horizon_days: int = 366,
) -> Interval | None:
    """The first free slot starting at or after ``after``, looked for a month at a time until the
    end of the booking window (or ``horizon_days``): what a page offers when a day or a month
    has nothing free."""
    now = now or clock.utcnow()
    start = max(after, now)
    days = event_type.booking_window_days
    limit = now + timedelta(days=days if days is not None else horizon_days)
    while start < limit:
        end = min(start + timedelta(days=31), limit)
        slots = await slots_for_window(session, event_type, Interval(start, end), now)
        if slots:
            return slots[0]
        start = end
    return None


# Creating --------------------------------------------------------------------------------------


async def create_booking(
    session: AsyncSession,
    host_slug: str,
    event_slug: str,
    data: Mapping[str, Any],
    *,
    metadata: dict[str, Any] | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> Booking:
    """A booking from the public API or the booking form (seed 001's field names).

    ``settings`` (the signing keys) is needed when the host has the CAPTCHA switched on.
    """
    event_type = await find_event_type(session, host_slug, event_slug)
    if event_type.booking_requires_auth:
        # Cal.com's bookingRequiresAuthentication: only its host books it (/v2 with their key).
        raise Forbidden(_("This event type can only be booked by its host."))
    booking_input = check_booking(dict(data), event_type.questions, phone_mode(event_type))
    availability = await load_availability(session, event_type, event_type.host.timezone)
    await refresh_before_booking(session, event_type.host_id)  # stale busy times, not under lock
    await begin_write(session)
    await check_captcha(session, event_type.host, data.get("captchaToken"), settings)
    if metadata:
        booking_input.metadata.update(metadata)
    return await book(session, event_type, booking_input, now=now, availability=availability)


async def book(
    session: AsyncSession,
    event_type: EventType,
    booking_input: BookingInput,
    *,
    now: datetime | None = None,
    replaces: Booking | None = None,
    availability: Availability | None = None,
    uid: str | None = None,
) -> Booking:
    """Hold the slot for a new booking and commit. Call inside ``begin_write``.

    Writers queue for the write lock one at a time, so whatever can be read before it is read
    before it: callers may pass the host's ``availability`` read earlier (hours a host edits at
    that very moment apply to the next booking). The held ranges, which decide whether two
    guests get one slot, are read under the lock, and the database refuses an overlap anyway.
    """
    now = now or clock.utcnow()
    host = event_type.host
    await lock_host(session, host.id)
    slot = Interval(booking_input.start, booking_input.end)
    exclude = replaces.id if replaces else None
    await check_slot(session, event_type, slot, now, exclude, availability)
    held = held_range(slot, slot_rules(event_type))
    booking = Booking(
        # Set here, not left to column defaults: the event below snapshots them before the flush.
        uid=uid or public_id("bkg"),
        version=1,
        sequence=0,
        cancellation_reason="",
        rescheduling_reason="",
        decline_reason="",
        absent_host=False,
        absent_attendees=[],
        host_id=host.id,
        event_type_id=event_type.id,
        start=slot.start,
        end=slot.end,
        held_start=held.start,
        held_end=held.end,
        status=PENDING if event_type.requires_approval else CONFIRMED,
        invitee_name=booking_input.name,
        invitee_email=booking_input.email,
        invitee_phone=booking_input.phone,
        invitee_timezone=booking_input.timezone,
        invitee_locale=booking_input.locale,
        custom_fields=booking_input.custom_fields,
        notes=booking_input.notes,
        source=booking_input.source,
        guests=booking_input.guests,
        meta=booking_input.metadata,
        location=new_room(event_type, replaces),
        created_at=now,
        updated_at=now,
    )
    booking.host = host
    booking.event_type = event_type
    if replaces is not None:
        booking.rescheduled_from_uid = replaces.uid
        booking.rescheduling_reason = replaces.rescheduling_reason
        booking.sequence = replaces.sequence + 1
        await record_booking_event(session, booking, "BOOKING_RESCHEDULED", previous=replaces)
    else:
        trigger = "BOOKING_REQUESTED" if booking.status == PENDING else "BOOKING_CREATED"
        await record_booking_event(session, booking, trigger)
    await _insert_or_slot_taken(session, booking)
    await session.commit()
    return booking


async def check_slot(
    session: AsyncSession,
    event_type: EventType,
    slot: Interval,
    now: datetime,
    exclude_booking_id: int | None = None,
    availability: Availability | None = None,
) -> None:
    """Raise unless ``slot`` is one of the event type's free slots right now."""
    if slot.end - slot.start != timedelta(minutes=event_type.duration_minutes):
        raise InvalidInput(
            f"endTime must be startTime plus {event_type.duration_minutes} minutes.", "endTime"
        )
    if availability is None:
        availability = await load_availability(session, event_type, event_type.host.timezone)
    rules = slot_rules(event_type)
    # Without a daily cap, only bookings overlapping the range this slot would hold can refuse
    # it: fetch just those, not the days around it (a busy host has hundreds there).
    held = held_range(slot, rules)
    margin = MARGIN if rules.max_per_day is not None else timedelta(0)
    busy, starts = await load_held(
        session, event_type, held.start, held.end, exclude_booking_id, margin=margin
    )
    if is_free_slot(slot, availability, rules, now, busy, starts):
        return
    if is_free_slot(slot, availability, rules, now):
        raise SlotUnavailable()  # a slot of the event type, but someone holds it
    raise InvalidInput("startTime is not one of this event type's available times.", "startTime")


# (attribute, column) of every booking column but the id, and the INSERT that writes them.
_BOOKING_FIELDS = [
    (prop.key, prop.columns[0].key) for prop in inspect(Booking).column_attrs if prop.key != "id"
]
_BOOKINGS = cast(Table, Booking.__table__)
_INSERT_BOOKING = insert(_BOOKINGS).returning(_BOOKINGS.c.id)


async def _insert_or_slot_taken(session: AsyncSession, booking: Booking) -> None:
    """INSERT the new booking in one Core statement, then hand it to the session as persistent.

    The unit of work would issue the same INSERT, but deciding so cost more Python than the rest
    of the booking's database work; every column is given, so no default is left to load back.
    The database's overlap guard turns a lost race into ``SlotUnavailable``.
    """
    values = {}
    for attribute, column in _BOOKING_FIELDS:
        value = getattr(booking, attribute)
        setattr(booking, attribute, value)  # unset ones (None) become loaded, not expired
        values[column] = value
    try:
        connection = await session.connection()
        booking.id = (await connection.execute(_INSERT_BOOKING, values)).scalar_one()
    except IntegrityError as exc:
        await session.rollback()
        if any(marker in str(exc.orig) for marker in OVERLAP_MARKERS):
            raise SlotUnavailable() from None
        raise
    make_transient_to_detached(booking)
    session.add(booking)


# Changing --------------------------------------------------------------------------------------
#
# Every change reads the booking *under the write lock* and then compares and bumps its version
# in the UPDATE itself (``change_booking``): ``WHERE id = :id AND version = :read``, and the row
# count decides. Two requests carrying one link may both have read version 1 before either took
# the lock (the session hands back the object it already holds, unless told to re-read it), so a
# comparison in Python alone lets both through; the guarded UPDATE lets exactly one through.


async def load_for_change(
    session: AsyncSession, uid: str, expected_version: int | None, host_id: int | None
) -> Booking:
    """The booking as it is now, read after the write lock is taken (never an earlier copy)."""
    await begin_write(session)
    booking = await find_booking(session, uid, host_id=host_id, fresh=True)
    await lock_host(session, booking.host_id)
    if expected_version is not None and booking.version != expected_version:
        raise Conflict(changed_message(booking))
    return booking


def changed_message(booking: Booking) -> str:
    messages = {
        CANCELLED: "This booking has already been cancelled.",
        DECLINED: "This booking has been declined.",
        RESCHEDULED: "This booking has been moved to another time.",
        CONFIRMED: "This booking has already been confirmed.",
    }
    return messages.get(booking.status, "This booking has changed since this link was sent.")


async def change_booking(
    session: AsyncSession,
    booking: Booking,
    allowed: tuple[str, ...],
    now: datetime,
    *,
    new_invite: bool = True,
    **values: Any,
) -> Booking:
    """Write ``values`` to ``booking`` if it is still the version that was read and in one of the
    ``allowed`` statuses; bump its version (and, when the invite changes, its iCalendar
    sequence). Returns the booking as written; raises ``Conflict`` (having rolled back) if
    another request changed it first. Call inside ``begin_write``, after ``load_for_change``.
    """
    bumps: dict[str, Any] = {"version": Booking.version + 1, "updated_at": now}
    if new_invite:
        bumps["sequence"] = Booking.sequence + 1
    statement = (
        update(Booking)
        .where(
            Booking.id == booking.id,
            Booking.version == booking.version,
            Booking.status.in_(allowed),
        )
        .values(**values, **bumps)
        .returning(Booking.version, Booking.sequence)
        .execution_options(synchronize_session=False)
    )
    written = (await session.execute(statement)).first()
    if written is None:
        uid = booking.uid
        await session.rollback()
        raise Conflict(changed_message(await find_booking(session, uid, fresh=True)))
    # What was written becomes the object's loaded state (not a pending change to flush again).
    written_values = {**values, "version": written.version, "sequence": written.sequence}
    for attribute, value in {**written_values, "updated_at": now}.items():
        set_committed_value(booking, attribute, value)
    return booking


async def _transition(
    session: AsyncSession,
    booking: Booking,
    allowed: tuple[str, ...],
    status: str,
    trigger: str,
    now: datetime | None,
    **changes: Any,
) -> Booking:
    """Move ``booking`` from one of ``allowed`` to ``status``, queue its notifications, commit."""
    if booking.status not in allowed:
        raise Conflict(changed_message(booking))
    booking = await change_booking(
        session, booking, allowed, now or clock.utcnow(), status=status, **changes
    )
    await record_booking_event(session, booking, trigger)
    await session.commit()
    return booking


async def cancel_booking(
    session: AsyncSession,
    uid: str,
    reason: str = "",
    *,
    expected_version: int | None = None,
    host_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Cancel a held booking; its slot is free the moment this commits."""
    reason = check_reason(reason, "cancellationReason")
    booking = await load_for_change(session, uid, expected_version, host_id)
    return await _transition(
        session,
        booking,
        HELD_STATUSES,
        CANCELLED,
        "BOOKING_CANCELLED",
        now,
        cancellation_reason=reason,
    )


async def reschedule_booking(
    session: AsyncSession,
    uid: str,
    start: datetime,
    end: datetime | None = None,
    reason: str = "",
    *,
    expected_version: int | None = None,
    host_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Move a held booking to a new slot in one transaction; returns the new booking.

    The old booking stops holding its range only inside the transaction that inserts the new one,
    so if the new slot is taken the rollback leaves the old booking exactly as it was.
    """
    now = now or clock.utcnow()
    reason = check_reason(reason, "reschedulingReason")
    await refresh_before_change(session, uid)  # stale calendar busy times, not under lock
    old = await load_for_change(session, uid, expected_version, host_id)
    if not old.is_held:
        raise Conflict(changed_message(old))
    event_type = old.event_type
    await session.refresh(event_type, ["host"])
    end = end or start + timedelta(minutes=event_type.duration_minutes)
    new_uid = public_id("bkg")
    old = await change_booking(
        session,
        old,
        HELD_STATUSES,
        now,
        status=RESCHEDULED,
        rescheduling_reason=reason,
        rescheduled_to_uid=new_uid,
    )
    booking_input = BookingInput(
        start=start,
        end=end,
        name=old.invitee_name,
        email=old.invitee_email,
        timezone=old.invitee_timezone,
        phone=old.invitee_phone,
        locale=old.invitee_locale,
        custom_fields=dict(old.custom_fields),
        notes=old.notes,
        source=old.source,
        guests=list(old.guests),
        metadata=dict(old.meta),
    )
    try:
        return await book(session, event_type, booking_input, now=now, replaces=old, uid=new_uid)
    except Exception:
        await session.rollback()
        raise


async def confirm_booking(
    session: AsyncSession,
    uid: str,
    *,
    expected_version: int | None = None,
    host_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    booking = await load_for_change(session, uid, expected_version, host_id)
    return await _transition(session, booking, (PENDING,), CONFIRMED, "BOOKING_CONFIRMED", now)


async def decline_booking(
    session: AsyncSession,
    uid: str,
    reason: str = "",
    *,
    expected_version: int | None = None,
    host_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Refuse a booking waiting for approval; its slot is free again."""
    reason = check_reason(reason, "reason")
    booking = await load_for_change(session, uid, expected_version, host_id)
    return await _transition(
        session,
        booking,
        (PENDING,),
        DECLINED,
        "BOOKING_DECLINED",
        now,
        decline_reason=reason,
    )
