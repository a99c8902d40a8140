"""The host API under ``/v2``: Cal.com API v2's paths and shapes, authenticated by API key.

One Router holds one controller per resource; its ``host`` dependency (auth.py) resolves the
``Authorization: Bearer`` key to its host or answers 401, and every handler works on that host's
objects only. Errors are shaped by app/web/errors.py; envelope.py says which code means what.
"""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from app.web.host_api.auth import COMPONENTS, SECURITY_SCHEME, current_host
from app.web.host_api.bookings import BookingController
from app.web.host_api.calendars import (
    CalendarController,
    DestinationCalendarController,
    SelectedCalendarController,
)
from app.web.host_api.event_types import EventTypeController
from app.web.host_api.me import MeController
from app.web.host_api.schedules import ScheduleController
from app.web.host_api.slots import SlotController
from app.web.host_api.webhooks import WebhookController
from app.web.security import NO_STORE

__all__ = ["COMPONENTS", "host_api_router"]


def host_api_router() -> Router:
    return Router(
        path="/v2",
        route_handlers=[
            MeController,
            EventTypeController,
            ScheduleController,
            SlotController,
            BookingController,
            WebhookController,
            CalendarController,
            SelectedCalendarController,
            DestinationCalendarController,
        ],
        dependencies={"host": Provide(current_host)},
        security=[{SECURITY_SCHEME: []}],
        cache_control=NO_STORE,  # answers hold guests' details and signing secrets
    )
