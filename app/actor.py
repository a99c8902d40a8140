"""Who is making a booking change: the guest, the host, or the system (a scheduled job).

Held in a context variable for the duration of a request (set once, from the door the request came
in by: see ``app.web.context``), so the booking service records it with each change's event
without every caller passing it along, and the emails can say "Dana cancelled" or "you cancelled".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

GUEST = "guest"
HOST = "host"
SYSTEM = "system"

_current: ContextVar[str] = ContextVar("actor", default="")


def current_actor() -> str:
    """``guest``, ``host``, ``system``, or ``""`` when nobody said (a script, a test)."""
    return _current.get()


def set_actor(actor: str) -> None:
    """Set who acts for the rest of the current task (a request)."""
    _current.set(actor)


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)
