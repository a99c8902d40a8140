"""The host console (issue 11): admins, disabled hosts, sessions that can all be ended, key names.

- ``hosts.is_admin``: may invite and disable hosts in the console. The first host (the lowest id)
  becomes one, so an existing installation has an admin after the upgrade.
- ``hosts.disabled``: a disabled host cannot sign in, its sessions and API keys stop working and
  its booking pages are gone; its data stays.
- ``hosts.session_epoch``: every console session remembers the epoch it started in; "sign out
  everywhere" (and disabling) raises it, which ends every older session whatever store holds it.
- ``api_keys.name``: what the host called a key, to tell keys apart when revoking one.
- ``event_types.disabled``: an event type that takes no bookings for now (its link says so and
  its slots are gone) while keeping every setting; ``hidden`` only keeps it off the host's list.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    false = sa.false()
    op.add_column(
        "hosts", sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=false)
    )
    op.add_column(
        "hosts", sa.Column("disabled", sa.Boolean(), nullable=False, server_default=false)
    )
    op.add_column(
        "hosts", sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("api_keys", sa.Column("name", sa.String(100), nullable=False, server_default=""))
    op.add_column(
        "event_types", sa.Column("disabled", sa.Boolean(), nullable=False, server_default=false)
    )
    op.execute(
        "UPDATE hosts SET is_admin = TRUE WHERE id = (SELECT MIN(id) FROM hosts)"
        if op.get_bind().dialect.name == "postgresql"
        else "UPDATE hosts SET is_admin = 1 WHERE id = (SELECT MIN(id) FROM hosts)"
    )


def downgrade() -> None:
    op.drop_column("event_types", "disabled")
    op.drop_column("api_keys", "name")
    op.drop_column("hosts", "session_epoch")
    op.drop_column("hosts", "disabled")
    op.drop_column("hosts", "is_admin")
