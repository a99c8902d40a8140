"""Issue 9 (trust under pressure): webhook secrets sealed at rest; outbox leases have owners.

``outbox.locked_by`` names the worker holding a row's lease, so that a worker renews (heartbeat)
and, when it stops, gives back only its own rows.

``webhooks.secret`` now holds the secret sealed with ``app.crypto`` (a Fernet token derived from
``SECRET_KEYS``), so it becomes TEXT (a sealed 200-character secret is ~360 characters), and
``webhooks.secret_hint`` keeps its last four characters for answers that show which secret is set.

Secrets already stored in plaintext are sealed here, in place: ``booking migrate`` passes the
server's ``SECRET_KEYS``. Without keys (a bare ``alembic upgrade``) a database holding secrets
refuses to upgrade rather than keep them readable or lose them. The downgrade opens them again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from app.crypto import seal, unseal

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

webhooks = sa.table(
    "webhooks",
    sa.column("id", sa.Integer),
    sa.column("secret", sa.Text),
    sa.column("secret_hint", sa.String),
)


def _keys(action: str) -> tuple[str, ...]:
    keys = tuple(context.config.attributes.get("secret_keys") or ())
    if not keys:
        raise RuntimeError(
            f"migration 0003 must {action} webhook secrets with SECRET_KEYS: "
            "run `booking migrate` with the server's SECRET_KEYS"
        )
    return keys


def _rewrite(change: str) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(webhooks.c.id, webhooks.c.secret).where(webhooks.c.secret != "")
    ).all()
    if not rows:
        return
    keys = _keys(change)
    for webhook_id, secret in rows:
        if change == "seal":
            hint = secret[-4:] if len(secret) >= 12 else ""
            values = {"secret": seal(keys, secret), "secret_hint": hint}
        else:
            values = {"secret": unseal(keys, secret)}
        connection.execute(webhooks.update().where(webhooks.c.id == webhook_id).values(**values))


def upgrade() -> None:
    op.add_column(
        "webhooks", sa.Column("secret_hint", sa.String(length=8), nullable=False, server_default="")
    )
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not enforce VARCHAR lengths
        op.alter_column("webhooks", "secret", type_=sa.Text(), existing_nullable=False)
    _rewrite("seal")
    op.add_column(
        "outbox", sa.Column("locked_by", sa.String(length=64), nullable=False, server_default="")
    )


def downgrade() -> None:
    op.drop_column("outbox", "locked_by")
    _rewrite("unseal")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("webhooks", "secret", type_=sa.String(length=200), existing_nullable=False)
    op.drop_column("webhooks", "secret_hint")
