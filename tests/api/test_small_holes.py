"""The smaller holes: a cost cap and a rate limit on slot reads, Origin checks on link pages,
no-store on pages with guest data or tokens, tokens kept out of the logs, a private SQLite file,
and API keys that can be revoked."""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import host_api_support
import httpx
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import text

from app.bookings.service import MAX_SLOTS_PER_ANSWER
from app.cli import main as cli
from app.db.session import create_engine
from app.main import create_app
from app.scheduling import Availability, Interval, SlotRules, WeeklyRule, free_slots
from app.settings import ROOT
from app.web.log_scrub import scrub
from support import (
    book,
    demo_slot,
    free_port,
    next_weekday,
    prepare_database,
    run,
    with_session,
)

API = "/api/public/scheduling"
demo_headers = host_api_support.demo_headers


# Slot reads: a cap on what one answer may cost, and a generous rate limit -------------------


def test_the_slot_engine_stops_at_the_cap():
    always = Availability("UTC", tuple(WeeklyRule(d, 0, 1440) for d in range(7)))
    start = datetime(2030, 1, 1, tzinfo=UTC)
    window = Interval(start, start + timedelta(days=62))
    now = start - timedelta(days=1)
    slots = free_slots(always, SlotRules(duration_minutes=1), window, now, max_slots=1001)
    assert len(slots) == 1001 and slots[0].start == start
    assert slots == free_slots(always, SlotRules(duration_minutes=1), window, now)[:1001]


def one_minute_event_type(client, headers) -> None:
    body = {"title": "Quick", "slug": "quick", "lengthInMinutes": 1}
    assert client.post("/v2/event-types", json=body, headers=headers).status_code == 201


def test_a_range_holding_too_many_slots_is_refused_with_a_clear_400(client, demo_headers):
    one_minute_event_type(client, demo_headers)
    first = next_weekday(3)
    long_range = {
        "dateFrom": first.isoformat(),
        "dateTo": (first + timedelta(days=61)).isoformat(),
        "timezone": "UTC",
    }
    refused = client.get(f"{API}/demo/quick/slots", params=long_range)
    assert refused.status_code == 400
    assert refused.json() == {
        "error": f"This range holds more than {MAX_SLOTS_PER_ANSWER:,} times: "
        "ask for fewer days at once."
    }
    one_day = {**long_range, "dateTo": first.isoformat()}
    assert (
        sum(len(d["slots"]) for d in client.get(f"{API}/demo/quick/slots", params=one_day).json())
        == 480
    )
    v2 = client.get(
        "/v2/slots",
        params={
            "start": long_range["dateFrom"],
            "end": long_range["dateTo"],
            "eventTypeSlug": "quick",
            "username": "demo",
        },
        headers=demo_headers,
    )
    assert v2.status_code == 400 and v2.json()["message"].startswith("This range holds more")
    assert client.get("/demo/quick").status_code == 200  # the widget's month is never refused


def test_slot_reads_have_their_own_generous_limit(settings):
    limited = dataclasses.replace(settings, slot_rate_limit="5/minute", book_rate_limit="2/minute")
    day = next_weekday().isoformat()
    params = {"dateFrom": day, "dateTo": day, "timezone": "UTC"}
    with TestClient(app=create_app(limited)) as client:
        codes = [client.get(f"{API}/demo/30min/slots", params=params).status_code for _ in range(3)]
        codes += [client.get("/demo/30min/slots", params={"date": day}).status_code]
        codes += [client.get("/demo/30min").status_code]
        assert codes == [200] * 5
        assert client.get(f"{API}/demo/30min/slots", params=params).status_code == 429
        assert client.get("/demo/30min").status_code == 429
        assert client.get(f"{API}/demo").status_code == 200  # the profile is no slot read
        book(client)  # bookings count on their own limit
        assert client.post(f"{API}/demo/30min/book", json={}).status_code == 400
        assert client.post(f"{API}/demo/30min/book", json={}).status_code == 429


# Link pages ------------------------------------------------------------------------------------


def test_link_page_posts_from_another_site_are_refused(client, settings):
    created = book(client)
    cancel = f"/booking/{created['cancelToken']}/cancel"
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        refused = client.post(cancel, data={"reason": "x"}, headers=headers)
        assert refused.status_code == 403, headers
        assert "only be sent from its own page" in refused.text

    async def status(session):
        return (await session.execute(text("SELECT status FROM bookings"))).scalar_one()

    assert with_session(settings.database_url, status) == "Confirmed"
    done = client.post(cancel, data={}, headers={"Origin": "http://testserver"})
    assert done.status_code == 200 and "has been cancelled" in done.text


