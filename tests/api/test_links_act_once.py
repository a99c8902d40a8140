"""A signed link acts exactly once, however many requests carry it at the same moment.

Twenty requests with one token, through several server processes (SQLite and PostgreSQL): one
of them changes the booking, records one event and so causes one set of notifications; every
other one gets the answer a later visitor gets ("already cancelled", "moved", "changed").
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.bookings.tokens import make_token
from app.db.models import CANCELLED, CONFIRMED, DECLINED, PENDING, RESCHEDULED, Booking
from app.db.models import OutboxMessage as Outbox
from app.notify.events import EVENT_KIND
from app.notify.timed import is_timed
from app.settings import Settings
from support import (
    booking_body,
    demo_slot,
    expand_outbox,
    live_server,
    make_settings,
    next_weekday,
    with_session,
)

pytestmark = pytest.mark.xdist_group("servers")

BASE = "/api/public/scheduling"
RACERS = 20
PROCESSES = 3


@contextmanager
def servers(settings: Settings) -> Iterator[list[str]]:
    """Three server processes on one database: one for SQLite (it forks), three for PostgreSQL."""
    with ExitStack() as stack:
        if settings.is_sqlite:
            url = stack.enter_context(live_server(settings, workers=PROCESSES))
            yield [url] * PROCESSES
        else:
            yield [stack.enter_context(live_server(settings)) for _ in range(PROCESSES)]


def book(url: str, event: str = "30min", hour: int = 10) -> dict[str, Any]:
    minutes = 15 if event == "intro" else 30
    slot = demo_slot(next_weekday(4), hour, minutes=minutes)
    body = booking_body(*slot, customFields={"company": "Acme"})
    response = httpx.post(f"{url}{BASE}/demo/{event}/book", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return dict(response.json())


def booking_row(database_url: str, uid: str) -> Booking:
    async def work(session: Any) -> Booking:
        return (await session.scalars(select(Booking).where(Booking.uid == uid))).one()

    return with_session(database_url, work)  # type: ignore[no-any-return]


def events_of(database_url: str, uid: str) -> list[str]:
    """The triggers its changes recorded for one booking, in order (BOOKING_CREATED first),
    without the time-driven events planned for it (meeting start and end)."""

    async def work(session: Any) -> list[str]:
        query = select(Outbox).where(Outbox.kind == EVENT_KIND, Outbox.booking_uid == uid)
        rows = await session.scalars(query.order_by(Outbox.id))
        return [m.payload["trigger"] for m in rows if not is_timed(m.payload)]

    return with_session(database_url, work)  # type: ignore[no-any-return]


def emails_about(settings: Settings, uid: str) -> list[tuple[str, str]]:
    """(recipient, trigger) of every email queued for the booking, once its events are expanded."""
    expand_outbox(settings)

    async def work(session: Any) -> list[tuple[str, str]]:
        query = select(Outbox).where(Outbox.kind == "email", Outbox.booking_uid == uid)
        return [(m.payload["to"], m.payload["trigger"]) for m in await session.scalars(query)]

    return with_session(settings.database_url, work)  # type: ignore[no-any-return]


async def race(requests: list[tuple[str, str, dict[str, Any]]]) -> list[httpx.Response]:
    """Send every (method-kind, url, payload) at once, each on its own connection."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        def send(kind: str, url: str, payload: dict[str, Any]) -> Any:
            if kind == "json":
                return client.post(url, json=payload)
            origin = url.split("/booking/", 1)[0]
            return client.post(url, data=payload, headers={"Origin": origin})

        return list(await asyncio.gather(*(send(*request) for request in requests)))


def successes(responses: list[httpx.Response]) -> list[httpx.Response]:
    return [r for r in responses if r.status_code in (200, 201)]


def assert_losers_told(responses: list[httpx.Response], says: str) -> None:
    """Every loser gets 409 and the message a later visitor gets, never a 5xx or a false yes."""
    for response in responses:
        if response.status_code in (200, 201):
            continue
        assert response.status_code == 409, (response.status_code, response.text[:300])
        text = (
            response.json()["error"]
            if response.headers["content-type"].startswith("application/json")
            else response.text
        )
        assert says in text, text[:500]


@pytest.fixture(params=["sqlite", "postgresql"])
def race_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        return request.getfixturevalue("settings")  # type: ignore[no-any-return]
    return make_settings(tmp_path, database_url=request.getfixturevalue("pg_url"))


