"""The guest-facing widget pages: whole pages vs htmx fragments, the form, security headers."""

from __future__ import annotations

import gzip
import re
from datetime import date

from sqlalchemy import select

from app.db.models import Booking, Host
from support import booking_body, demo_slot, next_weekday, with_session

HX = {"HX-Request": "true"}
TZ = "Europe/Berlin"


SLOT_TAKEN = "Sorry, someone has just taken that time. Please choose another one."


def long_date(day: date) -> str:
    """CLDR's full date in English (the test client sends no Accept-Language)."""
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def day_label(day: date, count: int) -> str:
    return f"{long_date(day)}, {count} times available"


def form_page(client, start: str, event: str = "30min", **params: str):
    response = client.get(
        f"/demo/{event}/form", params={"start": start, "tz": TZ, **params}, headers=HX
    )
    assert response.status_code == 200, response.text
    return response


def token_of(html: str) -> str:
    return re.search(r'name="formToken" value="([^"]+)"', html).group(1)


def form_data(client, start: str, **fields: str) -> dict[str, str]:
    data = {
        "startTime": start,
        "formToken": token_of(form_page(client, start).text),
        "inviteeName": "Alex Johnson",
        "inviteeEmail": "alex@example.com",
        "inviteePhone": "",
        "inviteeNotes": "",
        "honeypotValue": "",
    }
    data.update(fields)
    return data


def bookings(settings) -> list[Booking]:
    async def work(session):
        return list((await session.scalars(select(Booking))).all())

    return with_session(settings.database_url, work)


def set_embed_origins(settings, origins: list[str]) -> None:
    async def work(session):
        host = (await session.scalars(select(Host).where(Host.slug == "demo"))).one()
        host.embed_origins = origins
        await session.commit()

    with_session(settings.database_url, work)