def test_pages_and_answers_with_guest_data_or_tokens_are_not_stored(client, demo_headers):
    created = book(client)
    token = created["cancelToken"]
    no_store = [
        client.post(f"{API}/demo/30min/book", json={}),  # even its errors
        client.get(f"/booking/{token}/cancel"),
        client.get(f"/booking/{created['rescheduleToken']}/reschedule"),
        client.get(created["rescheduleUrl"].replace("http://testserver", "")),
        client.get("/demo/30min"),
        client.get("/v2/bookings", headers=demo_headers),
        client.post(f"{API}/bookings/{token}/cancel", json={}),
    ]
    for response in no_store:
        assert response.headers.get("cache-control") == "no-store", response.url
    start, _ = demo_slot(hour=11)
    # (With the zone in the address: without it the page first asks the browser for it.)
    form = client.get("/demo/30min/form", params={"start": start, "tz": "Europe/Berlin"}).text
    token = re.search(r'name="formToken" value="([^"]+)"', form).group(1)
    fields = {
        "startTime": start,
        "formToken": token,
        "inviteeName": "Kim",
        "inviteeEmail": "k@example.com",
    }
    booked = client.post("/demo/30min/book", data=fields, follow_redirects=False)
    assert booked.status_code == 303 and booked.headers["cache-control"] == "no-store"
    confirmation = client.get(booked.headers["location"])
    assert confirmation.status_code == 200 and "k@example.com" in confirmation.text
    assert confirmation.headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/static/widget.css").headers.get("cache-control", "")


# Logs ------------------------------------------------------------------------------------------


def test_scrub_removes_every_kind_of_token():
    line = (
        '127.0.0.1:5 - "POST /booking/eyJiIjoi.abc-DEF_1/cancel HTTP/1.1" 200 '
        "/api/public/scheduling/bookings/eyJ9.x/reschedule /demo/30min?reschedule=eyJ.y&tz=UTC "
        "/demo/30min/confirmation?booking=Zm9v.bar /console/sign-in/eyJoIjox.axYK.seCv HTTP"
    )
    assert scrub(line) == (
        '127.0.0.1:5 - "POST /booking/…/cancel HTTP/1.1" 200 '
        "/api/public/scheduling/bookings/…/reschedule /demo/30min?reschedule=…&tz=UTC "
        "/demo/30min/confirmation?booking=… /console/sign-in/… HTTP"
    )


def test_booking_serve_writes_no_link_token_to_its_access_log(settings, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "VAR_DIR": str(settings.var_dir),
        "DATABASE_URL": settings.database_url,
        "SECRET_KEYS": ",".join(settings.secret_keys),
        "RUN_WORKER": "0",
    }
    log = (tmp_path / "serve.log").open("w")
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
        with httpx.Client(base_url=base) as client:
            created = book(client)
            token = created["cancelToken"]
            assert client.get(f"/booking/{token}/cancel").status_code == 200
            assert (
                client.get(f"/demo/30min?reschedule={created['rescheduleToken']}").status_code
                == 200
            )
            assert client.post(f"{API}/bookings/{token}/cancel", json={}).status_code == 200
            assert client.post(f"/booking/{token}/cancel", data={}).status_code == 409
    finally:
        server.terminate()
        server.wait(10)
        log.close()
    written = (tmp_path / "serve.log").read_text()
    assert "GET /booking/…/cancel" in written and f"{API}/bookings/…/cancel" in written
    assert token not in written and created["rescheduleToken"] not in written


# The SQLite file ------------------------------------------------------------------------------


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "new" / "booking.db"

    async def touch() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        await engine.dispose()

    old = os.umask(0o022)
    try:
        run(touch())
    finally:
        os.umask(old)
    for name in ("booking.db", "booking.db-wal", "booking.db-shm"):
        if (path.parent / name).exists():
            assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name
    prepare_database(f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}")
    assert stat.S_IMODE((tmp_path / "migrated.db").stat().st_mode) == 0o600


# API keys -------------------------------------------------------------------------------------


def cli_run(settings, *args):
    env = {"VAR_DIR": str(settings.var_dir), "DATABASE_URL": settings.database_url}
    return CliRunner().invoke(cli, list(args), env=env)


def test_revoke_api_key_stops_the_key_at_once(settings):
    first = cli_run(settings, "create-api-key", "demo").output.strip().splitlines()[-1]
    second = cli_run(settings, "create-api-key", "demo").output.strip().splitlines()[-1]
    with TestClient(app=create_app(settings)) as client:
        me = "/v2/me"
        assert client.get(me, headers=host_api_support.auth(first)).status_code == 200
        revoked = cli_run(settings, "revoke-api-key", "demo", first[:10])
        assert revoked.exit_code == 0 and f"API key {first[:10]}… of demo revoked" in revoked.output
        assert client.get(me, headers=host_api_support.auth(first)).status_code == 401
        assert client.get(me, headers=host_api_support.auth(second)).status_code == 200
        by_whole_key = cli_run(settings, "revoke-api-key", "demo", second)
        assert by_whole_key.exit_code == 0
        assert client.get(me, headers=host_api_support.auth(second)).status_code == 401
    again = cli_run(settings, "revoke-api-key", "demo", first[:10])
    assert again.exit_code == 1 and "demo has no such API key" in again.output
    assert cli_run(settings, "revoke-api-key", "demo", "bk_").exit_code == 1
    assert cli_run(settings, "revoke-api-key", "nobody", first).exit_code == 1
