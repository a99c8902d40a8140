"""Calendar connections: accounts, their calendars, what the servers sent, busy times, and the
events written for bookings (app/calendars).

``calendar_busy`` holds busy times per calendar and event (the sync replaces an event's rows
when it changes; the explainer names the calendar); ``host_busy`` holds them merged across the
host's calendars, and that is what slot lists read. Both are indexed like held bookings, by
(host, end, start): one range scan that never walks the host's past.
A host has at most one destination calendar: a partial unique index says so.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calendar_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("integration", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("url_sealed", sa.Text(), nullable=False),
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("password_sealed", sa.Text(), nullable=False),
        sa.Column("invalid", sa.Boolean(), nullable=False),
        sa.Column("next_sync_at", Instant, nullable=False),
        sa.Column("locked_until", Instant, nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("last_attempt_at", Instant, nullable=True),
        sa.Column("last_success_at", Instant, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("failing_since", Instant, nullable=True),
        sa.Column("stale_notified_at", Instant, nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["hosts.id"],
            name=op.f("fk_calendar_connections_host_id_hosts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_connections")),
    )
    op.create_index(
        op.f("ix_calendar_connections_host_id"), "calendar_connections", ["host_id"], unique=False
    )
    op.create_index(
        "ix_calendar_connections_due", "calendar_connections", ["next_sync_at"], unique=False
    )

    op.create_table(
        "calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=1000), nullable=False),
        sa.Column("url_sealed", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("destination", sa.Boolean(), nullable=False),
        sa.Column("ctag", sa.String(length=300), nullable=False),
        sa.Column("etag", sa.String(length=300), nullable=False),
        sa.Column("last_modified", sa.String(length=100), nullable=False),
        sa.Column("synced_from", Instant, nullable=True),
        sa.Column("synced_until", Instant, nullable=True),
        sa.Column("last_synced_at", Instant, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["calendar_connections.id"],
            name=op.f("fk_calendars_connection_id_calendar_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["host_id"], ["hosts.id"], name=op.f("fk_calendars_host_id_hosts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendars")),
        sa.UniqueConstraint(
            "connection_id", "external_id", name="uq_calendars_connection_external"
        ),
    )
    op.create_index(op.f("ix_calendars_connection_id"), "calendars", ["connection_id"])
    op.create_index(
        "uq_calendars_host_destination",
        "calendars",
        ["host_id"],
        unique=True,
        sqlite_where=sa.text("destination"),
        postgresql_where=sa.text("destination"),
    )

    op.create_table(
        "calendar_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("href", sa.String(length=1000), nullable=False),
        sa.Column("etag", sa.String(length=300), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["calendars.id"],
            name=op.f("fk_calendar_objects_calendar_id_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_objects")),
        sa.UniqueConstraint("calendar_id", "href", name="uq_calendar_objects_calendar_href"),
    )

    op.create_table(
        "calendar_busy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("start", Instant, nullable=False),
        sa.Column("end", Instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["hosts.id"],
            name=op.f("fk_calendar_busy_host_id_hosts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["calendars.id"],
            name=op.f("fk_calendar_busy_calendar_id_calendars"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["calendar_objects.id"],
            name=op.f("fk_calendar_busy_object_id_calendar_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_busy")),
    )
    op.create_index("ix_calendar_busy_host_end", "calendar_busy", ["host_id", "end", "start"])
    op.create_index(
        "ix_calendar_busy_calendar_object", "calendar_busy", ["calendar_id", "object_id"]
    )
    op.create_index(op.f("ix_calendar_busy_object_id"), "calendar_busy", ["object_id"])

    op.create_table(
        "host_busy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("start", Instant, nullable=False),
        sa.Column("end", Instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["host_id"], ["hosts.id"], name=op.f("fk_host_busy_host_id_hosts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_busy")),
    )
    op.create_index("ix_host_busy_host_end", "host_busy", ["host_id", "end", "start"])

    op.create_table(
        "calendar_event_refs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("booking_uid", sa.String(length=32), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("integration", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=1000), nullable=False),
        sa.Column("href", sa.String(length=1000), nullable=False),
        sa.Column("ical_uid", sa.String(length=200), nullable=False),
        sa.Column("etag", sa.String(length=300), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", Instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["hosts.id"],
            name=op.f("fk_calendar_event_refs_host_id_hosts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["calendars.id"],
            name=op.f("fk_calendar_event_refs_calendar_id_calendars"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_event_refs")),
        sa.UniqueConstraint("booking_uid", name=op.f("uq_calendar_event_refs_booking_uid")),
    )
    op.create_index(
        op.f("ix_calendar_event_refs_host_id"), "calendar_event_refs", ["host_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("calendar_event_refs")
    op.drop_table("host_busy")
    op.drop_table("calendar_busy")
    op.drop_table("calendar_objects")
    op.drop_table("calendars")
    op.drop_table("calendar_connections")
