"""Properties of the slot engine over random hosts, zones, bookings and DST-prone windows.

The checks read wall-clock time with their own tools: `instant_of` below restates the engine's
rule for turning a wall-clock time into an instant ("the earliest instant whose local clock reads
that time or later") as a brute-force search, so that a slip in the engine's zone handling shows
up as a disagreement instead of being shared by the test.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

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
)

HOST_ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",  # DST until 2019, changing at midnight
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Pacific/Chatham",
    "Pacific/Apia",  # skipped 2011-12-30
    "Africa/Casablanca",  # leaves +01 during Ramadan
    "UTC",
]
GUEST_ZONES = [*HOST_ZONES, "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago"]

MINUTE = timedelta(minutes=1)
EXAMPLES = settings(max_examples=120, deadline=None)


# --- an independent reading of wall-clock time -------------------------------------------------


@lru_cache(maxsize=100_000)
def instant_of(day: date, minute: int, zone: str) -> datetime:
    """The earliest instant whose wall clock in `zone` reads `minute` after midnight of `day`, or later.

    That instant is either one where the clock reads exactly that time, under one of the offsets
    the zone uses nearby, or a transition at which the clock jumps past it.
    """
    tz = ZoneInfo(zone)
    wall = datetime(day.year, day.month, day.day) + minute * MINUTE
    as_if_utc = wall.replace(tzinfo=UTC)
    probes = [as_if_utc + timedelta(hours=h) for h in range(-30, 31)]
    candidates = {as_if_utc - offset(p, tz) for p in probes}
    for earlier, later in pairwise(probes):
        if offset(earlier, tz) != offset(later, tz):
            candidates.add(transition_between(earlier, later, tz))
    return min(c for c in candidates if c.astimezone(tz).replace(tzinfo=None) >= wall)


def offset(instant: datetime, tz: ZoneInfo) -> timedelta:
    result = instant.astimezone(tz).utcoffset()
    assert result is not None
    return result


def transition_between(earlier: datetime, later: datetime, tz: ZoneInfo) -> datetime:
    """The first instant using `later`'s offset, found to the second."""
    while later - earlier > timedelta(seconds=1):
        middle = earlier + (later - earlier) // 2
        middle = middle.replace(microsecond=0)
        if offset(middle, tz) == offset(later, tz):
            later = middle
        else:
            earlier = middle
    return later


def hours_of(availability: Availability, day: date) -> list[tuple[int, int]]:
    for override in availability.overrides:
        if override.day == day:
            return list(override.intervals)
    return [
        (r.start_minute, r.end_minute) for r in availability.weekly if r.weekday == day.weekday()
    ]


def stretches(availability: Availability, day: date) -> list[tuple[datetime, datetime]]:
    """The day's hours as instants, joined where they meet or overlap."""
    pieces = sorted(
        (instant_of(day, start, availability.timezone), instant_of(day, end, availability.timezone))
        for start, end in hours_of(availability, day)
    )
    joined: list[tuple[datetime, datetime]] = []
    for start, end in pieces:
        if start == end:
            continue
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def overlaps(a: Interval, b: Interval) -> bool:
    return a.start < b.end and b.start < a.end and a.start < a.end and b.start < b.end


def host_date(instant: datetime, zone: str) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


# --- random scenarios --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    availability: Availability
    rules: SlotRules
    window: Interval
    now: datetime
    busy: tuple[Interval, ...]
    booked_starts: tuple[datetime, ...]
    guest_zone: str

    @property
    def zone(self) -> str:
        return self.availability.timezone

    def slots(self, busy: Sequence[Interval] | None = None) -> list[Interval]:
        busy = self.busy if busy is None else busy
        return free_slots(
            self.availability, self.rules, self.window, self.now, busy, self.booked_starts
        )

    def is_free(self, slot: Interval) -> bool:
        return is_free_slot(
            slot, self.availability, self.rules, self.now, self.busy, self.booked_starts
        )


slot_rules = st.builds(
    SlotRules,
    duration_minutes=st.sampled_from([10, 15, 20, 30, 45, 60, 90, 120]),
    interval_minutes=st.one_of(st.none(), st.sampled_from([5, 10, 15, 20, 30, 45, 60])),
    buffer_before_minutes=st.sampled_from([0, 0, 5, 10, 15, 30]),
    buffer_after_minutes=st.sampled_from([0, 0, 5, 10, 15, 30]),
    min_notice_minutes=st.sampled_from([0, 0, 15, 60, 240, 1440]),
    booking_window_days=st.one_of(st.none(), st.none(), st.integers(0, 3)),
    max_per_day=st.one_of(st.none(), st.integers(1, 3)),
)
OFFICE_MINUTES = (0, 540, 720, 1020, 1440)


@lru_cache
def clock_changes(zone: str, year: int) -> list[datetime]:
    """Instants in `year` at which `zone` changes its offset."""
    tz = ZoneInfo(zone)
    noons = [datetime(year, 1, 1, 12, tzinfo=UTC) + timedelta(days=d) for d in range(366)]
    return [
        transition_between(a, b, tz) for a, b in pairwise(noons) if offset(a, tz) != offset(b, tz)
    ]


