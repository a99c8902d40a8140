"""Fixtures for every suite. PostgreSQL and Redis tests skip unless their URLs are set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.main import create_app
from app.settings import Settings
from support import make_settings, postgres_database, prepare_database


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh, migrated SQLite file holding the demo host."""
    settings = make_settings(tmp_path)
    prepare_database(settings.database_url)
    return settings


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database with the demo host."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set (`make test` sets it when PostgreSQL answers)")
    with postgres_database() as url:
        prepare_database(url)
        yield url


@pytest.fixture
def pg_empty_url() -> Iterator[str]:
    """A fresh PostgreSQL database with nothing in it (for migration tests)."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set (`make test` sets it when PostgreSQL answers)")
    with postgres_database() as url:
        yield url


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set (`make test` sets it when Redis answers)")
    return url


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    """Every test starts and ends on the real clock, whatever a test before it moved."""
    from datetime import timedelta

    from app import clock

    clock.set_offset(timedelta(0))
    yield
    clock.set_offset(timedelta(0))
