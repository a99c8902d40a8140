"""The pure slot engine: availability, rules and busy time in, bookable intervals out."""

from app.scheduling.slots import (
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

__all__ = [
    "Availability",
    "DateOverride",
    "Interval",
    "SlotRules",
    "WeeklyRule",
    "free_slots",
    "group_by_date",
    "held_range",
    "is_free_slot",
    "local_day_window",
]
