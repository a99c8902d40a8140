"""Issue 13 (Cal.com API v2 parity): what Cal.com's shapes need, and ids never reused.

- ``hosts``: ``time_format`` (12 or 24), ``week_start`` and ``metadata``, which ``PATCH /v2/me``
  sets and ``/v2/me`` answers.
- ``event_types``: ``booking_requires_auth`` (Cal.com's ``bookingRequiresAuthentication``: only
  the host's API key may book it) and ``disable_guests`` (no guests on its bookings).
- ``bookings``: ``absent_host`` and ``absent_attendees`` (the e-mail addresses of attendees
  marked as no-shows), set by mark-absent.
- ``webhooks``: ``event_type_id`` (a subscription to one event type's bookings only,
  ``/v2/event-types/{id}/webhooks``) and ``payload_template`` (Cal.com's custom body).

Ids never come back after a delete. PostgreSQL's sequences never hand out a number twice.
SQLite gives a new row ``max(id) + 1``, so deleting the newest event type, schedule or webhook
would let the next one take its id: a client holding the old id would reach the new object.
``AUTOINCREMENT`` makes SQLite remember the highest id ever used (``sqlite_sequence``); a table
gets it only when created, so those three tables are rebuilt here (a batch copy; ``env.py`` turns
foreign-key enforcement off while migrating, or dropping ``event_types`` would delete its
bookings). ``bookings`` is not rebuilt (its rows are never deleted, and a copy would drop its
overlap triggers, see 0001). A later batch on these tables must keep
``table_kwargs={"sqlite_autoincrement": True}``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

REBUILT = ("event_types", "schedules", "webhooks")


def _json_column(name: str, empty: str) -> sa.Column[object]:
    is_postgresql = op.get_bind().dialect.name == "postgresql"
    default = sa.text(f"'{empty}'::jsonb" if is_postgresql else f"'{empty}'")
    kind = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    return sa.Column(name, kind, nullable=False, server_default=default)


def upgrade() -> None:
    op.add_column(
        "hosts", sa.Column("time_format", sa.Integer(), nullable=False, server_default="24")
    )
    op.add_column(
        "hosts",
        sa.Column("week_start", sa.String(length=16), nullable=False, server_default="Monday"),
    )
    op.add_column("hosts", _json_column("metadata", "{}"))
    op.add_column(
        "event_types",
        sa.Column("booking_requires_auth", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "event_types",
        sa.Column("disable_guests", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "bookings",
        sa.Column("absent_host", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("bookings", _json_column("absent_attendees", "[]"))
    op.add_column(
        "webhooks", sa.Column("payload_template", sa.Text(), nullable=False, server_default="")
    )
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "webhooks", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch:
            # 0003 made the sealed secret TEXT on PostgreSQL only; the copy makes it so here too.
            batch.alter_column("secret", type_=sa.Text(), existing_nullable=False)
            batch.add_column(sa.Column("event_type_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                "fk_webhooks_event_type_id_event_types",
                "event_types",
                ["event_type_id"],
                ["id"],
                ondelete="CASCADE",
            )
            batch.create_index("ix_webhooks_event_type_id", ["event_type_id"])
        for table in REBUILT:
            if table == "webhooks":
                continue
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ):
                pass
    else:
        op.add_column("webhooks", sa.Column("event_type_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_webhooks_event_type_id_event_types",
            "webhooks",
            "event_types",
            ["event_type_id"],
            ["id"],
            ondelete="CASCADE",
        )
        op.create_index("ix_webhooks_event_type_id", "webhooks", ["event_type_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("webhooks", recreate="always") as batch:
            batch.drop_index("ix_webhooks_event_type_id")
            batch.drop_constraint("fk_webhooks_event_type_id_event_types", type_="foreignkey")
            batch.drop_column("event_type_id")
        for table in ("event_types", "schedules"):
            with op.batch_alter_table(table, recreate="always"):
                pass
    else:
        op.drop_index("ix_webhooks_event_type_id", table_name="webhooks")
        op.drop_constraint("fk_webhooks_event_type_id_event_types", "webhooks")
        op.drop_column("webhooks", "event_type_id")
    op.drop_column("webhooks", "payload_template")
    op.drop_column("bookings", "absent_attendees")
    op.drop_column("bookings", "absent_host")
    op.drop_column("event_types", "disable_guests")
    op.drop_column("event_types", "booking_requires_auth")
    op.drop_column("hosts", "metadata")
    op.drop_column("hosts", "week_start")
    op.drop_column("hosts", "time_format")
