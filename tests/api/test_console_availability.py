"""Console, availability: schedules, weekly hours, overrides and vacations, through the real door
(signed in with an emailed link, forms with their CSRF token), and what guests then see."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import host_api_support
import pytest
from console_support import csrf_token, post_form, signed_in
from sqlalchemy import select

from app.db.models import EventType, Schedule
from app.hosts import schedules
from app.hosts.service import create_host, host_by_slug
from support import PUBLIC_API, with_session

BERLIN = ZoneInfo("Europe/Berlin")
BASE = "/console/availability"
TUESDAY = 1
demo_headers = host_api_support.demo_headers


def berlin_today() -> date:
    return datetime.now(UTC).astimezone(BERLIN).date()


def next_weekday_on(weekday: int, after_days: int = 2) -> date:
    """The first ``weekday`` (0 = Monday) at least ``after_days`` from today in Berlin."""
    day = berlin_today() + timedelta(days=after_days)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def default_schedule(settings: Any, slug: str = "demo") -> Schedule:
    async def work(session: Any) -> Schedule:
        host = await host_by_slug(session, slug)
        return await schedules.default_schedule(session, host.id)

    return with_session(settings.database_url, work)  # type: ignore[no-any-return]


def weekly(settings: Any, schedule_id: int) -> dict[int, list[tuple[int, int]]]:
    async def work(session: Any) -> dict[int, list[tuple[int, int]]]:
        schedule = await session.get(Schedule, schedule_id)
        await session.refresh(schedule, ["intervals", "overrides"])
        return schedules.weekly_spans(schedule)

    return with_session(settings.database_url, work)  # type: ignore[no-any-return]


def overrides(settings: Any, schedule_id: int) -> list[tuple[date, int | None, int | None]]:
    async def work(session: Any) -> list[tuple[date, int | None, int | None]]:
        schedule = await session.get(Schedule, schedule_id)
        await session.refresh(schedule, ["overrides"])
        return [(o.day, o.start_minute, o.end_minute) for o in schedule.overrides]

    return with_session(settings.database_url, work)  # type: ignore[no-any-return]


def hours_form(days: dict[int, list[tuple[str, str]]], action: str = "save") -> dict[str, str]:
    """The weekly hours form as a browser sends it: every day, its rows, the button pressed."""
    form = {"action": action}
    for day in range(7):
        rows = days.get(day) or [("", "")]
        form[f"rows-{day}"] = str(len(rows))
        for i, (start, end) in enumerate(rows):
            form[f"start-{day}-{i}"] = start
            form[f"end-{day}-{i}"] = end
    return form


def public_times(client: Any, day: date, event: str = "30min") -> list[str]:
    params = {"dateFrom": day.isoformat(), "dateTo": day.isoformat(), "timezone": "Europe/Berlin"}
    answer = client.get(f"{PUBLIC_API}/demo/{event}/slots", params=params)
    assert answer.status_code == 200, answer.text
    times = []
    for group in answer.json():
        for slot in group["slots"]:
            start = datetime.fromisoformat(slot["startTime"].replace("Z", "+00:00"))
            times.append(start.astimezone(BERLIN).strftime("%H:%M"))
    return times


def day_section(html: str, day: int) -> str:
    """The fieldset of one weekday in the weekly hours form."""
    match = re.search(
        rf'<fieldset class="avail-day[^"]*" id="day-{day}">(.*?)</fieldset>', html, re.S
    )
    assert match, f"no fieldset for day {day}"
    return match.group(1)


@pytest.fixture
def console(client: Any, settings: Any) -> Any:
    return signed_in(client, settings)


TUESDAY_HOURS = {TUESDAY: [("10:00", "12:00"), ("14:00", "16:00")]}
TUESDAY_TIMES = ["10:00", "10:30", "11:00", "11:30", "14:00", "14:30", "15:00", "15:30"]


def test_signed_out_goes_to_sign_in(client: Any) -> None:
    for url in (BASE, f"{BASE}/1", f"{BASE}/1/delete"):
        answer = client.get(url, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/sign-in"


def test_the_list_shows_schedules_their_zone_default_and_event_types(console: Any) -> None:
    page = console.get(BASE)
    assert page.status_code == 200
    assert "Working hours" in page.text
    assert "Europe/Berlin" in page.text
    assert ">Default<" in page.text
    assert "30 minute meeting" in page.text and "Intro call" in page.text
    assert 'aria-current="page">Availability<' in page.text


def test_tuesday_ten_to_twelve_and_two_to_four_is_what_guests_see(
    console: Any, settings: Any
) -> None:
    schedule = default_schedule(settings)
    answer = post_form(
        console, f"{BASE}/{schedule.id}", hours_form(TUESDAY_HOURS), follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    assert weekly(settings, schedule.id)[TUESDAY] == [(600, 720), (840, 960)]
    assert weekly(settings, schedule.id)[0] == []  # Monday left empty: closed
    tuesday = next_weekday_on(TUESDAY)
    assert public_times(console, tuesday) == TUESDAY_TIMES
    assert public_times(console, tuesday + timedelta(days=1)) == []
    # The page shows the saved hours and says so.
    page = console.get(f"{BASE}/{schedule.id}")
    assert "Weekly hours saved." in page.text
    section = day_section(page.text, TUESDAY)
    assert 'value="10:00"' in section and 'value="16:00"' in section


def test_a_vacation_next_week_removes_those_days(console: Any, settings: Any) -> None:
    schedule = default_schedule(settings)
    post_form(console, f"{BASE}/{schedule.id}", hours_form(TUESDAY_HOURS))
    monday = next_weekday_on(0, after_days=7)
    sunday = monday + timedelta(days=6)
    tuesday = monday + timedelta(days=1)
    assert public_times(console, tuesday) == TUESDAY_TIMES
    form = {"from": monday.isoformat(), "to": sunday.isoformat(), "kind": "closed"}
    answer = post_form(console, f"{BASE}/{schedule.id}/overrides", form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert public_times(console, tuesday) == []
    assert public_times(console, tuesday + timedelta(days=7)) == TUESDAY_TIMES
    saved = overrides(settings, schedule.id)
    assert [d for d, _s, _e in saved] == [monday + timedelta(days=n) for n in range(7)]
    assert all(s is None and e is None for _d, s, e in saved)
    page = console.get(f"{BASE}/{schedule.id}")
    assert "Override saved from" in page.text
    # Listed as one run of dates, deleted as one through its confirmation page.
    delete = f"{BASE}/{schedule.id}/overrides/{monday.isoformat()}/delete?to={sunday.isoformat()}"
    assert page.text.count("/delete?to=") == 1 and delete.replace("&", "&amp;") in page.text
    assert "Unavailable all day</span>" in page.text
    assert console.get(delete).status_code == 200
    assert post_form(console, delete, follow_redirects=False).status_code == 303
    assert overrides(settings, schedule.id) == []
    assert public_times(console, tuesday) == TUESDAY_TIMES
    missing = f"{BASE}/{schedule.id}/overrides/{monday.isoformat()}/delete"
    assert console.get(missing).status_code == 404
    assert console.get(f"{BASE}/{schedule.id}/overrides/not-a-date/delete").status_code == 404


def test_an_override_with_other_hours_replaces_one_day(console: Any, settings: Any) -> None:
    schedule = default_schedule(settings)
    day = next_weekday_on(2)
    form = {
        "from": day.isoformat(),
        "kind": "hours",
        "ostart-0": "08:00",
        "oend-0": "09:00",
        "ostart-1": "18:00",
        "oend-1": "19:00",
    }
    answer = post_form(console, f"{BASE}/{schedule.id}/overrides", form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert public_times(console, day) == ["08:00", "08:30", "18:00", "18:30"]
    # Deleting it (through its confirmation page) gives the day its weekly hours back.
    url = f"{BASE}/{schedule.id}/overrides/{day.isoformat()}/delete"
    confirm = console.get(url)
    assert confirm.status_code == 200 and "Delete override" in confirm.text
    assert post_form(console, url, follow_redirects=False).status_code == 303
    assert len(public_times(console, day)) == 16
    assert overrides(settings, schedule.id) == []


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("10:00", "12:00"), ("11:00", "13:00")], "10:00–12:00 and 11:00–13:00 overlap"),
        ([("12:00", "10:00")], "ends before it starts"),
        ([("25:00", "26:00")], "Enter times like 09:00"),
        ([("10:00", "")], "Enter both a start and an end time"),
    ],
)
def test_bad_hours_are_400_at_their_day_and_nothing_is_saved(
    console: Any, settings: Any, rows: list[tuple[str, str]], message: str
) -> None:
    schedule = default_schedule(settings)
    before = weekly(settings, schedule.id)
    days = {0: [("08:00", "09:00")], TUESDAY: rows}  # Monday is fine, Tuesday is not
    answer = post_form(console, f"{BASE}/{schedule.id}", hours_form(days))
    assert answer.status_code == 400
    assert message in day_section(answer.text, TUESDAY)
    assert message not in day_section(answer.text, 0)
    assert "Nothing was saved" in answer.text
    # Drawn again as typed, Monday's change included, but nothing stored.
    assert 'value="08:00"' in day_section(answer.text, 0)
    assert weekly(settings, schedule.id) == before


def test_touching_intervals_are_fine_and_an_end_of_midnight_is_the_day_end(
    console: Any, settings: Any
) -> None:
    schedule = default_schedule(settings)
    days = {TUESDAY: [("10:00", "12:00"), ("12:00", "13:00"), ("23:00", "00:00")]}
    answer = post_form(console, f"{BASE}/{schedule.id}", hours_form(days), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert weekly(settings, schedule.id)[TUESDAY] == [(600, 720), (720, 780), (1380, 1440)]


def test_adding_and_removing_rows_redraws_the_form_unsaved(console: Any, settings: Any) -> None:
    schedule = default_schedule(settings)
    before = weekly(settings, schedule.id)
    days = {TUESDAY: [("10:00", "12:00")]}
    added = post_form(console, f"{BASE}/{schedule.id}", hours_form(days, f"add-{TUESDAY}"))
    assert added.status_code == 200
    section = day_section(added.text, TUESDAY)
    assert f'name="rows-{TUESDAY}" value="2"' in section
    assert f'name="start-{TUESDAY}-1" value=""' in section
    assert "Not saved yet" in added.text
    days = {TUESDAY: [("10:00", "12:00"), ("14:00", "16:00")]}
    removed = post_form(console, f"{BASE}/{schedule.id}", hours_form(days, f"remove-{TUESDAY}-0"))
    section = day_section(removed.text, TUESDAY)
    assert f'name="rows-{TUESDAY}" value="1"' in section
    assert 'value="14:00"' in section and 'value="10:00"' not in section
    assert weekly(settings, schedule.id) == before


def test_copy_to_other_days(console: Any, settings: Any) -> None:
    schedule = default_schedule(settings)
    form = hours_form(TUESDAY_HOURS, f"copy-{TUESDAY}")
    answer = console.post(
        f"{BASE}/{schedule.id}",
        data={**form, "_csrf_token": csrf_token(console), f"copy-to-{TUESDAY}": ["3", "5"]},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    saved = weekly(settings, schedule.id)
    for day in (TUESDAY, 3, 5):
        assert saved[day] == [(600, 720), (840, 960)]
    assert saved[2] == [] and saved[4] == []
    page = console.get(f"{BASE}/{schedule.id}")
    assert "Tuesday’s hours copied to Thursday, Saturday and saved." in page.text
    # Copying to no day says so, and saves nothing.
    before = weekly(settings, schedule.id)
    lonely = post_form(
        console, f"{BASE}/{schedule.id}", hours_form({0: [("07:00", "08:00")]}, "copy-0")
    )
    assert lonely.status_code == 400
    assert "Choose the days to copy" in day_section(lonely.text, 0)
    assert weekly(settings, schedule.id) == before


def test_an_override_in_the_past_is_refused(console: Any, settings: Any) -> None:
    schedule = default_schedule(settings)
    yesterday = berlin_today() - timedelta(days=1)
    form = {"from": yesterday.isoformat(), "kind": "closed"}
    answer = post_form(console, f"{BASE}/{schedule.id}/overrides", form)
    assert answer.status_code == 400
    assert "That date is in the past" in answer.text
    assert 'id="override-from-error"' in answer.text
    assert overrides(settings, schedule.id) == []
    # A range starting in the past is refused as a whole, too.
    form = {"from": yesterday.isoformat(), "to": (yesterday + timedelta(days=5)).isoformat()}
    assert post_form(console, f"{BASE}/{schedule.id}/overrides", form).status_code == 400
    assert overrides(settings, schedule.id) == []


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"from": ""}, "Choose a date."),
        ({"from": "2030-02-30"}, "Choose a date."),
        ({"from": "2030-05-10", "to": "2030-05-01"}, "must not be before the first day"),
        ({"from": "2030-05-10", "to": "2032-05-01"}, "at most 366 days"),
        (
            {
                "from": "2030-05-10",
                "kind": "hours",
                "ostart-0": "10:00",
                "oend-0": "12:00",
                "ostart-1": "11:00",
                "oend-1": "13:00",
            },
            "overlap",
        ),
        ({"from": "2030-05-10", "kind": "hours"}, "Enter the hours of that day."),
    ],
)
def test_bad_overrides_are_400_and_nothing_is_saved(
    console: Any, settings: Any, form: dict[str, str], message: str
) -> None:
    schedule = default_schedule(settings)
    answer = post_form(console, f"{BASE}/{schedule.id}/overrides", form)
    assert answer.status_code == 400
    assert message in answer.text
    assert overrides(settings, schedule.id) == []


def test_the_v2_api_refuses_overlaps_and_new_past_overrides_too(
    client: Any, demo_headers: dict[str, str]
) -> None:
    headers = demo_headers
    rule = {"days": ["Tuesday"], "startTime": "10:00", "endTime": "12:00"}
    overlapping = [
        rule,
        {**rule, "days": ["Tuesday", "Friday"], "startTime": "11:00", "endTime": "13:00"},
    ]
    body = {"name": "X", "timeZone": "UTC", "availability": overlapping}
    answer = client.post("/v2/schedules", json=body, headers=headers)
    assert answer.status_code == 400
    assert "overlap on Tuesday" in answer.json()["message"]
    past = {"date": "2020-01-01", "startTime": "00:00", "endTime": "00:00"}
    answer = client.post(
        "/v2/schedules", json={"name": "X", "timeZone": "UTC", "overrides": [past]}, headers=headers
    )
    assert answer.status_code == 400
    assert "in the past" in answer.json()["message"]


def test_create_rename_zone_default_and_delete(console: Any, settings: Any) -> None:
    bad = post_form(console, BASE, {"name": "Evenings", "time_zone": "Mars/Olympus"})
    assert bad.status_code == 400 and "Choose a time zone from the list." in bad.text
    long = post_form(console, BASE, {"name": "x" * 5000, "time_zone": "UTC"})
    assert long.status_code == 400 and "at most 200 characters" in long.text
    script = post_form(
        console,
        BASE,
        {"name": "<script>alert(1)</script>", "time_zone": "UTC"},
        follow_redirects=False,
    )
    assert script.status_code == 303
    assert "<script>alert(1)</script>" not in console.get(BASE).text
    assert "&lt;script&gt;" in console.get(BASE).text

    created = post_form(
        console, BASE, {"name": "Evenings", "time_zone": "America/New_York"}, follow_redirects=False
    )
    assert created.status_code == 303
    url = created.headers["location"]
    schedule_id = int(url.rsplit("/", 1)[1])
    page = console.get(url)
    assert "Evenings" in page.text and "America/New_York" in page.text
    assert 'id="schedule-zone"' not in page.text  # the long zone list has a page of its own
    form = console.get(f"{url}/settings")
    assert form.status_code == 200 and 'id="schedule-zone"' in form.text
    assert '<option value="America/New_York" selected>' in form.text

    renamed = post_form(
        console,
        f"{url}/settings",
        {"name": "Late shift", "time_zone": "Asia/Tokyo"},
        follow_redirects=False,
    )
    assert renamed.status_code == 303
    zone = post_form(
        console, f"{url}/settings", {"name": "Late shift", "time_zone": "Nowhere/Land"}
    )
    assert zone.status_code == 400 and "Choose a time zone from the list." in zone.text
    empty = post_form(console, f"{url}/settings", {"name": " ", "time_zone": "UTC"})
    assert empty.status_code == 400 and "Enter a name" in empty.text

    def saved() -> tuple[str, str, bool]:
        async def work(session: Any) -> tuple[str, str, bool]:
            row = await session.get(Schedule, schedule_id)
            return row.name, row.timezone, row.is_default

        return with_session(settings.database_url, work)  # type: ignore[no-any-return]

    assert saved() == ("Late shift", "Asia/Tokyo", False)

    # Point an event type at it (the event types page does this; here, the database).
    async def use_it(session: Any) -> None:
        query = select(EventType).where(EventType.slug == "30min")
        (await session.scalars(query)).one().schedule_id = schedule_id
        await session.commit()

    with_session(settings.database_url, use_it)
    assert "30 minute meeting" in console.get(f"{BASE}/{schedule_id}/delete").text

    old_default = default_schedule(settings)
    assert post_form(console, f"{url}/default", follow_redirects=False).status_code == 303
    assert saved()[2] is True
    # The default cannot be deleted: its confirmation page says so, and a POST is refused.
    refused = console.get(f"{url}/delete")
    assert "cannot be deleted" in refused.text and "Delete schedule</button>" not in refused.text
    answer = post_form(console, f"{url}/delete")
    assert answer.status_code == 400 and "cannot be deleted" in answer.text
    assert saved()[0] == "Late shift"

    # The old default is an ordinary schedule now: deleting it works.
    other = f"{BASE}/{old_default.id}"
    assert post_form(console, f"{other}/delete", follow_redirects=False).status_code == 303
    assert console.get(other).status_code == 404
    assert ">Working hours</a>" not in console.get(BASE).text


def test_another_hosts_schedule_is_404(console: Any, settings: Any) -> None:
    async def other(session: Any) -> int:
        host = await create_host(
            session, "other", name="Olga", email="o@example.com", timezone="UTC"
        )
        return (await schedules.default_schedule(session, host.id)).id

    foreign = with_session(settings.database_url, other)
    before = weekly(settings, foreign)
    url = f"{BASE}/{foreign}"
    assert console.get(url).status_code == 404
    assert console.get(f"{url}/delete").status_code == 404
    assert post_form(console, url, hours_form(TUESDAY_HOURS)).status_code == 404
    assert (
        post_form(console, f"{url}/settings", {"name": "Mine", "time_zone": "UTC"}).status_code
        == 404
    )
    assert post_form(console, f"{url}/default").status_code == 404
    assert post_form(console, f"{url}/delete").status_code == 404
    day = (berlin_today() + timedelta(days=3)).isoformat()
    assert post_form(console, f"{url}/overrides", {"from": day}).status_code == 404
    assert console.get(f"{BASE}/999999").status_code == 404
    assert weekly(settings, foreign) == before
    assert overrides(settings, foreign) == []
    assert "Olga" not in console.get(BASE).text


def test_a_form_without_its_csrf_token_is_refused(console: Any, settings: Any) -> None:
    schedule = default_schedule(settings)
    answer = console.post(f"{BASE}/{schedule.id}", data=hours_form(TUESDAY_HOURS))
    assert answer.status_code == 403
    assert weekly(settings, schedule.id)[TUESDAY] == [(540, 1020)]


def test_the_preview_shows_the_next_seven_days_for_a_chosen_event_type(
    console: Any, settings: Any
) -> None:
    schedule = default_schedule(settings)
    post_form(console, f"{BASE}/{schedule.id}", hours_form(TUESDAY_HOURS))
    page = console.get(f"{BASE}/{schedule.id}", params={"event_type": "30min"})
    preview = page.text.split('id="preview"', 1)[1].split("</section>", 1)[0]
    preview = preview.replace("\u202f", " ").replace("\xa0", " ")
    assert preview.count("<h3>") == 7
    tuesday = next_weekday_on(TUESDAY, after_days=1)
    if tuesday - berlin_today() < timedelta(days=7):
        # In the host's language: English, so a 12-hour clock.
        for time in ("10:00 AM", "11:30 AM", "2:00 PM", "3:30 PM"):
            assert f"<li>{time}</li>" in preview
        assert "<li>12:00 PM</li>" not in preview and "<li>4:00 PM</li>" not in preview
    intro = console.get(f"{BASE}/{schedule.id}", params={"event_type": "intro"})
    assert 'value="intro" selected' in intro.text


def test_a_german_host_reads_a_week_from_monday_and_a_24_hour_clock(
    console: Any, settings: Any
) -> None:
    async def german(session: Any) -> None:
        host = await host_by_slug(session, "demo")
        host.locale = "de"
        await session.commit()

    with_session(settings.database_url, german)
    schedule = default_schedule(settings)
    post_form(console, f"{BASE}/{schedule.id}", hours_form(TUESDAY_HOURS))
    page = console.get(f"{BASE}/{schedule.id}", params={"event_type": "30min"})
    assert page.status_code == 200
    legends = re.findall(
        r'<fieldset class="avail-day[^"]*" id="day-\d">\s*<legend>(\w+)</legend>', page.text
    )
    assert legends[:2] == ["Montag", "Dienstag"] and legends[-1] == "Sonntag"
    assert '<html lang="de"' in page.text
    preview = page.text.split('id="preview"', 1)[1]
    if 0 < (TUESDAY - berlin_today().weekday()) % 7 < 7:
        assert "<li>14:00</li>" in preview
