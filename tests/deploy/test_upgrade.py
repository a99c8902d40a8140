"""Upgrading keeps everything: a database made by the first release, with bookings in it, is
migrated to the newest revision on SQLite and PostgreSQL, and nothing is lost.

The rows are written at revision 0001 with that revision's columns only (the models have moved on
since), then every one of them is read back after ``upgrade head``, column by column. New
revisions may add tables and columns freely; a revision that rewrites existing values on purpose
is listed in ``REWRITTEN`` with its reason. The upgraded database must then work: the first
release's API key still signs in, its bookings are listed, still hold their time (the database's
own guard against double booking survives), and can be cancelled by their links.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from sqlalchemy.exc import IntegrityError

from app.bookings.errors import SLOT_TAKEN
from app.bookings.service import OVERLAP_MARKERS
from app.bookings.tokens import make_token
from app.crypto import unseal
from app.db.migrate import upgrade
from app.db.models import Base
from app.db.session import create_engine
from app.hosts.service import hash_key
from app.main import create_app
from support import SECRET, make_settings, next_weekday, postgres_database, run

pytestmark = pytest.mark.xdist_group("servers")

FIRST = "0001"
# Values later revisions change on purpose; everything else must come through unchanged.
REWRITTEN = {
    "webhooks": {"secret"},  # 0003: webhook secrets are sealed at rest
    "event_types": {"location_type", "location_value", "phone_mode"},  # 0006: new location kinds
}
API_KEY = "bk_first-release-key-0123456789abcdefghijklmnopqrstuvwxyz"
MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime.now(UTC).replace(microsecond=0)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MADRID).astimezone(UTC)


DAY = next_weekday(10)
MEETINGS = {  # id: (start, minutes, status)
    1: (at(DAY, 10), 45, "Confirmed"),
    2: (at(DAY, 12), 45, "PendingApproval"),
    3: (at(DAY, 14), 45, "Cancelled"),
    4: (at(DAY, 15), 45, "Rescheduled"),
    5: (at(DAY, 16), 45, "Confirmed"),  # where 4 went
    6: (at(DAY - timedelta(days=30), 9), 45, "Confirmed"),  # in the past
}


def first_release_rows() -> dict[str, list[dict[str, Any]]]:
    """What a host of the first release had: written with revision 0001's columns."""
    created = {"created_at": NOW - timedelta(days=40)}
    stamps = {**created, "updated_at": NOW - timedelta(days=39)}
    bookings = []
    for id_, (start, minutes, status) in MEETINGS.items():
        end = start + timedelta(minutes=minutes)
        bookings.append(
            {
                "id": id_,
                "uid": f"bkg_first{id_}",
                "host_id": 1,
                "event_type_id": 1,
                "start": start,
                "end": end,
                "held_start": start - timedelta(minutes=5),
                "held_end": end + timedelta(minutes=10),
                "status": status,
                "version": 2 if status in ("Cancelled", "Rescheduled") else 1,
                "sequence": 0,
                "invitee_name": f"Zoë Ñúñez {id_}",
                "invitee_email": f"guest{id_}@example.com",
                "invitee_phone": "+34 600 000 00" + str(id_),
                "invitee_timezone": "America/Mexico_City",
                "invitee_locale": "es-MX",
                "custom_fields": {"company": "Café Ñ", "size": id_},
                "notes": "Traigo preguntas.\nDos líneas.",
                "source": "WIDGET",
                "guests": ["amigo@example.com"],
                "metadata": {"utm_source": "newsletter"},
                "cancellation_reason": "Ya no puedo" if status == "Cancelled" else "",
                "rescheduling_reason": "Mejor más tarde" if status == "Rescheduled" else "",
                "decline_reason": "",
                "rescheduled_from_uid": "bkg_first4" if id_ == 5 else None,
                "rescheduled_to_uid": "bkg_first5" if id_ == 4 else None,
                **stamps,
            }
        )
    return {
        "hosts": [
            {
                "id": 1,
                "slug": "ana",
                "name": "Ana Ortiz",
                "email": "ana@example.com",
                "timezone": "Europe/Madrid",
                "locale": "es",
                "brand_color": "#0f766e",
                "avatar_url": "https://example.com/ana.png",
                "welcome_text": "¡Hola! Elige una hora.",
                "embed_origins": ["https://shop.example.com"],
                "captcha_enabled": False,
                **created,
            }
        ],
        "schedules": [
            {
                "id": 1,
                "host_id": 1,
                "name": "Horario",
                "timezone": "Europe/Madrid",
                "is_default": True,
                **stamps,
            }
        ],
        "schedule_intervals": [
            {"id": d + 1, "schedule_id": 1, "weekday": d, "start_minute": 540, "end_minute": 1080}
            for d in range(5)
        ],
        "schedule_overrides": [
            {
                "id": 1,
                "schedule_id": 1,
                "day": DAY + timedelta(days=1),
                "start_minute": None,
                "end_minute": None,
            },
            {
                "id": 2,
                "schedule_id": 1,
                "day": DAY + timedelta(days=2),
                "start_minute": 600,
                "end_minute": 720,
            },
        ],
        "event_types": [
            {
                "id": 1,
                "public_id": "evt_first1",
                "host_id": 1,
                "schedule_id": 1,
                "slug": "consulta",
                "title": "Consulta",
                "description": "45 minutos.",
                "duration_minutes": 45,
                "slot_interval_minutes": 15,
                "buffer_before_minutes": 5,
                "buffer_after_minutes": 10,
                "min_notice_minutes": 60,
                "booking_window_days": 60,
                "max_per_day": 6,
                "requires_approval": False,
                "location_type": "Phone",
                "location_value": "Te llamamos.",
                "phone_mode": "optional",
                "questions": [
                    {
                        "key": "company",
                        "label": "Empresa",
                        "type": "text",
                        "required": True,
                        "options": [],
                    }
                ],
                "active": True,
                "hidden": False,
                **stamps,
            }
        ],
        "bookings": bookings,
        "api_keys": [
            {
                "id": 1,
                "host_id": 1,
                "key_hash": hash_key(API_KEY),
                "prefix": API_KEY[:10],
                **created,
                "last_used_at": None,
            }
        ],
        "webhooks": [
            {
                "id": 1,
                "host_id": 1,
                "subscriber_url": "https://hooks.example.com/booking",
                "triggers": ["BOOKING_CREATED", "BOOKING_CANCELLED"],
                "secret": "whsec_first_release_secret",
                "active": True,
                **stamps,
            }
        ],
        "outbox": [
            {
                "id": 1,
                "message_id": "first-email-1",
                "kind": "email",
                "booking_uid": "bkg_first1",
                "payload": {"to": "guest1@example.com", "subject": "Confirmada"},
                "attempts": 1,
                "last_error": "",
                "available_at": NOW - timedelta(days=40),
                "locked_until": None,
                "delivered_at": NOW - timedelta(days=40),
                "failed_at": None,
                **created,
            },
            {
                "id": 2,
                "message_id": "first-event-5",
                "kind": "booking_event",
                "booking_uid": "bkg_first5",
                "payload": {"event": "rescheduled", "version": 1},
                "attempts": 0,
                "last_error": "",
                "available_at": NOW + timedelta(days=1),
                "locked_until": None,
                "delivered_at": None,
                "failed_at": None,
                **created,
            },
        ],
        "used_nonces": [{"key": "form:first", "expires_at": NOW + timedelta(days=1)}],
    }


