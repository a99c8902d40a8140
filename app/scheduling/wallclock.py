"""Turning a host's wall-clock hours into instants.

Hosts think in wall-clock time, bookings live on the UTC timeline, and the two disagree whenever
a zone changes its offset. One rule settles every case: a wall-clock time means the earliest
instant at which the local clock reads that time or later. That is the first occurrence of a
repeated time and the end of a skipped one, so 09:00-17:00 on a spring-forward day is still
09:00-17:00, and a whole day lasts 23 or 25 hours (or none at all, as Apia's 2011-12-30).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 1440


def zone(name: str) -> ZoneInfo:
    """The zone called `name`, failing with a message that names it rather than a bare KeyError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {name!r}") from err


def wall_to_utc(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The instant a host means by `minute` after local midnight of `day` (1440 = next midnight)."""
    extra_days, minute = divmod(minute, MINUTES_PER_DAY)
    wall = datetime.combine(day + timedelta(days=extra_days), time(minute // 60, minute % 60))
    # fold=0 is the first occurrence of a repeated time, which is what we want; in a gap it lands
    # after the gap but too far by the gap's length, which the round trip reveals.
    instant = wall.replace(tzinfo=tz).astimezone(UTC)
    if _wall(instant, tz) == wall:
        return instant
    return _end_of_gap(wall, tz)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _end_of_gap(wall: datetime, tz: ZoneInfo) -> datetime:
    """The transition instant that skips over `wall`.

    zoneinfo does not expose transitions, so search for it: fold=1 reads `wall` with the offset
    after the gap, which lands before the transition, and fold=0 lands after it. Transitions fall
    on whole seconds, so a bisection over seconds finds it exactly in a few dozen steps at most.
    """
    before = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    after = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    low, high = 0, int((after - before).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(before + timedelta(seconds=middle), tz) >= wall:
            high = middle
        else:
            low = middle
    return before + timedelta(seconds=high)
