"""The slot explainer: its verdict is the engine's (empty exactly when the slot is free), and
each refusing rule is named."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.scheduling import Availability, DateOverride, Interval, SlotRules, WeeklyRule, is_free_slot
from app.scheduling.explain import CalendarBusyTime, HeldBooking, explain

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = Availability("Europe/Berlin", tuple(WeeklyRule(d, 9 * 60, 17 * 60) for d in range(5)))
NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
MONDAY = date(2026, 12, 7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def codes(start: datetime, rules: SlotRules = SlotRules(30), **kw) -> list[str]:
    return [r.code for r in explain(start, kw.pop("availability", HOURS), rules, NOW, **kw)]


def test_a_free_slot_has_no_reasons():
    assert codes(at(MONDAY, 10)) == []


def test_each_rule_is_named():
    assert codes(at(MONDAY, 8)) == ["outside_hours"]
    assert codes(at(MONDAY, 10, 10)) == ["not_on_grid"]
    assert codes(NOW - timedelta(hours=1)) == ["past", "outside_hours"]
    assert codes(at(date(2026, 12, 1), 10), SlotRules(30, min_notice_minutes=240)) == ["min_notice"]
    assert codes(at(MONDAY, 10), SlotRules(30, booking_window_days=3)) == ["booking_window"]
    closed = Availability(HOURS.timezone, HOURS.weekly, (DateOverride(MONDAY, ()),))
    assert codes(at(MONDAY, 10), availability=closed) == ["date_override"]
    assert codes(at(MONDAY, 10), SlotRules(30, max_per_day=1), booked_starts=[at(MONDAY, 14)]) == [
        "daily_limit"
    ]


def test_bookings_buffers_and_calendar_busy_times():
    held = HeldBooking(
        "bkg_1",
        Interval(at(MONDAY, 10), at(MONDAY, 10, 30)),
        Interval(at(MONDAY, 10), at(MONDAY, 10, 30)),
    )
    assert codes(at(MONDAY, 10), bookings=[held]) == ["booking"]
    with_buffer = SlotRules(30, buffer_after_minutes=15)
    reasons = explain(at(MONDAY, 9, 30), HOURS, with_buffer, NOW, bookings=[held])
    assert [(r.code, r.label) for r in reasons] == [("buffer", "bkg_1")]
    busy = CalendarBusyTime("Work", Interval(at(MONDAY, 10, 15), at(MONDAY, 11)))
    [reason] = explain(at(MONDAY, 10), HOURS, SlotRules(30), NOW, busy=[busy])
    assert (reason.code, reason.label, reason.start) == ("calendar", "Work", at(MONDAY, 10, 15))


@settings(max_examples=150, deadline=None)
@given(
    day=st.integers(0, 20),
    minute=st.integers(6 * 4, 20 * 4).map(lambda q: q * 15),
    duration=st.sampled_from([15, 30, 45, 60]),
    notice=st.sampled_from([0, 120, 2000]),
    window=st.sampled_from([None, 3, 10]),
    cap=st.sampled_from([None, 1]),
    busy=st.lists(st.tuples(st.integers(0, 20 * 96), st.integers(1, 16)), max_size=4),
)
def test_explain_is_empty_exactly_when_the_engine_offers_the_slot(
    day, minute, duration, notice, window, cap, busy
):
    rules = SlotRules(
        duration, min_notice_minutes=notice, booking_window_days=window, max_per_day=cap
    )
    start = at(date(2026, 12, 1) + timedelta(days=day), 0) + timedelta(minutes=minute)
    base = at(date(2026, 12, 1), 0)
    spans = [
        CalendarBusyTime(
            "c", Interval(base + timedelta(minutes=15 * s), base + timedelta(minutes=15 * (s + n)))
        )
        for s, n in busy
    ]
    starts = [s.span.start for s in spans[:1]]
    free = is_free_slot(
        Interval(start, start + timedelta(minutes=duration)),
        HOURS,
        rules,
        NOW,
        [s.span for s in spans],
        starts,
    )
    reasons = explain(start, HOURS, rules, NOW, busy=spans, booked_starts=starts)
    assert (reasons == []) == free
