"""The app on a moved clock, for live servers that must see the future (expired links).

``support.live_server(..., clock_shift=S)`` serves ``shifted_clock:app_from_env`` instead of
``app.asgi:app_from_env``: each server process moves ``app.clock`` by ``SHIFT_CLOCK_SECONDS``
before building the app. Production code reads no such setting.
"""

from __future__ import annotations

import os
from datetime import timedelta

from litestar import Litestar

from app import clock
from app.asgi import app_from_env as real_app_from_env


def app_from_env() -> Litestar:
    clock.set_offset(timedelta(seconds=float(os.environ["SHIFT_CLOCK_SECONDS"])))
    return real_app_from_env()