def typed_table(connection: sa.Connection, name: str) -> sa.Table:
    """The table as it is in this database, read with the app's column types (so instants and
    JSON are stored and read as the app does)."""
    reflected = sa.Table(name, sa.MetaData(), autoload_with=connection)
    model = Base.metadata.tables.get(name)
    columns = [
        sa.Column(
            c.name,
            model.c[c.name].type if model is not None and c.name in model.c else c.type,
            primary_key=c.primary_key,
        )
        for c in reflected.columns
    ]
    return sa.Table(name, sa.MetaData(), *columns)


def read_rows(connection: sa.Connection, names: list[str]) -> dict[str, dict[Any, dict[str, Any]]]:
    rows: dict[str, dict[Any, dict[str, Any]]] = {}
    for name in names:
        table = typed_table(connection, name)
        (key,) = table.primary_key.columns
        rows[name] = {r[key.name]: dict(r) for r in connection.execute(sa.select(table)).mappings()}
    return rows


def with_connection(url: str, work: Any) -> Any:
    async def go() -> Any:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return run(go())


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'first.db'}"
        return
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set (CI sets it; see .ci/run)")
    with postgres_database() as url:
        yield url


def test_a_first_release_database_upgrades_to_the_newest_with_nothing_lost(
    empty_database: str, tmp_path: Path
):
    url = empty_database
    upgrade(url, FIRST)
    seeded = first_release_rows()

    def seed(connection: sa.Connection) -> dict[str, dict[Any, dict[str, Any]]]:
        for name, rows in seeded.items():
            connection.execute(sa.insert(typed_table(connection, name)), rows)
        if connection.dialect.name == "postgresql":  # ids were given: move the sequences on
            for name, rows in seeded.items():
                if "id" in rows[0]:
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {len(rows)})"
                    )
        return read_rows(connection, list(seeded))

    before = with_connection(url, seed)
    assert sum(len(rows) for rows in before.values()) == sum(len(r) for r in seeded.values())

    upgrade(url, secret_keys=(SECRET,))  # to the newest revision, as `booking migrate` does

    after = with_connection(url, lambda c: read_rows(c, list(seeded)))
    for name, rows in before.items():
        assert after[name].keys() == rows.keys(), f"{name}: rows lost or added"
        for key, row in rows.items():
            kept = {c: v for c, v in row.items() if c not in REWRITTEN.get(name, set())}
            assert {c: after[name][key][c] for c in kept} == kept, f"{name} {key} changed"
    assert unseal((SECRET,), after["webhooks"][1]["secret"]) == seeded["webhooks"][0]["secret"]

    def clone_held_booking(connection: sa.Connection) -> None:
        table = typed_table(connection, "bookings")
        row = dict(connection.execute(sa.select(table).where(table.c.id == 1)).mappings().one())
        connection.execute(sa.insert(table), {**row, "id": 99, "uid": "bkg_clone"})

    with pytest.raises(IntegrityError) as refused:  # the database still refuses a 2nd holder
        with_connection(url, clone_held_booking)
    assert any(marker in str(refused.value.orig) for marker in OVERLAP_MARKERS)

    the_upgraded_database_serves_the_first_release_data(url, tmp_path)