def readings_around(change: datetime, zone: str) -> tuple[int, ...]:
    """Wall-clock minutes at the edges of a clock change: skipped, repeated or just outside."""
    tz = ZoneInfo(zone)
    before = (change - MINUTE).astimezone(tz)
    after = change.astimezone(tz)
    edges = [before.hour * 60 + before.minute + 1, after.hour * 60 + after.minute]
    return tuple(sorted({max(0, min(1440, m + d)) for m in edges for d in (-30, 0, 30)}))


Hours = tuple[int, int]
# Strategies are built once per pool of minutes: building them per example is what costs time.
cached = cache


@cached
def hours_from(minutes: tuple[int, ...]) -> st.SearchStrategy[Hours]:
    """Hours whose edges mostly come from a few `minutes`, so hours often meet or overlap."""
    minute = st.one_of(st.sampled_from(minutes), st.sampled_from(minutes), st.integers(0, 1440))
    pairs = st.lists(minute, min_size=2, max_size=2, unique=True).map(lambda p: (min(p), max(p)))
    return st.one_of(pairs, pairs, st.sampled_from([(0, 1440), (540, 1020)]))


@cached
def day_from(minutes: tuple[int, ...]) -> st.SearchStrategy[tuple[Hours, ...]]:
    """A day's hours: a few independent ones, or a chain of hours each ending where the next starts."""
    edges = st.lists(
        st.sampled_from(sorted({0, 1440, *minutes})), min_size=3, max_size=4, unique=True
    )
    chain = edges.map(lambda chosen: tuple(pairwise(sorted(chosen))))
    return st.one_of(st.lists(hours_from(minutes), min_size=1, max_size=3).map(tuple), chain)


@cached
def weekly_rules(minutes: tuple[int, ...], every_day: bool) -> st.SearchStrategy[list[WeeklyRule]]:
    """The same hours every day (so the day of a clock change has some), or on random weekdays."""
    if every_day:
        return day_from(minutes).map(lambda day: [WeeklyRule(d, *h) for d in range(7) for h in day])
    return st.lists(
        st.builds(
            lambda weekday, h: WeeklyRule(weekday, *h), st.integers(0, 6), hours_from(minutes)
        ),
        min_size=1,
        max_size=12,
    )


@cached
def overrides_from(
    minutes: tuple[int, ...],
) -> st.SearchStrategy[list[tuple[int, tuple[Hours, ...]]]]:
    """(days after the window's first host date, hours) pairs; no hours closes the day."""
    return st.lists(
        st.tuples(st.integers(-1, 5), st.one_of(st.just(()), day_from(minutes))),
        max_size=3,
        unique_by=lambda o: o[0],
    )


minutes_around_window = st.integers(-1440, 6 * 1440)  # relative to the window's start
busy_ranges = st.lists(st.tuples(minutes_around_window, st.integers(1, 600)), max_size=12)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Mostly a window starting a few days before one of the host zone's clock changes."""
    zone = draw(st.sampled_from(HOST_ZONES))
    changes = clock_changes(zone, draw(st.integers(2010, 2032)))
    around_change = bool(changes) and draw(st.integers(0, 3)) > 0
    if around_change:
        change = draw(st.sampled_from(changes))
        start = change - draw(st.integers(0, 1440)) * MINUTE
        window = Interval(start, change + draw(st.integers(60, 3 * 1440)) * MINUTE)
        minutes = readings_around(change, zone)
    else:
        first = draw(st.dates(date(2010, 1, 1), date(2035, 12, 31)))
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        start += draw(st.integers(-18 * 60, 18 * 60)) * MINUTE
        window = Interval(start, start + draw(st.integers(6 * 60, 4 * 1440)) * MINUTE)
        minutes = OFFICE_MINUTES
    first_day = host_date(start, zone)

    overrides = [
        DateOverride(first_day + timedelta(days=days), hours)
        for days, hours in draw(overrides_from(minutes))
    ]
    busy = [
        Interval(start + at * MINUTE, start + (at + length) * MINUTE)
        for at, length in draw(busy_ranges)
    ]
    now = draw(
        st.one_of(
            st.integers(0, 3 * 1440).map(lambda m: start - m * MINUTE),
            minutes_around_window.map(lambda m: start + m * MINUTE),
            # on the hour, so that slots start exactly at the notice or booking-window limit
            st.integers(-72, 72).map(lambda h: start.replace(minute=0) + timedelta(hours=h)),
        )
    )
    now += draw(st.sampled_from([0, 0, 1, 59_999_999])) * timedelta(microseconds=1)
    booked_starts = [
        start + at * MINUTE for at in draw(st.lists(minutes_around_window, max_size=6))
    ]
    return Scenario(
        availability=Availability(
            zone, tuple(draw(weekly_rules(minutes, around_change))), tuple(overrides)
        ),
        rules=draw(slot_rules),
        window=window,
        now=now,
        busy=tuple(busy),
        booked_starts=tuple(booked_starts),
        guest_zone=draw(st.sampled_from(GUEST_ZONES)),
    )


