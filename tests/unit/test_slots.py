"""Behaviour of the slot engine, pinned on concrete calendars.

Dates used: 2024-03-31 and 2024-10-27 are Berlin's DST changes, 2024-03-10 and 2024-11-03 New
York's; 2024-06-10 is a Monday in an ordinary week.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.scheduling import (
    Availability,
    DateOverride,
    Interval,
    SlotRules,
    WeeklyRule,
    free_slots,
    group_by_date,
    held_range,
    is_free_slot,
    local_day_window,
)

BERLIN = "Europe/Berlin"
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
WORKDAYS = range(5)


def at(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in `zone` as a UTC instant (first occurrence if repeated)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def span(zone: str, day: date, start: str, end: str) -> Interval:
    """An interval given as local "HH:MM" wall-clock times on `day`."""
    return Interval(_on(zone, day, start), _on(zone, day, end))


def _on(zone: str, day: date, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return at(zone, day.year, day.month, day.day, hour, minute)


def nine_to_five(zone: str, overrides: tuple[DateOverride, ...] = ()) -> Availability:
    return Availability(zone, tuple(WeeklyRule(d, 9 * 60, 17 * 60) for d in WORKDAYS), overrides)


def hours(zone: str, weekday: int, start: int, end: int) -> Availability:
    return Availability(zone, (WeeklyRule(weekday, start, end),))


def slots_on(
    availability: Availability,
    day: date,
    rules: SlotRules,
    now: datetime = LONG_AGO,
    busy: Sequence[Interval] = (),
) -> list[Interval]:
    """The slots of one host-local date."""
    window = local_day_window(day, day, availability.timezone)
    return free_slots(availability, rules, window, now, busy)


def walls(slots: list[Interval], zone: str) -> list[str]:
    """Slot starts as the host reads them, with the zone abbreviation to tell repeated hours apart."""
    return [slot.start.astimezone(ZoneInfo(zone)).strftime("%H:%M %Z") for slot in slots]


def hhmm(slots: list[Interval], zone: str) -> list[str]:
    return [slot.start.astimezone(ZoneInfo(zone)).strftime("%H:%M") for slot in slots]


# --- an ordinary week ------------------------------------------------------------------------


def test_a_berlin_working_week_has_sixteen_half_hour_slots_a_weekday_and_none_at_the_weekend():
    week = local_day_window(date(2024, 6, 10), date(2024, 6, 16), BERLIN)

    slots = free_slots(nine_to_five(BERLIN), SlotRules(30), week, LONG_AGO)

    by_day = group_by_date(slots, BERLIN)
    assert [(day, len(day_slots)) for day, day_slots in by_day] == [
        (date(2024, 6, 10 + i), 16) for i in range(5)
    ]
    assert hhmm(by_day[0][1], BERLIN) == [f"{h:02}:{m:02}" for h in range(9, 17) for m in (0, 30)]
    assert slots[0] == Interval(
        datetime(2024, 6, 10, 7, tzinfo=UTC), datetime(2024, 6, 10, 7, 30, tzinfo=UTC)
    )
    assert all(slot.end - slot.start == timedelta(minutes=30) for slot in slots)
    assert all(slot.start.tzinfo is UTC for slot in slots)


# --- DST in Berlin -----------------------------------------------------------------------------

SPRING_FORWARD = date(2024, 3, 31)  # 02:00 CET -> 03:00 CEST
FALL_BACK = date(2024, 10, 27)  # 03:00 CEST -> 02:00 CET


def test_a_whole_sunday_is_23_hours_when_clocks_spring_forward():
    slots = slots_on(hours(BERLIN, 6, 0, 1440), SPRING_FORWARD, SlotRules(60))

    assert len(slots) == 23
    assert hhmm(slots, BERLIN) == [f"{h:02}:00" for h in range(24) if h != 2]
    assert slots[0].start == datetime(2024, 3, 30, 23, tzinfo=UTC)
    assert slots[-1].end == datetime(2024, 3, 31, 22, tzinfo=UTC)


def test_a_whole_sunday_is_25_hours_when_clocks_fall_back():
    slots = slots_on(hours(BERLIN, 6, 0, 1440), FALL_BACK, SlotRules(60))

    assert len(slots) == 25
    assert walls(slots, BERLIN)[1:5] == ["01:00 CEST", "02:00 CEST", "02:00 CET", "03:00 CET"]


def test_one_to_four_on_spring_forward_day_lasts_two_real_hours():
    slots = slots_on(hours(BERLIN, 6, 60, 240), SPRING_FORWARD, SlotRules(60))

    assert walls(slots, BERLIN) == ["01:00 CET", "03:00 CEST"]
    assert slots[-1].end == at(BERLIN, 2024, 3, 31, 4)


def test_one_to_four_on_fall_back_day_lasts_four_real_hours():
    slots = slots_on(hours(BERLIN, 6, 60, 240), FALL_BACK, SlotRules(60))

    assert walls(slots, BERLIN) == ["01:00 CEST", "02:00 CEST", "02:00 CET", "03:00 CET"]


def test_hours_starting_inside_the_skipped_hour_start_when_the_clock_resumes():
    slots = slots_on(hours(BERLIN, 6, 150, 240), SPRING_FORWARD, SlotRules(30))  # 02:30-04:00

    assert walls(slots, BERLIN) == ["03:00 CEST", "03:30 CEST"]


def test_hours_starting_inside_the_repeated_hour_start_at_its_first_occurrence():
    slots = slots_on(hours(BERLIN, 6, 150, 210), FALL_BACK, SlotRules(30))  # 02:30-03:30

    assert walls(slots, BERLIN) == ["02:30 CEST", "02:00 CET", "02:30 CET", "03:00 CET"]


def test_nine_to_five_keeps_its_wall_clock_hours_across_a_dst_change():
    for day in (SPRING_FORWARD, FALL_BACK):
        slots = slots_on(hours(BERLIN, 6, 9 * 60, 17 * 60), day, SlotRules(30))
        assert hhmm(slots, BERLIN)[0] == "09:00"
        assert len(slots) == 16


# --- New York ----------------------------------------------------------------------------------

NEW_YORK = "America/New_York"


def test_new_york_sunday_hours_move_in_utc_but_not_on_the_wall_when_dst_starts():
    availability = hours(NEW_YORK, 6, 9 * 60, 17 * 60)

    before = slots_on(availability, date(2024, 3, 3), SlotRules(60))
    on = slots_on(availability, date(2024, 3, 10), SlotRules(60))

    assert before[0].start == datetime(2024, 3, 3, 14, tzinfo=UTC)
    assert on[0].start == datetime(2024, 3, 10, 13, tzinfo=UTC)
    assert hhmm(before, NEW_YORK) == hhmm(on, NEW_YORK) == [f"{h:02}:00" for h in range(9, 17)]


def test_new_york_dst_days_are_23_and_25_hours():
    availability = hours(NEW_YORK, 6, 0, 1440)

    assert len(slots_on(availability, date(2024, 3, 10), SlotRules(60))) == 23
    assert len(slots_on(availability, date(2024, 11, 3), SlotRules(60))) == 25
    assert walls(slots_on(availability, date(2024, 11, 3), SlotRules(60)), NEW_YORK)[1:3] == [
        "01:00 EDT",
        "01:00 EST",
    ]


# --- odd offsets -------------------------------------------------------------------------------


def test_kolkata_host_seen_from_los_angeles_spreads_one_host_day_over_two_guest_dates():
    monday = date(2024, 1, 8)
    slots = slots_on(nine_to_five("Asia/Kolkata"), monday, SlotRules(30))

    guest_days = group_by_date(slots, "America/Los_Angeles")

    assert [(day, len(day_slots)) for day, day_slots in guest_days] == [
        (date(2024, 1, 7), 9),
        (date(2024, 1, 8), 7),
    ]
    assert hhmm(guest_days[0][1], "America/Los_Angeles")[0] == "19:30"
    assert hhmm(guest_days[1][1], "America/Los_Angeles")[-1] == "03:00"
    assert slots[0].start == datetime(2024, 1, 8, 3, 30, tzinfo=UTC)


def test_kathmandu_quarter_hour_offset():
    slots = slots_on(nine_to_five("Asia/Kathmandu"), date(2024, 6, 10), SlotRules(60))

    assert slots[0].start == datetime(2024, 6, 10, 3, 15, tzinfo=UTC)
    assert len(slots) == 8


LORD_HOWE = "Australia/Lord_Howe"  # +10:30, +11:00 in summer: a half-hour DST shift


def test_lord_howe_whole_days_are_23_and_a_half_and_24_and_a_half_hours_on_its_dst_days():
    availability = Availability(LORD_HOWE, (WeeklyRule(6, 0, 1440),))

    starts = slots_on(availability, date(2024, 10, 6), SlotRules(30))
    ends = slots_on(availability, date(2024, 4, 7), SlotRules(30))

    assert len(starts) == 47
    assert len(ends) == 49
    assert "02:00" not in hhmm(starts, LORD_HOWE)
    assert hhmm(ends, LORD_HOWE).count("01:30") == 2


def test_lord_howe_nine_to_five_in_utc_follows_the_half_hour_shift():
    availability = Availability(LORD_HOWE, (WeeklyRule(6, 9 * 60, 17 * 60),))

    winter = slots_on(availability, date(2024, 6, 9), SlotRules(30))
    summer = slots_on(availability, date(2024, 12, 8), SlotRules(30))

    assert winter[0].start == datetime(2024, 6, 8, 22, 30, tzinfo=UTC)
    assert summer[0].start == datetime(2024, 12, 7, 22, tzinfo=UTC)


CHATHAM = "Pacific/Chatham"  # +12:45, +13:45 in summer


def test_chatham_morning_falls_on_the_previous_utc_date():
    slots = slots_on(nine_to_five(CHATHAM), date(2024, 6, 10), SlotRules(60))

    assert slots[0].start == datetime(2024, 6, 9, 20, 15, tzinfo=UTC)
    assert [day for day, _ in group_by_date(slots, "UTC")] == [date(2024, 6, 9), date(2024, 6, 10)]


def test_chatham_spring_forward_skips_the_hour_from_02_45():
    slots = slots_on(hours(CHATHAM, 6, 0, 1440), date(2024, 9, 29), SlotRules(15))

    assert len(slots) == 23 * 4
    assert hhmm(slots, CHATHAM)[10:12] == ["02:30", "03:45"]


def test_apia_skipped_2011_12_30_entirely():
    apia = "Pacific/Apia"
    availability = Availability(apia, tuple(WeeklyRule(d, 0, 1440) for d in range(7)))
    window = local_day_window(date(2011, 12, 29), date(2011, 12, 31), apia)

    slots = free_slots(availability, SlotRules(60), window, LONG_AGO)

    assert [(day, len(s)) for day, s in group_by_date(slots, apia)] == [
        (date(2011, 12, 29), 24),
        (date(2011, 12, 31), 24),
    ]
    skipped = local_day_window(date(2011, 12, 30), date(2011, 12, 30), apia)
    assert skipped.start == skipped.end


# --- overrides ---------------------------------------------------------------------------------


def test_an_override_without_hours_closes_the_day():
    closed = DateOverride(date(2024, 6, 11))
    availability = nine_to_five(BERLIN, overrides=(closed,))
    week = local_day_window(date(2024, 6, 10), date(2024, 6, 14), BERLIN)

    slots = free_slots(availability, SlotRules(30), week, LONG_AGO)

    assert date(2024, 6, 11) not in dict(group_by_date(slots, BERLIN))
    assert len(slots) == 4 * 16


def test_an_override_replaces_the_weekly_hours_of_its_date_only():
    tuesday = date(2024, 6, 11)
    short = DateOverride(tuesday, ((13 * 60, 14 * 60), (16 * 60, 17 * 60)))
    availability = nine_to_five(BERLIN, overrides=(short,))

    assert hhmm(slots_on(availability, tuesday, SlotRules(30)), BERLIN) == [
        "13:00",
        "13:30",
        "16:00",
        "16:30",
    ]
    assert len(slots_on(availability, date(2024, 6, 12), SlotRules(30))) == 16


def test_an_override_can_open_a_day_without_weekly_hours():
    saturday = date(2024, 6, 15)
    availability = nine_to_five(BERLIN, overrides=(DateOverride(saturday, ((600, 720),)),))

    assert hhmm(slots_on(availability, saturday, SlotRules(60)), BERLIN) == ["10:00", "11:00"]


def test_overlapping_and_adjacent_hours_of_a_day_merge_before_slots_are_cut():
    monday = date(2024, 6, 10)
    rules = (WeeklyRule(0, 540, 600), WeeklyRule(0, 600, 660), WeeklyRule(0, 630, 720))
    availability = Availability(BERLIN, rules)

    assert hhmm(slots_on(availability, monday, SlotRules(90)), BERLIN) == ["09:00", "10:30"]


# --- busy time and buffers ---------------------------------------------------------------------

MONDAY = date(2024, 6, 10)


def test_a_slot_may_touch_a_busy_range_but_not_overlap_it():
    busy = [span(BERLIN, MONDAY, "10:00", "11:00")]

    slots = slots_on(nine_to_five(BERLIN), MONDAY, SlotRules(30), busy=busy)

    assert "09:30" in hhmm(slots, BERLIN)
    assert "10:00" not in hhmm(slots, BERLIN)
    assert "10:30" not in hhmm(slots, BERLIN)
    assert "11:00" in hhmm(slots, BERLIN)


def test_a_slot_overlapping_busy_time_by_a_minute_is_not_offered():
    busy = [span(BERLIN, MONDAY, "10:29", "10:31")]

    slots = slots_on(nine_to_five(BERLIN), MONDAY, SlotRules(30), busy=busy)

    assert {"10:00", "10:30"}.isdisjoint(hhmm(slots, BERLIN))
    assert {"09:30", "11:00"} <= set(hhmm(slots, BERLIN))


def test_the_slots_own_buffers_must_stay_clear_of_busy_time():
    busy = [span(BERLIN, MONDAY, "10:00", "11:00")]
    rules = SlotRules(30, buffer_before_minutes=15, buffer_after_minutes=10)

    offered = hhmm(slots_on(nine_to_five(BERLIN), MONDAY, rules, busy=busy), BERLIN)

    assert "09:30" not in offered  # its after-buffer runs to 10:10
    assert "11:00" not in offered  # its before-buffer starts at 10:45
    assert "09:00" in offered
    assert "11:30" in offered  # its before-buffer starts at 11:15


def test_buffers_on_both_sides_add_up_and_may_just_touch():
    # another booking 10:00-11:00 with a 15-minute after-buffer holds 10:00-11:15
    other = Interval(at(BERLIN, 2024, 6, 10, 10), at(BERLIN, 2024, 6, 10, 11, 15))
    rules = SlotRules(30, interval_minutes=15, buffer_before_minutes=15)

    offered = hhmm(slots_on(nine_to_five(BERLIN), MONDAY, rules, busy=[other]), BERLIN)

    assert "11:15" not in offered
    assert "11:30" in offered  # held from 11:15, touching the other booking's buffer


def test_buffers_may_reach_outside_the_hours():
    rules = SlotRules(30, buffer_before_minutes=30, buffer_after_minutes=30)

    offered = hhmm(slots_on(nine_to_five(BERLIN), MONDAY, rules), BERLIN)

    assert offered[0] == "09:00"
    assert offered[-1] == "16:30"


def test_held_range_widens_a_slot_by_its_buffers():
    slot = span(BERLIN, MONDAY, "10:00", "10:30")
    rules = SlotRules(30, buffer_before_minutes=5, buffer_after_minutes=20)

    assert held_range(slot, rules) == span(BERLIN, MONDAY, "09:55", "10:50")


def test_busy_ranges_are_found_however_many_and_in_whatever_order():
    busy = [span(BERLIN, MONDAY, f"{h:02}:00", f"{h:02}:30") for h in range(16, 8, -2)]

    offered = hhmm(slots_on(nine_to_five(BERLIN), MONDAY, SlotRules(30), busy=busy), BERLIN)

    taken = {"10:00", "12:00", "14:00", "16:00"}
    half_hours = [f"{h:02}:{m:02}" for h in range(9, 17) for m in (0, 30)]
    assert offered == [start for start in half_hours if start not in taken]


# --- grid ---------------------------------------------------------------------------------------


def test_a_15_minute_interval_gives_overlapping_30_minute_slots():
    availability = hours(BERLIN, 0, 9 * 60, 10 * 60)

    slots = slots_on(availability, MONDAY, SlotRules(30, interval_minutes=15))

    assert hhmm(slots, BERLIN) == ["09:00", "09:15", "09:30"]
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)


def test_slot_starts_step_from_the_start_of_the_hours():
    availability = hours(BERLIN, 0, 9 * 60 + 10, 11 * 60)

    assert hhmm(slots_on(availability, MONDAY, SlotRules(45)), BERLIN) == ["09:10", "09:55"]


# --- time limits --------------------------------------------------------------------------------


def test_past_slots_are_not_offered():
    now = at(BERLIN, 2024, 6, 10, 10, 5)

    offered = hhmm(slots_on(nine_to_five(BERLIN), MONDAY, SlotRules(30), now=now), BERLIN)

    assert offered[0] == "10:30"


def test_a_slot_starting_exactly_now_is_offered():
    now = at(BERLIN, 2024, 6, 10, 10)

    offered = hhmm(slots_on(nine_to_five(BERLIN), MONDAY, SlotRules(30), now=now), BERLIN)

    assert offered[0] == "10:00"


def test_minimum_notice_keeps_slots_at_least_that_far_from_now():
    now = at(BERLIN, 2024, 6, 10, 10, 5)
    rules = SlotRules(30, min_notice_minutes=60)

    offered = hhmm(slots_on(nine_to_five(BERLIN), MONDAY, rules, now=now), BERLIN)

    assert offered[0] == "11:30"  # 11:05 is the earliest, the grid gives 11:30


def test_the_booking_window_ends_slot_starts_that_many_days_after_now():
    now = at(BERLIN, 2024, 6, 10, 12)
    rules = SlotRules(30, booking_window_days=2)
    week = local_day_window(date(2024, 6, 10), date(2024, 6, 14), BERLIN)

    by_day = dict(group_by_date(free_slots(nine_to_five(BERLIN), rules, week, now), BERLIN))

    assert sorted(by_day) == [date(2024, 6, 10), date(2024, 6, 11), date(2024, 6, 12)]
    assert hhmm(by_day[date(2024, 6, 12)], BERLIN)[-1] == "11:30"  # 12:00 is not before the limit


def test_max_per_day_closes_a_host_local_date_once_reached():
    tuesday_just_after_midnight = at(BERLIN, 2024, 6, 11, 0, 30)  # still Monday in UTC
    booked = [tuesday_just_after_midnight, at(BERLIN, 2024, 6, 11, 9), at(BERLIN, 2024, 6, 10, 9)]
    week = local_day_window(date(2024, 6, 10), date(2024, 6, 12), BERLIN)

    slots = free_slots(
        nine_to_five(BERLIN), SlotRules(30, max_per_day=2), week, LONG_AGO, booked_starts=booked
    )

    by_day = dict(group_by_date(slots, BERLIN))
    assert sorted(by_day) == [date(2024, 6, 10), date(2024, 6, 12)]
    assert len(by_day[date(2024, 6, 10)]) == 16


def test_the_window_cuts_slots_without_moving_the_grid():
    window = Interval(at(BERLIN, 2024, 6, 10, 10, 10), at(BERLIN, 2024, 6, 10, 12))

    slots = free_slots(nine_to_five(BERLIN), SlotRules(30), window, LONG_AGO)

    assert hhmm(slots, BERLIN) == ["10:30", "11:00", "11:30"]  # 11:30-12:00 ends on the edge


def test_a_window_given_in_another_zone_means_the_same_instants():
    utc_window = local_day_window(MONDAY, MONDAY, BERLIN)
    tokyo = ZoneInfo("Asia/Tokyo")
    tokyo_window = Interval(utc_window.start.astimezone(tokyo), utc_window.end.astimezone(tokyo))

    assert free_slots(nine_to_five(BERLIN), SlotRules(30), tokyo_window, LONG_AGO) == free_slots(
        nine_to_five(BERLIN), SlotRules(30), utc_window, LONG_AGO
    )


# --- is_free_slot -------------------------------------------------------------------------------


def test_is_free_slot_accepts_exactly_the_offered_slots():
    busy = [span(BERLIN, MONDAY, "10:00", "11:00")]
    availability, rules = nine_to_five(BERLIN), SlotRules(30)
    now = at(BERLIN, 2024, 6, 10, 9, 40)

    def free(start: str, end: str) -> bool:
        return is_free_slot(span(BERLIN, MONDAY, start, end), availability, rules, now, busy)

    assert free("11:00", "11:30")
    assert free("16:30", "17:00")
    assert not free("09:30", "10:00")  # already past
    assert not free("10:30", "11:00")  # busy
    assert not free("11:15", "11:45")  # off the grid
    assert not free("11:00", "12:00")  # wrong length
    assert not free("17:00", "17:30")  # outside the hours


def test_is_free_slot_respects_max_per_day():
    slot = span(BERLIN, MONDAY, "11:00", "11:30")
    rules = SlotRules(30, max_per_day=1)
    booked = [at(BERLIN, 2024, 6, 10, 15)]

    assert is_free_slot(slot, nine_to_five(BERLIN), rules, LONG_AGO)
    assert not is_free_slot(slot, nine_to_five(BERLIN), rules, LONG_AGO, booked_starts=booked)


# --- grouping and day windows -------------------------------------------------------------------


def test_group_by_date_across_the_date_line():
    morning = Interval(
        datetime(2024, 6, 10, 9, tzinfo=UTC), datetime(2024, 6, 10, 9, 30, tzinfo=UTC)
    )
    noon = Interval(
        datetime(2024, 6, 10, 12, tzinfo=UTC), datetime(2024, 6, 10, 12, 30, tzinfo=UTC)
    )

    assert group_by_date([morning, noon], "Pacific/Kiritimati") == [  # UTC+14
        (date(2024, 6, 10), [morning]),
        (date(2024, 6, 11), [noon]),
    ]
    assert group_by_date([morning, noon], "Pacific/Pago_Pago") == [  # UTC-11
        (date(2024, 6, 9), [morning]),
        (date(2024, 6, 10), [noon]),
    ]
    assert group_by_date([], "UTC") == []


def test_local_day_window_is_23_or_25_hours_on_dst_days():
    def length(first: date, last: date, zone: str = BERLIN) -> timedelta:
        window = local_day_window(first, last, zone)
        return window.end - window.start

    assert length(SPRING_FORWARD, SPRING_FORWARD) == timedelta(hours=23)
    assert length(FALL_BACK, FALL_BACK) == timedelta(hours=25)
    assert length(date(2024, 6, 10), date(2024, 6, 10)) == timedelta(hours=24)
    assert length(date(2024, 3, 25), SPRING_FORWARD) == timedelta(days=7, hours=-1)
    assert local_day_window(SPRING_FORWARD, SPRING_FORWARD, BERLIN) == Interval(
        datetime(2024, 3, 30, 23, tzinfo=UTC), datetime(2024, 3, 31, 22, tzinfo=UTC)
    )
    assert length(date(2024, 10, 6), date(2024, 10, 6), LORD_HOWE) == timedelta(hours=23.5)


def test_local_day_window_starts_when_a_skipped_midnight_resumes():
    # Brazil started DST at midnight: 2018-11-04 began at 01:00 local
    window = local_day_window(date(2018, 11, 4), date(2018, 11, 4), "America/Sao_Paulo")

    assert window.start == datetime(2018, 11, 4, 3, tzinfo=UTC)
    assert window.end - window.start == timedelta(hours=23)


# --- invalid input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("availability", "rules", "message"),
    [
        (nine_to_five("Mars/Olympus_Mons"), SlotRules(30), "Mars/Olympus_Mons"),
        (nine_to_five(BERLIN), SlotRules(0), "duration"),
        (nine_to_five(BERLIN), SlotRules(30, interval_minutes=0), "interval"),
        (nine_to_five(BERLIN), SlotRules(30, buffer_before_minutes=-5), "buffer_before"),
        (hours(BERLIN, 0, 600, 600), SlotRules(30), "start < end"),
        (hours(BERLIN, 0, 600, 1441), SlotRules(30), "1440"),
        (hours(BERLIN, 7, 600, 700), SlotRules(30), "weekday"),
        (
            nine_to_five(BERLIN, overrides=(DateOverride(MONDAY, ((700, 600),)),)),
            SlotRules(30),
            "override 2024-06-10",
        ),
    ],
)
def test_invalid_input_is_refused_with_a_clear_message(
    availability: Availability, rules: SlotRules, message: str
):
    with pytest.raises(ValueError, match=message):
        slots_on(availability, MONDAY, rules)


def test_naive_datetimes_are_refused():
    window = local_day_window(MONDAY, MONDAY, BERLIN)
    naive = datetime(2024, 6, 10, 10)

    with pytest.raises(ValueError, match="now must be timezone-aware"):
        free_slots(nine_to_five(BERLIN), SlotRules(30), window, naive)
    with pytest.raises(ValueError, match="window"):
        free_slots(nine_to_five(BERLIN), SlotRules(30), Interval(naive, window.end), LONG_AGO)
    with pytest.raises(ValueError, match="busy"):
        free_slots(
            nine_to_five(BERLIN), SlotRules(30), window, LONG_AGO, busy=[Interval(naive, naive)]
        )
    with pytest.raises(ValueError, match="slot"):
        is_free_slot(Interval(naive, naive), nine_to_five(BERLIN), SlotRules(30), LONG_AGO)


def test_unknown_guest_zone_is_refused():
    with pytest.raises(ValueError, match="Nowhere/Land"):
        group_by_date([], "Nowhere/Land")
