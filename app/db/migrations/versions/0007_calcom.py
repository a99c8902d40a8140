"""Reserved for issue 13 (Cal.com API v2 parity): its schema changes go here.

Revisions 0003-0007 were laid out as one chain up front, so that the issues worked on side by side
each own one file and the chain stays linear; a revision still empty at the end is removed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:30:00
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