def reference_slots(s: Scenario) -> list[Interval]:
    """The rules read literally: every grid start of every stretch, checked one by one."""
    rules = s.rules
    duration = rules.duration_minutes * MINUTE
    step = (rules.interval_minutes or rules.duration_minutes) * MINUTE
    booked_on = Counter(host_date(b, s.zone) for b in s.booked_starts)
    found = []
    day = host_date(s.window.start, s.zone) - timedelta(days=2)
    while day <= host_date(s.window.end, s.zone) + timedelta(days=2):
        if rules.max_per_day is None or booked_on[day] < rules.max_per_day:
            for start, end in stretches(s.availability, day):
                while start + duration <= end:
                    slot = Interval(start, start + duration)
                    if (
                        s.window.start <= slot.start
                        and slot.end <= s.window.end
                        and slot.start >= s.now + rules.min_notice_minutes * MINUTE
                        and (
                            rules.booking_window_days is None
                            or slot.start < s.now + timedelta(days=rules.booking_window_days)
                        )
                        and not any(overlaps(held_range(slot, rules), b) for b in s.busy)
                    ):
                        found.append(slot)
                    start += step
        day += timedelta(days=1)
    return found


def a_few(slots: list[Interval]) -> list[Interval]:
    """Every slot would make is_free_slot checks slow; a spread of them is as telling."""
    return slots[:: max(1, len(slots) // 12)] + slots[-1:]


# --- properties --------------------------------------------------------------------------------


@EXAMPLES
@given(scenarios())
def test_no_slot_holds_time_that_is_busy(s: Scenario):
    for slot in s.slots():
        held = held_range(slot, s.rules)
        assert not any(overlaps(held, busy) for busy in s.busy), slot


@EXAMPLES
@given(scenarios())
def test_every_slot_lies_within_the_hosts_hours(s: Scenario):
    tz = ZoneInfo(s.zone)
    for slot in s.slots():
        # On the timeline: inside one joined stretch of hours of a host date next to it.
        days = [host_date(slot.start, s.zone) + timedelta(days=d) for d in (-1, 0, 1)]
        assert any(
            start <= slot.start and slot.end <= end
            for day in days
            for start, end in stretches(s.availability, day)
        ), slot
        # On the wall clock: where the reading is unambiguous, the date's hours contain it.
        for instant in (slot.start, slot.end - timedelta(microseconds=1)):
            local = instant.astimezone(tz)
            if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
                continue  # a repeated reading belongs to whichever date's hours reached it
            reading = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
            assert any(
                start <= reading < end for start, end in hours_of(s.availability, local.date())
            ), (slot, local)


@EXAMPLES
@given(scenarios())
def test_is_free_slot_accepts_listed_slots_and_refuses_them_a_minute_off(s: Scenario):
    slots = s.slots()
    listed = set(slots)
    for slot in a_few(slots):
        assert s.is_free(slot), slot
        for shift in (MINUTE, -MINUTE):
            shifted = Interval(slot.start + shift, slot.end + shift)
            if shifted not in listed:
                assert not s.is_free(shifted), shifted


@EXAMPLES
@given(scenarios(), st.data())
def test_booking_a_slot_removes_it_and_only_what_collides_with_it(s: Scenario, data: st.DataObject):
    before = s.slots()
    if not before:
        return
    booked = data.draw(st.sampled_from(before))
    held = held_range(booked, s.rules)

    after = s.slots([*s.busy, held])

    assert booked not in after
    assert set(after) <= set(before)
    assert [slot for slot in before if not overlaps(held_range(slot, s.rules), held)] == after


@EXAMPLES
@given(scenarios())
def test_slots_are_sorted_distinct_whole_and_within_the_limits(s: Scenario):
    slots = s.slots()
    earliest = max(s.window.start, s.now + s.rules.min_notice_minutes * MINUTE)

    assert slots == sorted(slots, key=lambda slot: slot.start)
    assert len({slot.start for slot in slots}) == len(slots)
    for slot in slots:
        assert slot.end - slot.start == s.rules.duration_minutes * MINUTE
        assert slot.start.utcoffset() == timedelta(0)
        assert s.window.start <= slot.start and slot.end <= s.window.end
        assert slot.start >= earliest >= s.now


@EXAMPLES
@given(scenarios())
def test_grouping_by_guest_date_keeps_every_slot_under_its_local_date(s: Scenario):
    slots = s.slots()

    groups = group_by_date(slots, s.guest_zone)

    assert [slot for _, day_slots in groups for slot in day_slots] == slots
    assert [day for day, _ in groups] == sorted({day for day, _ in groups})
    for day, day_slots in groups:
        assert day_slots
        assert all(
            slot.start.astimezone(ZoneInfo(s.guest_zone)).date() == day for slot in day_slots
        )


@EXAMPLES
@given(scenarios())
def test_slots_are_exactly_what_the_rules_read_literally_allow(s: Scenario):
    assert s.slots() == reference_slots(s)
