"""A sweep of malformed inputs over the public API, the widget, the link pages and /v2, on SQLite
and on PostgreSQL: every one gets an answer below 500 (a clear 4xx, or the page it asked for).

Years 0001 and 9999 wherever a date or time goes, JSON nested thousands deep, NUL bytes in paths,
queries, bodies and JSON keys (PostgreSQL refuses them in text), control characters in one-line
fields, wrong types, huge numbers, and bodies that are not what they claim to be.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import host_api_support
import pytest
from litestar.testing import TestClient

from app.hosts.service import create_api_key
from app.main import create_app
from app.notify.email import build_message
from support import book, booking_body, demo_slot, make_settings, with_session

API = "/api/public/scheduling"
FAR = ("0001-01-01", "9999-12-31", "9999-12-01", "0001-01-02", "0000-01-01", "10000-01-01")
INSTANTS = (
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:30:00Z",
    "2026-02-30T10:00:00Z",
    "2026-01-01T10:00:00\x00Z",
    "",
)
DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
ODD_TEXT = ("a\x00b", "a\r\nBcc: x@example.com", "\x1b[31m", "\ud800", "a" * 100_000, "")


def public_requests(tokens: dict[str, str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for day in FAR:
        yield "GET", f"{API}/demo/30min/slots", {"params": sweep_range(day)}
        yield "GET", f"{API}/demo/30min/slots", {"params": sweep_range("2026-12-01", day)}
    for slug in ("%00", "a%00b", "demo%00", "%ff%fe", "..%2f..", "x" * 5000):
        yield "GET", f"{API}/{slug}", {}
        yield "GET", f"{API}/demo/{slug}/slots", {"params": sweep_range("2026-12-01")}
        yield "POST", f"{API}/{slug}/30min/book", {"json": valid_body()}
        yield "POST", f"{API}/bookings/{slug}/cancel", {"json": {}}
    for zone in ("\x00", "Europe/Berlin\x00", "../../etc/passwd", "Nope/Zone", " " * 10):
        yield "GET", f"{API}/demo/30min/slots", {"params": sweep_range("2026-12-01", tz=zone)}
    for instant in INSTANTS:
        yield "POST", f"{API}/demo/30min/book", {"json": valid_body(startTime=instant)}
        yield "POST", f"{API}/demo/30min/book", {"json": valid_body(endTime=instant)}
        reschedule = {"startTime": instant, "endTime": instant}
        yield "POST", f"{API}/bookings/{tokens['reschedule']}/reschedule", {"json": reschedule}
    for text in ODD_TEXT:
        for field in ("inviteeName", "inviteeEmail", "inviteeTimezone", "inviteeLocale"):
            yield "POST", f"{API}/demo/30min/book", {"json": valid_body(**{field: text})}
        yield "POST", f"{API}/demo/30min/book", {"json": valid_body(inviteePhone=text)}
        yield "POST", f"{API}/demo/30min/book", {"json": valid_body(customFields={text: "x"})}
        yield "POST", f"{API}/demo/30min/book", {"json": valid_body(customFields={"k": text})}
    for raw in (DEEP, DEEP_OBJECT, '{"startTime": 1e999}', "\x00", "{", "[]", "null", '"x"'):
        yield "POST", f"{API}/demo/30min/book", {"content": raw, "headers": JSON}
    yield "POST", f"{API}/demo/30min/book", {"content": b"\xff\xfe{", "headers": JSON}
    deep_fields = json.dumps(valid_body(customFields=0)).replace(
        '"customFields": 0', f'"customFields": {{"k": {DEEP}}}'
    )
    yield "POST", f"{API}/demo/30min/book", {"content": deep_fields, "headers": JSON}
    yield "POST", f"{API}/demo/30min/book", {"json": valid_body(customFields=[1, 2])}
    yield "POST", f"{API}/demo/30min/book", {"json": valid_body(inviteeName=12345)}
    yield "POST", f"{API}/demo/30min/book", {"json": valid_body(startTime=10**30)}
    yield "POST", f"{API}/demo/30min/book?utm_source=a%00b", {"json": valid_body()}
    yield "POST", f"{API}/demo/30min/book?utm_%00=x", {"json": valid_body()}
    yield (
        "POST",
        f"{API}/bookings/{tokens['cancel']}/cancel",
        {"json": {"cancellationReason": DEEP}},
    )
    yield "POST", f"{API}/bookings/{tokens['cancel']}/cancel", {"content": DEEP, "headers": JSON}


def widget_requests(tokens: dict[str, str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for day in FAR:
        yield "GET", "/demo/30min", {"params": {"date": day}}
        yield "GET", "/demo/30min/slots", {"params": {"date": day}, "headers": HTMX}
        yield "GET", "/demo/30min/slots", {"params": {"date": day}}
    for month in ("9999-12", "0001-01", "0000-01", "10000-01", "2026-13", "9999-12\x00"):
        yield "GET", "/demo/30min", {"params": {"month": month}}
        yield "GET", "/demo/30min/calendar", {"params": {"month": month}, "headers": HTMX}
    for instant in INSTANTS:
        yield "GET", "/demo/30min/form", {"params": {"start": instant}}
        yield "GET", "/demo/30min", {"params": {"start": instant, "date": "9999-12-31"}}
        yield "POST", "/demo/30min/book", {"data": {"startTime": instant}, "headers": SAME}
    for text in ("\x00", "Europe/Berlin\x00", "x" * 5000, "a%00b"):
        yield "GET", "/demo/30min", {"params": {"tz": text}}
        yield "GET", "/demo/30min", {"params": {"lang": text, "color": text}}
        yield "GET", "/demo/30min/confirmation", {"params": {"booking": text}}
        yield "GET", "/demo/30min/invite.ics", {"params": {"booking": text}}
        yield "GET", "/demo", {"params": {"utm_source": text, "name": text}}
    for slug in ("%00", "demo%00", "x" * 5000):
        yield "GET", f"/{slug}", {}
        yield "GET", f"/demo/{slug}", {}
    start, _ = demo_slot(hour=15)
    for text in ODD_TEXT[:3]:
        form = {"startTime": start, "inviteeName": text, "inviteeEmail": "a@example.com"}
        yield "POST", "/demo/30min/book", {"data": form, "headers": SAME}
        yield "POST", "/demo/30min/book", {"data": {**form, text: text}, "headers": SAME}
    for path in ("%00", "a%00b", "x" * 5000, tokens["cancel"] + "%00"):
        for action in ("cancel", "reschedule", "confirm", "decline"):
            yield "GET", f"/booking/{path}/{action}", {}
        yield "POST", f"/booking/{path}/cancel", {"data": {}, "headers": SAME}
    yield "POST", f"/booking/{tokens['cancel']}/cancel", {"data": {"reason\x00": "x"}}
    yield "GET", "/brand.css", {"params": {"c": "\x00"}}


def host_api_requests(headers: dict[str, str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for day in FAR:
        params = {"start": day, "end": day, "eventTypeSlug": "30min", "username": "demo"}
        yield "GET", "/v2/slots", {"params": params, "headers": headers}
        params = {"start": "2026-12-01", "end": day, "eventTypeSlug": "30min", "username": "demo"}
        yield "GET", "/v2/slots", {"params": params, "headers": headers}
        yield "GET", "/v2/bookings", {"params": {"afterStart": day}, "headers": headers}
    for instant in INSTANTS:
        body = {"start": instant, "eventTypeSlug": "30min", "username": "demo", "attendee": ATT}
        yield "POST", "/v2/bookings", {"json": body, "headers": headers}
        params = {"start": instant, "end": instant, "eventTypeSlug": "30min", "username": "demo"}
        yield "GET", "/v2/slots", {"params": params, "headers": headers}
    for text in ODD_TEXT:
        attendee = {**ATT, "name": text}
        body = {"start": demo_slot(hour=14)[0], "eventTypeSlug": "30min", "username": "demo"}
        yield "POST", "/v2/bookings", {"json": {**body, "attendee": attendee}, "headers": headers}
        responses = {"bookingFieldsResponses": {text: "x"}, "metadata": {text: text}}
        yield "POST", "/v2/bookings", {"json": {**body, "attendee": ATT, **responses}, **H(headers)}
        yield "POST", "/v2/webhooks", {"json": {"subscriberUrl": text}, "headers": headers}
        event_type = {"title": text, "slug": "s", "lengthInMinutes": 30}
        yield "POST", "/v2/event-types", {"json": event_type, "headers": headers}
        yield "POST", "/v2/schedules", {"json": {"name": text, "timeZone": text}, **H(headers)}
    for path in ("%00", "a%00b", "bkg_%00", "x" * 5000):
        yield "GET", f"/v2/bookings/{path}", {"headers": headers}
        yield "POST", f"/v2/bookings/{path}/cancel", {"json": {}, "headers": headers}
    for raw in (DEEP, DEEP_OBJECT, "\x00", "[]"):
        yield "POST", "/v2/bookings", {"content": raw, "headers": {**headers, **JSON}}
        yield "POST", "/v2/event-types", {"content": raw, "headers": {**headers, **JSON}}
    override = {"date": "9999-12-31", "startTime": "09:00", "endTime": "10:00"}
    schedule = {"name": "far", "timeZone": "UTC", "overrides": [override]}
    yield "POST", "/v2/schedules", {"json": schedule, "headers": headers}
    override = {"date": "0001-01-01", "startTime": "09:00", "endTime": "10:00"}
    yield "POST", "/v2/schedules", {"json": {**schedule, "overrides": [override]}, **H(headers)}
    yield "GET", "/v2/bookings", {"params": {"attendeeEmail": "a\x00b"}, "headers": headers}
    yield "GET", "/v2/bookings", {"params": {"status": "\x00"}, "headers": headers}
    yield "GET", "/v2/me", {"headers": {"Authorization": "Bearer bk_\x00"}}


JSON = {"Content-Type": "application/json"}
HTMX = {"HX-Request": "true"}
SAME = {"Origin": "http://testserver.local"}
ATT = host_api_support.ATTENDEE


def H(headers: dict[str, str]) -> dict[str, Any]:
    return {"headers": headers}


def sweep_range(first: str, last: str | None = None, tz: str = "UTC") -> dict[str, str]:
    return {"dateFrom": first, "dateTo": last or first, "timezone": tz}


def valid_body(**overrides: Any) -> dict[str, Any]:
    start, end = demo_slot(hour=11)
    return booking_body(start, end, **overrides)


def sweep(client: TestClient, requests: Iterator[tuple[str, str, dict[str, Any]]]) -> list[str]:  # type: ignore[type-arg]
    failures, count = [], 0
    for method, url, options in requests:
        count += 1
        if "json" in options:  # as escaped ASCII, so lone surrogates travel as JSON allows
            body = json.dumps(options.pop("json"))
            options = {
                **options,
                "content": body,
                "headers": {**JSON, **options.get("headers", {})},
            }
        response = client.request(method, url, **options)
        if response.status_code >= 500:
            shown = {k: (str(v)[:80]) for k, v in options.items() if k != "headers"}
            failures.append(f"{response.status_code} {method} {url[:80]} {shown}")
    assert count > 50
    return failures


@pytest.fixture(params=["sqlite", "postgresql"])
def sweep_client(request, tmp_path) -> Iterator[TestClient]:  # type: ignore[type-arg]
    if request.param == "postgresql":
        settings = make_settings(tmp_path, database_url=request.getfixturevalue("pg_url"))
    else:
        settings = request.getfixturevalue("settings")
    with TestClient(app=create_app(settings), raise_server_exceptions=False) as client:
        client.app.state.sweep_settings = settings
        yield client


def test_no_malformed_input_reaches_a_500(sweep_client) -> None:
    settings = sweep_client.app.state.sweep_settings
    created = book(sweep_client, hour=9)
    tokens = {"cancel": created["cancelToken"], "reschedule": created["rescheduleToken"]}
    headers = host_api_support.auth(
        with_session(settings.database_url, lambda s: create_api_key(s, "demo"))
    )
    failures = [
        *sweep(sweep_client, public_requests(tokens)),
        *sweep(sweep_client, widget_requests(tokens)),
        *sweep(sweep_client, host_api_requests(headers)),
    ]
    assert failures == [], "\n".join(failures)


def test_far_dates_get_a_clear_400_and_the_widget_shows_this_month(client, demo_headers) -> None:
    far = client.get(f"{API}/demo/30min/slots", params=sweep_range("9999-12-01"))
    assert far.status_code == 400
    assert far.json() == {"error": "dateFrom must be between 1900-01-01 and 9000-12-31."}
    start = valid_body(startTime="0001-01-01T00:00:00+05:00")
    assert client.post(f"{API}/demo/30min/book", json=start).json() == {
        "error": "startTime must be between 1900-01-01 and 9000-12-31."
    }
    params = {"start": "9999-12-01", "end": "9999-12-02", "eventTypeSlug": "30min"}
    v2 = client.get("/v2/slots", params={**params, "username": "demo"}, headers=demo_headers)
    assert v2.status_code == 400 and v2.json()["message"].startswith("start must be between")
    page = client.get("/demo/30min", params={"month": "9999-12"})
    assert page.status_code == 200 and "9999" not in page.text


def test_one_line_fields_refuse_control_characters(client, demo_headers) -> None:
    for name in ("Alex\r\nBcc: x@example.com", "Alex\x00", "Alex\tJohnson", "\x1b[31mAlex"):
        response = client.post(f"{API}/demo/30min/book", json=valid_body(inviteeName=name))
        assert response.status_code == 400, name
        assert response.json() == {
            "error": "inviteeName must be one line of text, without control characters."
        }
    notes = valid_body(inviteeNotes="Line one\r\nLine two\tindented")
    assert client.post(f"{API}/demo/30min/book", json=notes).status_code == 201
    key = client.post(f"{API}/demo/30min/book", json=valid_body(customFields={"a\nb": "x"}))
    assert key.status_code == 400
    body = {"start": demo_slot(hour=14)[0], "eventTypeSlug": "30min", "username": "demo"}
    attendee = {**ATT, "name": "Alex\r\nJohnson"}
    v2 = client.post("/v2/bookings", json={**body, "attendee": attendee}, headers=demo_headers)
    assert v2.status_code == 400 and "attendee.name must be one line" in v2.json()["message"]


def test_nul_bytes_and_deep_json_are_4xx_in_each_parts_shape(client, demo_headers) -> None:
    assert client.get(f"{API}/%00").json() == {"error": "Not found."}
    assert client.get(f"{API}/demo", params={"utm_source": "a\x00b"}).status_code == 400
    v2 = client.get("/v2/bookings/a%00b", headers=demo_headers).json()
    assert (v2["status"], v2["message"], v2["error"]["code"]) == (
        "error",
        "Not found.",
        "NotFoundException",
    )
    deep = client.post(f"{API}/demo/30min/book", content=DEEP, headers=JSON)
    assert deep.status_code == 400
    assert deep.json() == {"error": "The request body is nested too deeply."}
    page = client.get("/demo/%00")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


def test_a_name_stored_with_a_line_break_still_sends_its_email(settings) -> None:
    """Bookings made before names were checked: the host's subject carries the name."""
    payload = {
        "to": "demo@example.com",
        "subject": "New booking: 30 minute meeting with Alex\r\nBcc: x@example.com – Dec 4",
        "text": "t",
        "html": "<p>t</p>",
        "ics": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    }
    message = build_message(settings, payload, "msg_1")
    assert (
        message["Subject"] == "New booking: 30 minute meeting with Alex Bcc: x@example.com – Dec 4"
    )
    assert message["Bcc"] is None and b"\r\nBcc:" not in message.as_bytes()


