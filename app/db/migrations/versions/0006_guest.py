"""The guest's experience (issue 12): locations we can keep, per-booking rooms, reminder times.

- ``event_types.location_type`` takes one of ``in_person``, ``phone``, ``link``,
  ``meeting_room`` or ``""`` (see ``app/bookings/locations.py``). Free-form values of before are
  mapped to what the server can actually do: ``Phone`` becomes ``phone`` (the host calls the
  guest, so the number is required); a video service with a URL becomes that fixed ``link``; a
  video service without one ("a Google Meet link follows", which nothing ever sent) becomes a
  generated ``meeting_room`` on https://meet.jit.si; any other text is taken as an address.
- ``bookings.location``: a booking's own meeting room link.
- ``event_types.reminder_minutes``: how long before the meeting reminders go out (24 h and 1 h).

Plain ``add_column`` statements: a batch on ``bookings`` would copy the table and drop its overlap
triggers (see 0001).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

VIDEO = ("googlemeet", "google_meet", "zoom", "teams", "msteams", "video", "jitsi", "whereby")
ROOM_SERVICE = "https://meet.jit.si"

event_types = sa.table(
    "event_types",
    sa.column("id", sa.Integer),
    sa.column("location_type", sa.String),
    sa.column("location_value", sa.String),
    sa.column("phone_mode", sa.String),
)


def mapped(kind: str, value: str) -> tuple[str, str]:
    """The new (type, value) for an event type's old free-form location."""
    key = kind.strip().lower().replace(" ", "").replace("-", "")
    value = value.strip()
    is_url = value.startswith(("https://", "http://"))
    if kind in ("in_person", "phone", "link", "meeting_room"):
        return kind, value
    if key in ("phone", "phonecall", "call"):
        return "phone", ""
    if key in VIDEO or key == "link":
        return ("link", value) if is_url else ("meeting_room", ROOM_SERVICE)
    if is_url:
        return "link", value
    if value:
        return "in_person", value
    return "", ""


def upgrade() -> None:
    op.add_column(
        "bookings", sa.Column("location", sa.String(length=500), nullable=False, server_default="")
    )
    op.add_column(
        "event_types",
        sa.Column(
            "reminder_minutes",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            server_default="[1440, 60]",
        ),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(event_types.c.id, event_types.c.location_type, event_types.c.location_value)
    ).all()
    for row in rows:
        kind, value = mapped(row.location_type or "", row.location_value or "")
        if (kind, value) == (row.location_type, row.location_value):
            continue
        values: dict[str, str] = {"location_type": kind, "location_value": value}
        if kind == "phone":
            values["phone_mode"] = "required"
        connection.execute(
            sa.update(event_types).where(event_types.c.id == row.id).values(**values)
        )


def downgrade() -> None:
    op.drop_column("event_types", "reminder_minutes")
    op.drop_column("bookings", "location")
