"""Per request: the reader's language and who is acting, decided once, before any handler runs.

Language: pages follow ``?locale=`` when it names a language we ship, else the browser's
``Accept-Language``; handlers may narrow it (a link page reads in its booking's language). The
JSON APIs (``/api/``, ``/v2``) answer in English: their messages are for developers and their
wording is part of the contract.

Who acts follows from the door: the guest's links and booking pages act for the guest, the host's
links, the host API and the console for the host. Set without resetting: each request runs in its
own task, and error pages (rendered after the handler raised) must still see both.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from litestar.types import ASGIApp, Receive, Scope, Send

from app.actor import GUEST, HOST, set_actor
from app.i18n import DEFAULT, negotiate, set_locale, supported_tag

API_PREFIXES = ("/api/", "/v2/", "/v2")
GUEST_DOORS = re.compile(
    r"^/(booking/[^/]+/(cancel|reschedule)|api/public/scheduling/(bookings/[^/]+/.+|[^/]+/[^/]+/book)"
    r"|[^/]+/[^/]+/book)$"
)
HOST_DOORS = re.compile(r"^/(booking/[^/]+/(confirm|decline)$|v2(/|$)|console(/|$))")


def request_locale(scope: Scope) -> str:
    path: str = scope.get("path", "")
    if path.startswith(API_PREFIXES):
        return DEFAULT
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    asked = supported_tag((query.get("locale") or [""])[0])
    if asked:
        return asked
    headers = dict(scope.get("headers", []))
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    return negotiate(accept) or DEFAULT


def request_actor(path: str) -> str:
    if HOST_DOORS.match(path):
        return HOST
    if GUEST_DOORS.match(path):
        return GUEST
    return ""


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            set_locale(request_locale(scope))
            set_actor(request_actor(scope.get("path", "")))
        await app(scope, receive, send)

    return middleware
