"""The tables. Times are UTC instants (``UTCDateTime``); wall-clock hours are minutes after midnight.

A booking stores the range it *holds* (``held_start``/``held_end``: its meeting time widened by the
event type's buffers) so that the database itself can refuse two held bookings whose ranges overlap:
an exclusion constraint on PostgreSQL, triggers on SQLite (see the first migration).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.clock import utcnow
from app.db.types import UTCDateTime

CONFIRMED = "Confirmed"
PENDING = "PendingApproval"
CANCELLED = "Cancelled"
DECLINED = "Declined"
RESCHEDULED = "Rescheduled"
HELD_STATUSES = (CONFIRMED, PENDING)
ALL_STATUSES = (CONFIRMED, PENDING, CANCELLED, DECLINED, RESCHEDULED)
# Ids are INTEGER columns: 32 bits in PostgreSQL (SQLite's are wider, but both databases hold
# the same rows). A larger number is no id of ours.
MAX_ID = 2_147_483_647
# The outbox row a booking change (or a time-driven event) is recorded as (``app.notify.events``).
EVENT_KIND = "booking_event"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def public_id(prefix: str) -> str:
    """Opaque, unguessable ids for URLs and the public API (``bkg_…``, ``evt_…``)."""
    return f"{prefix}_{secrets.token_urlsafe(12).replace('-', 'x').replace('_', 'y')}"


Json = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: Json, list[Any]: Json}


class Host(Base):
    __tablename__ = "hosts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    brand_color: Mapped[str] = mapped_column(String(16), default="#2563eb")
    avatar_url: Mapped[str] = mapped_column(String(500), default="")
    welcome_text: Mapped[str] = mapped_column(Text, default="")
    # Origins allowed to frame the booking pages; empty means any origin may embed them.
    embed_origins: Mapped[list[Any]] = mapped_column(default=list)
    captcha_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Cal.com's profile settings (/v2/me): 12- or 24-hour clock, first day of the week, free data.
    time_format: Mapped[int] = mapped_column(Integer, default=24)
    week_start: Mapped[str] = mapped_column(String(16), default="Monday")
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    # The console (0005): admins invite and disable hosts; raising session_epoch ends every
    # console session started before.
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)

    event_types: Mapped[list[EventType]] = relationship(back_populates="host")
    schedules: Mapped[list[Schedule]] = relationship(back_populates="host")


class ApiKey(Base):
    """Host API keys, stored as SHA-256 digests: a leaked database does not leak keys."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")  # the host's label for it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


# SQLite: ids of rows the API can delete are never handed out again (migration 0007).
NEVER_REUSED = {"sqlite_autoincrement": True}


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    host: Mapped[Host] = relationship(back_populates="schedules")
    intervals: Mapped[list[ScheduleInterval]] = relationship(
        cascade="all, delete-orphan",
        order_by="(ScheduleInterval.weekday, ScheduleInterval.start_minute)",
    )
    overrides: Mapped[list[ScheduleOverride]] = relationship(
        cascade="all, delete-orphan",
        order_by="(ScheduleOverride.day, ScheduleOverride.start_minute)",
    )


class ScheduleInterval(Base):
    """One stretch of weekly hours: weekday 0 = Monday, minutes after local midnight (1440 = 24:00)."""

    __tablename__ = "schedule_intervals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)


class ScheduleOverride(Base):
    """A date whose hours replace the weekly ones; a row without minutes closes the day."""

    __tablename__ = "schedule_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    start_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    end_minute: Mapped[int | None] = mapped_column(Integer, default=None)