demo_headers = host_api_support.demo_headers


def console_requests(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """Every console route, its path parameters filled with ids that are not ours, too large,
    negative or not numbers; each POST with a form of junk in every field a page could send."""
    from litestar.routes import HTTPRoute

    huge = "99999999999999999999"
    junk = {
        name: value
        for name in (
            "title",
            "slug",
            "duration",
            "schedule_id",
            "event_type",
            "email",
            "name",
            "zone",
            "timezone",
            "date",
            "start",
            "end",
            "reason",
            "hidden",
            "disabled",
            "version",
            "url",
            "triggers",
            "origins",
            "embed_origins",
            "locale",
            "color",
            "brand_color",
            "target",
            "from",
            "to",
            "day",
            "days",
            "calendar",
            "destination",
            "password",
            "username",
        )
        for value in ("\x01" + huge + "x" * 3000,)
    }
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/console"):
            continue
        for filler in ("1", "0", "-1", huge, "abc", "bkg_nope"):
            path = re.sub(r"\{[^}]+\}", filler, route.path)
            if "sign-in/" in path or "sign-out" in path:
                continue
            for method in route.methods - {"HEAD", "OPTIONS"}:
                query = "?event_type=" + huge + "&date=0001-01-01&page=" + huge + "&from=x"
                found.append((method, path + query, {"data": junk} if method == "POST" else {}))
    return found


def test_no_console_input_reaches_a_500(sweep_client) -> None:
    from console_support import csrf_token, signed_in

    settings = sweep_client.app.state.sweep_settings
    signed_in(sweep_client, settings)
    token = csrf_token(sweep_client)
    failures = []
    seen: set[int] = set()
    requests = console_requests(sweep_client.app)
    assert len(requests) > 100
    for method, url, options in requests:
        if method == "POST":
            options = {"data": {**options["data"], "_csrf_token": token}}
        response = sweep_client.request(method, url, follow_redirects=False, **options)
        seen.add(response.status_code)
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {method} {url[:90]}")
    assert failures == [], "\n".join(failures)
    assert {200, 400, 404} <= seen  # the handlers were reached, not stopped at the door
