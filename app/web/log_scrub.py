"""Link tokens never reach the logs.

An emailed link's token is the only credential for that booking: whoever reads it can cancel or
move the booking. Access logs (uvicorn's), our own error lines and Litestar's would otherwise
write it down with every path: ``/booking/<token>/cancel``, ``/api/public/scheduling/bookings/
<token>/reschedule``, the widget's ``?reschedule=<token>`` and ``?booking=<signed reference>``,
the console's ``/console/sign-in/<token>``.
``SCRUBBER`` is a logging filter that rewrites those parts of a record to ``…`` before any
handler formats it (so whatever format the logs use, JSON included, keeps it); ``install`` puts
it on the loggers that write paths.
"""

from __future__ import annotations

import logging
import re

LOGGERS = ("uvicorn.access", "uvicorn.error", "app.web", "litestar")
_PATTERNS = (
    re.compile(r"(/booking/)[^/?#\s\"']+"),
    re.compile(r"(/console/sign-in/)[^/?#\s\"']+"),
    re.compile(r"(/api/public/scheduling/bookings/)[^/?#\s\"']+"),
    re.compile(r"([?&](?:reschedule|booking|token|formToken)=)[^&#\s\"']+"),
)


def scrub(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1…", text)
    return text


class TokenScrubber(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: scrub(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


SCRUBBER = TokenScrubber()


def install() -> None:
    """Scrub the loggers that write request paths (adding the one filter once per logger)."""
    for name in LOGGERS:
        logging.getLogger(name).addFilter(SCRUBBER)