def test_a_fragment_url_answers_htmx_with_the_fragment_and_others_with_the_page(client):
    day = next_weekday()
    params = {"date": day.isoformat(), "tz": TZ}
    page = client.get("/demo/30min/slots", params=params)
    assert page.status_code == 200
    assert page.text.lstrip().startswith("<!doctype html>")
    assert 'id="calendar"' in page.text and 'id="slots"' in page.text
    fragment = client.get("/demo/30min/slots", params=params, headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="calendar"' not in fragment.text
    assert fragment.text.lstrip().startswith("{#") is False
    assert '<section id="slots"' in fragment.text
    assert (
        fragment.headers["HX-Push-Url"] == f"/demo/30min?tz=Europe%2FBerlin&date={day.isoformat()}"
    )


def test_history_restore_gets_the_whole_page(client):
    day = next_weekday()
    response = client.get(
        "/demo/30min/slots",
        params={"date": day.isoformat(), "tz": TZ},
        headers={**HX, "HX-History-Restore-Request": "true"},
    )
    assert "<!doctype html>" in response.text


def test_day_buttons_say_the_whole_date_and_how_many_times_are_free(client):
    day = next_weekday()
    start, end = demo_slot(day, 11)
    assert (
        client.post(
            "/api/public/scheduling/demo/30min/book", json=booking_body(start, end)
        ).status_code
        == 201
    )
    response = client.get(
        "/demo/30min/calendar", params={"month": f"{day:%Y-%m}", "tz": TZ}, headers=HX
    )
    assert response.status_code == 200
    assert '<section id="calendar"' in response.text and "<html" not in response.text
    assert f'aria-label="{day_label(day, 15)}"' in response.text
    assert 'role="grid"' in response.text
    assert 'aria-label="Previous month"' in response.text
    weekend = next(
        d for d in (date(day.year, day.month, n) for n in range(1, 8)) if d.weekday() == 6
    )
    assert f'disabled aria-label="{long_date(weekend)}, no times available"' in response.text


def test_times_follow_the_guests_zone_and_locale(client):
    day = next_weekday()
    params = {"date": day.isoformat(), "tz": "Europe/London", "locale": "en-GB"}
    london = client.get("/demo/30min/slots", params=params, headers=HX).text
    assert 'aria-label="08:00–08:30"' in london and ">08:00</a>" in london
    us = client.get(
        "/demo/30min/slots",
        params={**params, "tz": "America/New_York", "locale": "en-US"},
        headers=HX,
    ).text
    assert 'aria-label="3:00\u2009–\u20093:30\u202fAM"' in us and ">3:00 AM</a>" in us
    german = client.get(
        "/demo/30min/slots",
        params={"date": day.isoformat(), "tz": TZ},
        headers={**HX, "Accept-Language": "sv-SE,de-DE;q=0.9,en;q=0.5"},
    ).text
    assert 'aria-label="09:00–09:30 Uhr"' in german and ">09:00</a>" in german
    # The 12/24-hour toggle overrides the locale's own clock.
    twelve = client.get("/demo/30min/slots", params={**params, "clock": "12"}, headers=HX).text
    assert ">8:00 am</a>" in twelve


def test_an_unknown_zone_falls_back_to_the_hosts_with_a_notice(client):
    response = client.get("/demo/30min", params={"tz": "Mars/Olympus"})
    assert response.status_code == 200
    assert "We do not know the time zone “Mars/Olympus”" in response.text
    assert "Times in Central European Time" in response.text


def test_the_form_prefills_and_carries_the_embed_parameters(client):
    start, _ = demo_slot()
    html = form_page(
        client,
        start,
        name="Ann Example",
        email="ann@example.com",
        embed="1",
        parentOrigin="https://shop.example",
        utm_source="news",
    ).text
    assert 'value="Ann Example"' in html and 'value="ann@example.com"' in html
    action = re.search(r'action="([^"]+)"', html).group(1)
    assert "embed=1" in action and "parentOrigin=https%3A%2F%2Fshop.example" in action
    assert "utm_source=news" in action
    assert 'name="honeypotValue" tabindex="-1" autocomplete="off"' in html


def test_a_booking_from_the_form_is_confirmed_with_its_payload(client, settings):
    start, _end = demo_slot(hour=14)
    data = form_data(client, start)
    response = client.post(
        "/demo/30min/book?tz=Europe/Berlin&utm_source=news&utm_campaign=spring",
        data=data,
        headers=HX,
    )
    assert response.status_code == 200, response.text
    assert "You are booked" in response.text
    assert (
        "Confirmed" in response.text
        and "calendar.google.com/calendar/render?action=TEMPLATE" in response.text
    )
    payload = re.search(r'data-booked="([^"]+)"', response.text).group(1)
    assert (
        "&#34;status&#34;: &#34;confirmed&#34;" in payload
        and f"&#34;start_time&#34;: &#34;{start}&#34;" in payload
    )
    [booking] = bookings(settings)
    assert booking.source == "BookingPage"
    assert booking.meta == {"utm_source": "news", "utm_campaign": "spring"}
    assert booking.invitee_timezone == TZ
    assert response.headers["HX-Push-Url"].startswith("/demo/30min/confirmation?")
    # The pushed URL shows the confirmation again as a whole page; the .ics is behind the signature.
    again = client.get(response.headers["HX-Push-Url"])
    assert (
        again.status_code == 200
        and "You are booked" in again.text
        and "data-booked" not in again.text
    )
    ics_url = (
        re.search(r'href="([^"]+invite\.ics[^"]*)"', again.text).group(1).replace("&amp;", "&")
    )
    ics = client.get(ics_url)
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in ics.content
    assert client.get(f"/demo/30min/invite.ics?booking={booking.uid}").status_code == 404


def test_an_embedded_booking_is_recorded_as_embed_widget_and_pending_needs_approval(
    client, settings
):
    start, _ = demo_slot(minutes=15)
    page = client.get(
        "/demo/intro/form", params={"start": start, "tz": TZ, "embed": "1"}, headers=HX
    )
    data = {
        "startTime": start,
        "formToken": token_of(page.text),
        "inviteeName": "Bo",
        "inviteeEmail": "bo@example.com",
        "customFields.company": "Acme",
    }
    response = client.post("/demo/intro/book?embed=1&tz=Europe/Berlin", data=data, headers=HX)
    assert response.status_code == 200, response.text
    assert "Waiting for <bdi>Dana Demo</bdi> to confirm" in response.text
    assert "Add to Google Calendar" not in response.text  # not booked yet: nothing to add
    assert "&#34;status&#34;: &#34;pending&#34;" in response.text
    [booking] = bookings(settings)
    assert booking.source == "EmbedWidget" and booking.custom_fields == {"company": "Acme"}


def test_without_javascript_the_post_redirects_to_the_confirmation(client):
    start, _ = demo_slot(hour=15)
    response = client.post(
        "/demo/30min/book?tz=Europe/Berlin", data=form_data(client, start), follow_redirects=False
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert (
        page.status_code == 200 and "<!doctype html>" in page.text and "You are booked" in page.text
    )


def test_form_errors_show_next_to_their_field_and_keep_what_was_typed(client, settings):
    start, _ = demo_slot(hour=12)
    data = form_data(
        client,
        start,
        inviteeName="Kim Typed",
        inviteeEmail="kim@example",
        inviteeNotes="Call me later",
    )
    response = client.post("/demo/30min/book?tz=Europe/Berlin", data=data, headers=HX)
    assert response.status_code == 422
    html = response.text
    assert 'value="Kim Typed"' in html and 'value="kim@example"' in html and "Call me later" in html
    assert 'aria-invalid="true" aria-describedby="f-inviteeEmail-error"' in html
    assert (
        '<p class="error" id="f-inviteeEmail-error">Please enter a valid email address, '
        "such as name@example.com.</p>" in html
    )
    assert bookings(settings) == []


def test_a_required_question_error_goes_to_its_field(client):
    start, _ = demo_slot(minutes=15)
    token = token_of(
        client.get("/demo/intro/form", params={"start": start, "tz": TZ}, headers=HX).text
    )
    data = {
        "startTime": start,
        "formToken": token,
        "inviteeName": "Bo",
        "inviteeEmail": "bo@example.com",
    }
    response = client.post("/demo/intro/book", data=data, headers=HX)
    assert response.status_code == 422
    assert (
        '<p class="error" id="f-customFields-company-error">Please fill this in.</p>'
        in response.text
    )


def test_a_slot_taken_meanwhile_says_so_and_lists_that_days_times_again(client, settings):
    day = next_weekday()
    start, end = demo_slot(day, 10)
    data = form_data(client, start)
    assert (
        client.post(
            "/api/public/scheduling/demo/30min/book", json=booking_body(start, end)
        ).status_code
        == 201
    )
    response = client.post("/demo/30min/book?tz=Europe/Berlin", data=data, headers=HX)
    assert response.status_code == 409
    assert SLOT_TAKEN in response.text
    assert (
        '<section id="slots"' in response.text and day_label(day, 15).split(",")[0] in response.text
    )
    assert start.replace(":", "%3A") not in response.text
    assert len(bookings(settings)) == 1


def test_forged_posts_are_refused(client, settings):
    start, _ = demo_slot(hour=13)
    good = form_data(client, start)
    forged = client.post("/demo/30min/book", data={**good, "formToken": "forged"}, headers=HX)
    assert forged.status_code == 400 and "This form has expired" in forged.text
    intro_token = token_of(
        client.get(
            "/demo/intro/form", params={"start": demo_slot(minutes=15)[0], "tz": TZ}, headers=HX
        ).text
    )
    other = client.post("/demo/30min/book", data={**good, "formToken": intro_token}, headers=HX)
    assert other.status_code == 400
    missing = client.post(
        "/demo/30min/book", data={k: v for k, v in good.items() if k != "formToken"}
    )
    assert missing.status_code == 400
    cross = client.post("/demo/30min/book", data=good, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    fetch_site = client.post(
        "/demo/30min/book", data=good, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert fetch_site.status_code == 403
    assert bookings(settings) == []
    same = client.post(
        "/demo/30min/book",
        data=good,
        headers={**HX, "Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 200 and len(bookings(settings)) == 1


def test_a_honeypot_answer_is_refused(client, settings):
    start, _ = demo_slot(hour=16)
    response = client.post(
        "/demo/30min/book", data=form_data(client, start, honeypotValue="spam"), headers=HX
    )
    assert response.status_code == 422 and bookings(settings) == []


def test_csp_and_framing_per_host(client, settings):
    page = client.get("/demo/30min", params={"tz": TZ})
    csp = page.headers["content-security-policy"]
    for part in (
        "script-src 'self'",
        "style-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ):
        assert part in csp
    assert csp.endswith("frame-ancestors *")
    assert "x-frame-options" not in page.headers
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert (
        "<script>" not in page.text
        and "style=" not in page.text
        and " on" + "click=" not in page.text
    )
    set_embed_origins(settings, ["https://shop.example", "https://bad.example; script-src *"])
    for url in ("/demo/30min", "/demo", "/demo/30min/slots?date=2026-01-01"):
        assert (
            client.get(url)
            .headers["content-security-policy"]
            .endswith("frame-ancestors 'self' https://shop.example")
        ), url
    missing = client.get("/demo/nope")
    assert missing.status_code == 404
    assert missing.headers["content-security-policy"].endswith("frame-ancestors 'none'")
    assert missing.headers["x-frame-options"] == "DENY"
    api = client.get("/api/public/scheduling/demo")
    assert api.headers["content-security-policy"].endswith("frame-ancestors 'none'")


def test_the_host_page_lists_visible_event_types_with_branding(client):
    response = client.get(
        "/demo", params={"color": "#0f766e", "embed": "1", "parentOrigin": "https://shop.example"}
    )
    assert response.status_code == 200
    assert "30 minute meeting" in response.text and "Intro call" in response.text
    assert 'href="/brand.css?c=0f766e"' in response.text
    assert (
        "/demo/30min?embed=1&amp;parentOrigin=https%3A%2F%2Fshop.example&amp;color=%230f766e"
        in response.text
    )
    assert 'data-parent-origin="https://shop.example"' in response.text
    css = client.get("/brand.css?c=0f766e")
    assert css.headers["content-type"].startswith("text/css") and "--brand:#0f766e" in css.text
    assert "--brand:#2563eb" in client.get("/brand.css?c=javascript").text


def test_a_bad_parent_origin_is_dropped(client):
    response = client.get("/demo/30min", params={"embed": "1", "parentOrigin": "*", "tz": TZ})
    assert 'data-parent-origin=""' in response.text and "parentOrigin" not in response.text


def test_no_cookie_is_ever_set(client):
    start, _ = demo_slot(hour=9)
    responses = [
        client.get("/demo"),
        client.get("/demo/30min"),
        client.get("/demo/30min", params={"tz": TZ}),
        form_page(client, start),
        client.post("/demo/30min/book", data=form_data(client, start), headers=HX),
        client.get("/static/widget.js"),
        client.get("/brand.css?c=123456"),
    ]
    for response in responses:
        assert "set-cookie" not in response.headers, response.url
    assert not client.cookies


def test_the_first_load_stays_under_30_kb_gzipped(client):
    def transferred(url: str) -> int:
        with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
            raw = b"".join(response.iter_raw())
        if response.headers.get("content-encoding") == "gzip":
            gzip.decompress(raw)
            return len(raw)
        return len(gzip.compress(raw))  # not compressed by the server: count what gzip would send

    page = client.get("/demo/30min", params={"tz": TZ}).text
    assets = re.findall(r'(?:href|src)="(/(?:static|brand)[^"]+)"', page)
    assert len(assets) == 4
    total = transferred(f"/demo/30min?tz={TZ}") + sum(transferred(a) for a in assets)
    assert total < 30 * 1024, total


def test_a_reschedule_link_moves_the_booking_from_the_booking_page(client, settings):
    from app.bookings.tokens import make_token

    old_start, old_end = demo_slot(next_weekday(3), 9)
    assert (
        client.post(
            "/api/public/scheduling/demo/30min/book", json=booking_body(old_start, old_end)
        ).status_code
        == 201
    )
    [old] = bookings(settings)
    token = make_token(settings, "reschedule", old)
    page = client.get("/demo/30min", params={"reschedule": token, "tz": TZ})
    assert page.status_code == 200 and "You are moving your booking" in page.text
    new_start, _ = demo_slot(next_weekday(4), 13)
    form = client.get(
        "/demo/30min/form", params={"reschedule": token, "tz": TZ, "start": new_start}, headers=HX
    )
    assert "Move my booking" in form.text and 'name="inviteeName"' not in form.text
    action = re.search(r'hx-post="([^"]+)"', form.text).group(1).replace("&amp;", "&")
    data = {"startTime": new_start, "formToken": token_of(form.text), "reason": "Clash"}
    moved = client.post(action, data=data, headers=HX)
    assert moved.status_code == 200, moved.text
    assert (
        "Your booking has moved" in moved.text and "reschedule=" not in moved.headers["HX-Push-Url"]
    )
    by_status = {b.status: b for b in bookings(settings)}
    assert by_status["Rescheduled"].uid == old.uid
    assert by_status["Confirmed"].rescheduled_from_uid == old.uid
    assert client.post(action, data=data, headers=HX).status_code == 409


def test_the_month_costs_one_slot_computation(client, monkeypatch):
    from app.bookings import service

    calls = []
    original = service.slots_for_window

    async def counting(*args, **kwargs):
        calls.append(args[2])
        return await original(*args, **kwargs)

    monkeypatch.setattr(service, "slots_for_window", counting)
    day = next_weekday()
    client.get("/demo/30min/calendar", params={"month": f"{day:%Y-%m}", "tz": TZ}, headers=HX)
    assert len(calls) == 1 and (calls[0].end - calls[0].start).days >= 28
    calls.clear()
    page = client.get("/demo/30min", params={"date": day.isoformat(), "tz": TZ})
    assert page.status_code == 200 and len(calls) == 1