def test_twenty_reschedules_with_one_token_move_the_booking_once(race_settings: Settings):
    with servers(race_settings) as urls:
        created = book(urls[0])
        token = created["rescheduleToken"]
        days = [next_weekday(5)]
        days.append(next_weekday(1, today=days[0]))
        requests = []
        for i in range(RACERS):  # twenty different times over two days
            start, end = demo_slot(days[i % 2], 9 + i // 4, 30 * ((i // 2) % 2))
            url = f"{urls[i % PROCESSES]}{BASE}/bookings/{token}/reschedule"
            requests.append(("json", url, {"startTime": start, "endTime": end}))
        responses = asyncio.run(race(requests))

    won = successes(responses)
    assert len(won) == 1, Counter(r.status_code for r in responses)
    assert_losers_told(responses, "moved to another time")
    old = booking_row(race_settings.database_url, created["id"])
    new_uid = won[0].json()["id"]
    assert old.status == RESCHEDULED and old.rescheduled_to_uid == new_uid
    assert booking_row(race_settings.database_url, new_uid).status == CONFIRMED
    assert events_of(race_settings.database_url, new_uid) == ["BOOKING_RESCHEDULED"]
    assert events_of(race_settings.database_url, created["id"]) == ["BOOKING_CREATED"]


def test_twenty_cancels_json_and_form_with_one_token_cancel_once(race_settings: Settings):
    with servers(race_settings) as urls:
        created = book(urls[0])
        token = created["cancelToken"]
        requests = []
        for i in range(RACERS):
            base = urls[i % PROCESSES]
            if i % 2:
                requests.append(("json", f"{base}{BASE}/bookings/{token}/cancel", {}))
            else:
                requests.append(("form", f"{base}/booking/{token}/cancel", {"reason": f"r{i}"}))
        responses = asyncio.run(race(requests))

    assert len(successes(responses)) == 1, Counter(r.status_code for r in responses)
    assert_losers_told(responses, "already been cancelled")
    assert booking_row(race_settings.database_url, created["id"]).status == CANCELLED
    uid = created["id"]
    assert events_of(race_settings.database_url, uid) == ["BOOKING_CREATED", "BOOKING_CANCELLED"]
    cancelled = [e for e in emails_about(race_settings, uid) if e[1] == "BOOKING_CANCELLED"]
    assert sorted(cancelled) == sorted(
        [("alex@example.com", "BOOKING_CANCELLED"), ("demo@example.com", "BOOKING_CANCELLED")]
    )


def test_confirm_decline_and_cancel_racing_on_a_pending_booking_do_one_thing(
    race_settings: Settings,
):
    with servers(race_settings) as urls:
        created = book(urls[0], "intro", hour=11)
        pending = booking_row(race_settings.database_url, created["id"])
        assert pending.status == PENDING
        tokens = {p: make_token(race_settings, p, pending) for p in ("confirm", "decline")}
        requests = []
        for i in range(15):
            base = urls[i % PROCESSES]
            kind = ("confirm", "decline", "cancel")[i % 3]
            if kind == "cancel":
                url = f"{base}{BASE}/bookings/{created['cancelToken']}/cancel"
                requests.append(("json", url, {}))
            else:
                url = f"{base}/booking/{tokens[kind]}/{kind}"
                requests.append(("form", url, {"reason": "busy"}))
        responses = asyncio.run(race(requests))

    won = successes(responses)
    assert len(won) == 1, Counter(r.status_code for r in responses)
    winner = requests[responses.index(won[0])]
    final = booking_row(race_settings.database_url, created["id"]).status
    expected = {"confirm": CONFIRMED, "decline": DECLINED, "cancel": CANCELLED}
    kind = "cancel" if "/api/" in winner[1] else winner[1].rsplit("/", 1)[1]
    assert final == expected[kind]
    trigger = {"confirm": "BOOKING_CONFIRMED", "decline": "BOOKING_DECLINED"}
    assert events_of(race_settings.database_url, created["id"]) == [
        "BOOKING_REQUESTED",
        trigger.get(kind, "BOOKING_CANCELLED"),
    ]
    for response in responses:
        if response not in won:
            assert response.status_code == 409, (response.status_code, response.text[:300])
