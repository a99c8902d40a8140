"""Look up held ranges by their end, so a host's past bookings are never scanned.

The overlap checks (the service's, and the SQLite triggers') ask for a host's bookings with
``held_end > new start AND held_start < new end``. Indexed by (host, held_start), that walks every
booking that started before the new one ends: the host's whole history, growing forever. Indexed
by (host, held_end) it walks only bookings that end after the new one starts, which is bounded by
how far ahead guests may book. ``held_start`` stays in the index, so the second condition is
checked without reading the rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 06:05:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


# Plain index statements, not a batch: a batch that copied the table would lose its triggers.
def upgrade() -> None:
    op.create_index("ix_bookings_host_held_end", "bookings", ["host_id", "held_end", "held_start"])
    op.drop_index("ix_bookings_host_held", table_name="bookings")


def downgrade() -> None:
    op.create_index("ix_bookings_host_held", "bookings", ["host_id", "held_start", "held_end"])
    op.drop_index("ix_bookings_host_held_end", table_name="bookings")