class EventType(Base):
    __tablename__ = "event_types"
    __table_args__ = (
        UniqueConstraint("host_id", "slug", name="uq_event_types_host_slug"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(
        String(32), unique=True, default=lambda: public_id("evt")
    )
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="SET NULL"), default=None
    )
    slug: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    slot_interval_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=0)
    booking_window_days: Mapped[int | None] = mapped_column(Integer, default=60)
    max_per_day: Mapped[int | None] = mapped_column(Integer, default=None)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # "" | "in_person" | "phone" | "link" | "meeting_room": see app/bookings/locations.py.
    location_type: Mapped[str] = mapped_column(String(32), default="")
    location_value: Mapped[str] = mapped_column(String(500), default="")
    # "hidden" | "optional" | "required": whether the booking form asks for a phone number.
    phone_mode: Mapped[str] = mapped_column(String(16), default="optional")
    # [{"key", "label", "type": text|textarea|select|checkbox, "required", "options": [...]}]
    questions: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # Takes no bookings for now (the console's switch), every setting kept (0005).
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Only the host's API key may book it (Cal.com's bookingRequiresAuthentication).
    booking_requires_auth: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bookings may not bring guests (Cal.com's disableGuests).
    disable_guests: Mapped[bool] = mapped_column(Boolean, default=False)
    # Minutes before the start when the guest and the host get a reminder (0006).
    reminder_minutes: Mapped[list[Any]] = mapped_column(default=lambda: [1440, 60])

    host: Mapped[Host] = relationship(back_populates="event_types")
    schedule: Mapped[Schedule | None] = relationship()


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # By end: overlap checks then never walk a host's past (see migration 0002).
        Index("ix_bookings_host_held_end", "host_id", "held_end", "held_start"),
        Index("ix_bookings_event_start", "event_type_id", "start"),
        Index("ix_bookings_email", "invitee_email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: public_id("bkg"))
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    event_type_id: Mapped[int] = mapped_column(ForeignKey("event_types.id", ondelete="CASCADE"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    held_start: Mapped[datetime]
    held_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    # Raised on every change: tokens are bound to it, so a link dies once the booking moves on.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # iCalendar SEQUENCE: rises each time the invite is re-sent with changes.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    invitee_name: Mapped[str] = mapped_column(String(200))
    invitee_email: Mapped[str] = mapped_column(String(320))
    invitee_phone: Mapped[str] = mapped_column(String(40), default="")
    invitee_timezone: Mapped[str] = mapped_column(String(64))
    invitee_locale: Mapped[str] = mapped_column(String(16), default="en")
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20), default="API")
    guests: Mapped[list[Any]] = mapped_column(default=list)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    cancellation_reason: Mapped[str] = mapped_column(Text, default="")
    rescheduling_reason: Mapped[str] = mapped_column(Text, default="")
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    rescheduled_from_uid: Mapped[str | None] = mapped_column(String(32), default=None)
    rescheduled_to_uid: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # No-shows (mark-absent): the host, and the lower-cased e-mails of absent attendees.
    absent_host: Mapped[bool] = mapped_column(Boolean, default=False)
    absent_attendees: Mapped[list[Any]] = mapped_column(default=list)
    # The booking's own meeting room link (event types with location_type "meeting_room"; 0006).
    location: Mapped[str] = mapped_column(String(500), default="")

    host: Mapped[Host] = relationship()
    event_type: Mapped[EventType] = relationship()

    @property
    def is_held(self) -> bool:
        return self.status in HELD_STATUSES


class Webhook(Base):
    __tablename__ = "webhooks"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    # Set: only this event type's bookings are sent (/v2/event-types/{id}/webhooks).
    event_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_types.id", ondelete="CASCADE"), index=True, default=None
    )
    # Cal.com's payloadTemplate: a body with {{placeholders}}; "" sends the standard body.
    payload_template: Mapped[str] = mapped_column(Text, default="")
    subscriber_url: Mapped[str] = mapped_column(String(1000))
    triggers: Mapped[list[Any]] = mapped_column(default=list)
    # Sealed with app.crypto (SECRET_KEYS); "" for an unsigned subscription made before 0003.
    secret: Mapped[str] = mapped_column(Text, default="")
    secret_hint: Mapped[str] = mapped_column(String(8), default="")  # its last characters, shown
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutboxMessage(Base):
    """A booking event, or an email or webhook call made from one (``app.notify.events``).

    A booking change writes one ``booking_event`` row (the trigger and a snapshot of the booking) in
    its own transaction, and nothing else: that transaction holds SQLite's write lock, so it stays
    short, and rendering costs the request nothing. A worker claims due rows (a lease on SQLite,
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL); it expands an event into its ``email`` and
    ``webhook`` rows and marks it delivered in one transaction (once), and delivers the others,
    recording each attempt, so a crash loses nothing.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "delivered_at", "available_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(
        String(64), unique=True, default=lambda: public_id("msg")
    )
    kind: Mapped[str] = mapped_column(String(16))  # "booking_event" | "email" | "webhook"
    booking_uid: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    locked_by: Mapped[str] = mapped_column(String(64), default="")  # the worker holding the lease
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsedNonce(Base):
    """One-time values already spent (CAPTCHA solutions), kept until they would have expired."""

    __tablename__ = "used_nonces"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime]


# Calendar connections (app/calendars) -------------------------------------------------------------


class CalendarConnection(Base):
    """A host's account on a calendar server (Cal.com's "credential"): CalDAV or ICS feeds.

    Secrets (the CalDAV server URL and password, feed URLs) are sealed with ``app.crypto``. The
    sync columns are the worker's: a connection is due at ``next_sync_at``, leased to one worker
    until ``locked_until`` under ``lease_token``, and ``last_success_at``/``last_error`` say how
    fresh its busy times are.
    """

    __tablename__ = "calendar_connections"
    __table_args__ = (Index("ix_calendar_connections_due", "next_sync_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "caldav" | "ics_feed"
    integration: Mapped[str] = mapped_column(String(32))  # Cal.com's: "apple_calendar", …
    label: Mapped[str] = mapped_column(String(200), default="")  # server name, never a secret
    url_sealed: Mapped[str] = mapped_column(Text, default="")
    username: Mapped[str] = mapped_column(String(320), default="")
    password_sealed: Mapped[str] = mapped_column(Text, default="")
    # The server refused the credentials: not synced again until they are saved anew.
    invalid: Mapped[bool] = mapped_column(Boolean, default=False)
    next_sync_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    lease_token: Mapped[str | None] = mapped_column(String(32), default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    failing_since: Mapped[datetime | None] = mapped_column(default=None)
    stale_notified_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    calendars: Mapped[list[ConnectedCalendar]] = relationship(
        back_populates="connection",
        cascade="all, delete-orphan",
        order_by="ConnectedCalendar.id",
    )


class ConnectedCalendar(Base):
    """One calendar of a connection: whether it blocks slots (``selected``), whether bookings are
    written to it (``destination``, at most one per host), and its sync state."""

    __tablename__ = "calendars"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id", name="uq_calendars_connection_external"),
        Index(
            "uq_calendars_host_destination",
            "host_id",
            unique=True,
            sqlite_where=text("destination"),
            postgresql_where=text("destination"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("calendar_connections.id", ondelete="CASCADE"), index=True
    )
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    # The calendar's URL on a CalDAV server; an opaque name for a feed (its URL is a secret).
    external_id: Mapped[str] = mapped_column(String(1000))
    url_sealed: Mapped[str] = mapped_column(Text, default="")  # a feed's URL
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="")  # "" reads as the host's
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    selected: Mapped[bool] = mapped_column(Boolean, default=True)
    destination: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the server said last: CalDAV's ctag/sync-token, a feed's ETag and Last-Modified.
    ctag: Mapped[str] = mapped_column(String(300), default="")
    etag: Mapped[str] = mapped_column(String(300), default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="")
    # The window whose busy times are stored, and when and how it was last read.
    synced_from: Mapped[datetime | None] = mapped_column(default=None)
    synced_until: Mapped[datetime | None] = mapped_column(default=None)
    last_synced_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    connection: Mapped[CalendarConnection] = relationship(back_populates="calendars")


class CalendarObject(Base):
    """A calendar resource as the server sent it (one event series; a whole feed for ICS), kept
    so that the window can move on without fetching what has not changed."""

    __tablename__ = "calendar_objects"
    __table_args__ = (
        UniqueConstraint("calendar_id", "href", name="uq_calendar_objects_calendar_href"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"))
    href: Mapped[str] = mapped_column(String(1000))
    etag: Mapped[str] = mapped_column(String(300), default="")
    data: Mapped[str] = mapped_column(Text, default="")


class CalendarBusy(Base):
    """A busy interval read from a selected calendar. Indexed like held bookings (by host, then
    end), so a slot list reads both with one indexed range scan each."""

    __tablename__ = "calendar_busy"
    __table_args__ = (
        Index("ix_calendar_busy_host_end", "host_id", "end", "start"),
        Index("ix_calendar_busy_calendar_object", "calendar_id", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"))
    object_id: Mapped[int] = mapped_column(
        ForeignKey("calendar_objects.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[datetime]
    end: Mapped[datetime]


class HostBusy(Base):
    """A host's calendar busy times merged across its selected calendars: what slot lists read
    (``calendar_busy`` keeps them per calendar and event, for the sync and the explainer).
    Merged, a month of a busy host is a few hundred rows instead of thousands."""

    __tablename__ = "host_busy"
    __table_args__ = (Index("ix_host_busy_host_end", "host_id", "end", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    start: Mapped[datetime]
    end: Mapped[datetime]


class CalendarEventRef(Base):
    """Where a booking's event was written in the host's calendar (one per reschedule chain:
    ``booking_uid`` is the chain's first uid, as in the iCalendar UID). Cal.com's booking
    references list these."""

    __tablename__ = "calendar_event_refs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    booking_uid: Mapped[str] = mapped_column(String(32), unique=True)
    calendar_id: Mapped[int | None] = mapped_column(
        ForeignKey("calendars.id", ondelete="SET NULL"), default=None
    )
    integration: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(1000))  # the calendar's URL
    href: Mapped[str] = mapped_column(String(1000))  # the event's URL
    ical_uid: Mapped[str] = mapped_column(String(200))
    etag: Mapped[str] = mapped_column(String(300), default="")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="written")  # "written" | "deleted"
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