def the_upgraded_database_serves_the_first_release_data(url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=url)
    key = {"Authorization": f"Bearer {API_KEY}"}
    with TestClient(app=create_app(settings)) as client:
        me = client.get("/v2/me", headers=key)
        assert me.status_code == 200, me.text
        assert me.json()["data"]["username"] == "ana"
        listed = client.get("/v2/bookings", params={"take": 50}, headers=key)
        assert listed.status_code == 200, listed.text
        uids = {b["uid"] for b in listed.json()["data"]}
        assert uids == {f"bkg_first{i}" for i in MEETINGS}

        taken = MEETINGS[1][0]
        body = {
            "endTime": "",
            "inviteeName": "Late Comer",
            "inviteeEmail": "late@example.com",
            "inviteeTimezone": "UTC",
            # Its "Phone" location is a phone call since 0006: the host calls, so a number is due.
            "inviteePhone": "+34 600 000 000",
            "customFields": {"company": "X"},
        }

        def book(start: datetime) -> tuple[int, Any]:
            end = start + timedelta(minutes=45)
            z = "%Y-%m-%dT%H:%M:%SZ"
            payload = {**body, "startTime": start.strftime(z), "endTime": end.strftime(z)}
            response = client.post("/api/public/scheduling/ana/consulta/book", json=payload)
            return response.status_code, response.json()

        # Still held by the first release's booking; the time after it is free.
        assert book(taken) == (400, {"error": SLOT_TAKEN})
        assert book(at(DAY, 11))[0] == 201

    async def old_booking() -> Any:
        from sqlalchemy.orm import selectinload

        from app.db.models import Booking
        from app.db.session import create_sessionmaker

        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as session:
                query = sa.select(Booking).options(selectinload(Booking.event_type))
                return (await session.scalars(query.where(Booking.id == 1))).one()
        finally:
            await engine.dispose()

    token = make_token(settings, "cancel", run(old_booking()))
    with TestClient(app=create_app(settings)) as client:
        cancelled = client.post(f"/api/public/scheduling/bookings/{token}/cancel", json={})
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"].lower() == "cancelled"
