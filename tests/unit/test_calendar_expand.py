"""iCalendar data -> busy intervals (app/calendars/expand.py): the rules, each pinned by an example,
then properties over random zones, wall-clock times and DST-crossing windows."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.calendars.expand import (
    CalendarDataError,
    Limits,
    calendar_zone,
    expand_data,
    merge,
    parse,
)
from app.scheduling import Interval

BERLIN = ZoneInfo("Europe/Berlin")
# Europe/Berlin leaves winter time on 2026-03-29 and comes back on 2026-10-25.
MARCH = Interval(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC))


def vcalendar(*events: str, extra: str = "") -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{event.strip()}\r\nEND:VEVENT\r\n" for event in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{extra}{body}END:VCALENDAR\r\n"


def ev(uid: str, *lines: str) -> str:
    return "\r\n".join([f"UID:{uid}", "DTSTAMP:20260101T000000Z", *lines])


def spans(data: str, window: Interval = MARCH, timezone: str = "Europe/Berlin", **kw):
    return [(s.start, s.end) for s in expand_data(data, window, timezone, **kw).spans]


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def test_weekly_series_keeps_its_wall_clock_time_across_dst_with_exception_and_moved_occurrence():
    data = vcalendar(
        ev(
            "weekly",
            "DTSTART;TZID=Europe/Berlin:20260317T100000",
            "DTEND;TZID=Europe/Berlin:20260317T110000",
            "RRULE:FREQ=WEEKLY;COUNT=5",
            "EXDATE;TZID=Europe/Berlin:20260324T100000",
        ),
        ev(
            "weekly",
            "RECURRENCE-ID;TZID=Europe/Berlin:20260407T100000",
            "DTSTART;TZID=Europe/Berlin:20260408T150000",
            "DTEND;TZID=Europe/Berlin:20260408T160000",
        ),
    )
    assert spans(data) == [
        (berlin(2026, 3, 17, 10), berlin(2026, 3, 17, 11)),  # 09:00Z, winter time
        (berlin(2026, 3, 31, 10), berlin(2026, 3, 31, 11)),  # 08:00Z, summer time
        (berlin(2026, 4, 8, 15), berlin(2026, 4, 8, 16)),  # moved from the 7th
        (berlin(2026, 4, 14, 10), berlin(2026, 4, 14, 11)),
    ]
    assert spans(data)[0][0] == datetime(2026, 3, 17, 9, tzinfo=UTC)
    assert spans(data)[1][0] == datetime(2026, 3, 31, 8, tzinfo=UTC)


def test_rdate_adds_occurrences():
    data = vcalendar(
        ev(
            "r",
            "DTSTART:20260302T090000Z",
            "DURATION:PT30M",
            "RDATE:20260305T120000Z,20260306T120000Z",
        )
    )
    assert [s for s, _ in spans(data)] == [
        datetime(2026, 3, 2, 9, tzinfo=UTC),
        datetime(2026, 3, 5, 12, tzinfo=UTC),
        datetime(2026, 3, 6, 12, tzinfo=UTC),
    ]


def test_all_day_and_multi_day_events_cover_local_midnights():
    data = vcalendar(
        ev("one", "DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260311"),
        ev("three", "DTSTART;VALUE=DATE:20260327", "DTEND;VALUE=DATE:20260330"),
        ev("no-end", "DTSTART;VALUE=DATE:20260401"),
    )
    assert spans(data) == [
        (berlin(2026, 3, 10, 0), berlin(2026, 3, 11, 0)),
        (berlin(2026, 3, 27, 0), berlin(2026, 3, 30, 0)),  # 71 hours: the DST change is inside
        (berlin(2026, 4, 1, 0), berlin(2026, 4, 2, 0)),
    ]
    in_new_york = spans(data, timezone="America/New_York")
    assert in_new_york[0][0] == datetime(2026, 3, 10, 4, tzinfo=UTC)


def test_transparent_and_cancelled_events_block_nothing_even_one_occurrence():
    data = vcalendar(
        ev("free", "DTSTART:20260302T090000Z", "DTEND:20260302T100000Z", "TRANSP:TRANSPARENT"),
        ev("gone", "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z", "STATUS:CANCELLED"),
        ev(
            "daily",
            "DTSTART:20260310T090000Z",
            "DTEND:20260310T100000Z",
            "RRULE:FREQ=DAILY;COUNT=3",
        ),
        ev(
            "daily",
            "RECURRENCE-ID:20260311T090000Z",
            "DTSTART:20260311T090000Z",
            "DTEND:20260311T100000Z",
            "STATUS:CANCELLED",
        ),
        ev("opaque", "DTSTART:20260304T090000Z", "DTEND:20260304T100000Z", "TRANSP:OPAQUE"),
        ev("maybe", "DTSTART:20260305T090000Z", "DTEND:20260305T100000Z", "STATUS:TENTATIVE"),
    )
    assert [s.day for s, _ in spans(data)] == [4, 5, 10, 12]


def test_floating_times_read_in_the_calendars_zone():
    data = vcalendar(ev("f", "DTSTART:20260302T090000", "DTEND:20260302T100000"))
    assert spans(data) == [(berlin(2026, 3, 2, 9), berlin(2026, 3, 2, 10))]
    tokyo = spans(data, timezone="Asia/Tokyo")
    assert tokyo == [(datetime(2026, 3, 2, 0, tzinfo=UTC), datetime(2026, 3, 2, 1, tzinfo=UTC))]
    # A feed that names its zone (Google, Apple) wins over the host's.
    named = vcalendar(
        ev("f", "DTSTART:20260302T090000", "DTEND:20260302T100000"),
        extra="X-WR-TIMEZONE:America/New_York\r\n",
    )
    assert calendar_zone(parse(named)) == "America/New_York"
    assert spans(named)[0][0] == datetime(2026, 3, 2, 14, tzinfo=UTC)


def test_other_zones_and_utc_and_windows_zone_names():
    data = vcalendar(
        ev(
            "ny",
            "DTSTART;TZID=America/New_York:20260302T090000",
            "DTEND;TZID=America/New_York:20260302T100000",
        ),
        ev(
            "pst",
            "DTSTART;TZID=Pacific Standard Time:20260303T090000",
            "DTEND;TZID=Pacific Standard Time:20260303T100000",
        ),
        ev("z", "DTSTART:20260304T090000Z", "DTEND:20260304T100000Z"),
    )
    assert [s for s, _ in spans(data)] == [
        datetime(2026, 3, 2, 14, tzinfo=UTC),
        datetime(2026, 3, 3, 17, tzinfo=UTC),
        datetime(2026, 3, 4, 9, tzinfo=UTC),
    ]


def test_vtimezone_definitions_in_the_data_are_used():
    vtimezone = (
        "BEGIN:VTIMEZONE\r\nTZID:Custom/Plus5\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        "TZOFFSETFROM:+0500\r\nTZOFFSETTO:+0500\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    data = vcalendar(
        ev(
            "c",
            "DTSTART;TZID=Custom/Plus5:20260302T090000",
            "DTEND;TZID=Custom/Plus5:20260302T100000",
        ),
        extra=vtimezone,
    )
    result = expand_data(data, MARCH, "Europe/Berlin")
    assert [(s.start, s.end) for s in result.spans] == [
        (datetime(2026, 3, 2, 4, tzinfo=UTC), datetime(2026, 3, 2, 5, tzinfo=UTC))
    ]
    assert result.warnings == []


def test_unknown_tzid_reads_as_floating_with_a_warning():
    data = vcalendar(
        ev(
            "u",
            "DTSTART;TZID=Mars/Olympus:20260302T090000",
            "DTEND;TZID=Mars/Olympus:20260302T100000",
        )
    )
    result = expand_data(data, MARCH, "Europe/Berlin")
    assert [(s.start, s.end) for s in result.spans] == [
        (berlin(2026, 3, 2, 9), berlin(2026, 3, 2, 10))
    ]
    assert result.warnings == [
        "unknown time zone 'Mars/Olympus': its times are read as Europe/Berlin"
    ]


def test_an_event_without_end_at_a_time_blocks_nothing():
    data = vcalendar(ev("instant", "DTSTART:20260302T090000Z"))
    assert spans(data) == []


def test_events_outside_the_window_are_left_out_and_those_across_its_edges_kept():
    window = Interval(datetime(2026, 3, 10, 12, tzinfo=UTC), datetime(2026, 3, 11, 12, tzinfo=UTC))
    data = vcalendar(
        ev("before", "DTSTART:20260310T100000Z", "DTEND:20260310T120000Z"),
        ev("across", "DTSTART:20260310T110000Z", "DTEND:20260310T130000Z"),
        ev("after", "DTSTART:20260311T120000Z", "DTEND:20260311T130000Z"),
        ev("long", "DTSTART;VALUE=DATE:20260301", "DTEND;VALUE=DATE:20260401"),
    )
    assert [s.uid for s in expand_data(data, window, "UTC").spans] == ["long", "across"]


def test_skip_uids_leaves_out_our_own_events():
    data = vcalendar(
        ev("bkg_1@booking-widget", "DTSTART:20260302T090000Z", "DTEND:20260302T100000Z"),
        ev("theirs", "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z"),
    )
    result = expand_data(data, MARCH, "UTC", skip_uids={"bkg_1@booking-widget"})
    assert [s.uid for s in result.spans] == ["theirs"]


def test_a_minutely_series_is_not_expanded_but_blocks_its_span_quickly():
    data = vcalendar(
        ev(
            "storm",
            "DTSTART:20260302T090000Z",
            "DTEND:20260302T090100Z",
            "RRULE:FREQ=MINUTELY",
        ),
        ev(
            "bounded",
            "DTSTART:20260303T090000Z",
            "DTEND:20260303T090100Z",
            "RRULE:FREQ=SECONDLY;UNTIL=20260305T000000Z",
        ),
        ev(
            "counted",
            "DTSTART:20260310T090000Z",
            "DTEND:20260310T090100Z",
            "RRULE:FREQ=MINUTELY;COUNT=3",
        ),
    )
    began = time.perf_counter()
    result = expand_data(data, MARCH, "UTC", limits=Limits(max_per_series=1000))
    assert time.perf_counter() - began < 2
    by_uid = {s.uid: (s.start, s.end) for s in result.spans if s.uid != "counted"}
    assert by_uid == {
        "storm": (datetime(2026, 3, 2, 9, tzinfo=UTC), MARCH.end),
        "bounded": (datetime(2026, 3, 3, 9, tzinfo=UTC), datetime(2026, 3, 5, 0, 1, tzinfo=UTC)),
    }
    assert len([s for s in result.spans if s.uid == "counted"]) == 3
    assert len(result.warnings) == 2


def test_busy_cap_stops_with_a_warning():
    data = vcalendar(
        ev("d", "DTSTART:20260301T090000Z", "DTEND:20260301T100000Z", "RRULE:FREQ=DAILY")
    )
    result = expand_data(data, MARCH, "UTC", limits=Limits(max_busy=10))
    assert len(result.spans) == 10
    assert "more than 10 busy times" in result.warnings[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("<html>hello</html>", "not iCalendar data"),
        ("", "not iCalendar data"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\n", "invalid iCalendar data"),
        ("x" * 200, "too large"),
    ],
)
def test_bad_data_is_refused_with_a_clear_message(data: str, message: str):
    with pytest.raises(CalendarDataError, match=message):
        expand_data(data, MARCH, "UTC", limits=Limits(max_bytes=100))


def test_too_many_events_are_refused():
    data = vcalendar(*(ev(f"e{i}", "DTSTART:20260302T090000Z") for i in range(5)))
    with pytest.raises(CalendarDataError, match="too many events"):
        parse(data, Limits(max_components=4))


def test_bad_events_are_skipped_with_warnings_and_the_rest_kept():
    data = vcalendar(
        ev("no-start", "SUMMARY:nothing"),
        ev("backwards", "DTSTART:20260302T100000Z", "DTEND:20260302T090000Z"),
        ev("bad-rule", "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z", "RRULE:FREQ=OFTEN"),
        ev("good", "DTSTART:20260304T090000Z", "DTEND:20260304T100000Z"),
    )
    result = expand_data(data, MARCH, "UTC")
    assert "good" in [s.uid for s in result.spans]
    assert "no-start" not in [s.uid for s in result.spans]
    assert "backwards" not in [s.uid for s in result.spans]
    assert any("no DTSTART" in w for w in result.warnings)
    assert any("ends before it starts" in w for w in result.warnings)


def test_merge_joins_overlapping_and_touching():
    a = datetime(2026, 3, 1, tzinfo=UTC)
    h = timedelta(hours=1)
    merged = merge([Interval(a + 3 * h, a + 4 * h), Interval(a, a + h), Interval(a + h, a + 2 * h)])
    assert merged == [Interval(a, a + 2 * h), Interval(a + 3 * h, a + 4 * h)]


# Properties ----------------------------------------------------------------------------------------

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "UTC",
]
EXAMPLES = settings(max_examples=60, deadline=None)


def _wall(instant: datetime, zone: str) -> tuple[date, int, int]:
    local = instant.astimezone(ZoneInfo(zone))
    return local.date(), local.hour, local.minute


@EXAMPLES
@given(
    zone=st.sampled_from(ZONES),
    first=st.dates(min_value=date(2018, 1, 1), max_value=date(2030, 12, 1)),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    weeks=st.integers(1, 12),
    minutes=st.integers(15, 180),
    tzid=st.booleans(),
)
def test_weekly_occurrences_keep_their_wall_clock_in_their_zone(
    zone, first, hour, minute, weeks, minutes, tzid
):
    """Whether the series names its zone (TZID) or floats in the calendar's zone, every
    occurrence starts at the same wall-clock time in that zone (where that time exists), one week
    apart by date, and lasts its duration."""
    start = datetime(first.year, first.month, first.day, hour, minute)
    end = start + timedelta(minutes=minutes)
    stamp = "%Y%m%dT%H%M%S"
    prefix = f";TZID={zone}" if tzid else ""
    data = vcalendar(
        ev(
            "w",
            f"DTSTART{prefix}:{start.strftime(stamp)}",
            f"DTEND{prefix}:{end.strftime(stamp)}",
            f"RRULE:FREQ=WEEKLY;COUNT={weeks}",
        )
    )
    window = Interval(
        datetime.combine(first, datetime.min.time(), UTC) - timedelta(days=2),
        datetime.combine(first, datetime.min.time(), UTC) + timedelta(weeks=weeks, days=2),
    )
    result = expand_data(data, window, zone)
    assert len(result.spans) == weeks
    for n, span in enumerate(result.spans):
        day, h, m = _wall(span.start, zone)
        assert day == first + timedelta(weeks=n) or (day, h, m) != (first, hour, minute)
        wall = datetime(day.year, day.month, day.day, h, m)
        expected = datetime.combine(first + timedelta(weeks=n), start.time())
        # Equal, or later by a DST gap the wall-clock time fell into.
        assert timedelta(0) <= wall - expected <= timedelta(hours=1)
        assert span.end > span.start


@EXAMPLES
@given(
    zone=st.sampled_from(ZONES),
    day=st.dates(min_value=date(2018, 1, 1), max_value=date(2030, 12, 1)),
    days=st.integers(1, 4),
)
def test_all_day_events_span_local_midnight_to_local_midnight(zone, day, days):
    data = vcalendar(
        ev(
            "a",
            f"DTSTART;VALUE=DATE:{day.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(day + timedelta(days=days)).strftime('%Y%m%d')}",
        )
    )
    window = Interval(
        datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=2),
        datetime.combine(day, datetime.min.time(), UTC) + timedelta(days=days + 2),
    )
    (span,) = expand_data(data, window, zone).spans
    tz = ZoneInfo(zone)
    assert span.start.astimezone(tz).date() == day
    assert span.end.astimezone(tz).date() == day + timedelta(days=days)
    assert span.start.astimezone(tz).time() <= datetime.min.time().replace(hour=1)
    # Nothing of the day before (or after) is covered.
    assert (span.start - timedelta(seconds=1)).astimezone(tz).date() < day
