"""Run Alembic from code, so ``booking migrate`` needs no ini file or working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str, secret_keys: tuple[str, ...] = ()) -> Config:
    """``secret_keys`` reach migrations that seal or open stored secrets (0003)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["secret_keys"] = secret_keys
    return config


def upgrade(database_url: str, revision: str = "head", secret_keys: tuple[str, ...] = ()) -> None:
    command.upgrade(alembic_config(database_url, secret_keys), revision)


def downgrade(database_url: str, revision: str, secret_keys: tuple[str, ...] = ()) -> None:
    command.downgrade(alembic_config(database_url, secret_keys), revision)
