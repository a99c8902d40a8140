"""What every request goes through before a handler reads it: input no layer below can take.

- A NUL character in the path or the query string is refused at the door (404 for a path,
  400 for a query): PostgreSQL refuses NUL in text, so a ``%00`` anywhere would otherwise reach the
  database as a server error, and no slug, token or parameter of ours contains one.
- A path segment that is a number too large for any id of ours (ids are 32-bit integers in both
  databases) is a 404 at the door: SQLite cannot even take it as a parameter and PostgreSQL
  refuses it for an ``integer`` column, both as server errors, on every route with an id in it.
  ``/v2`` is left to its handlers, which bound their ids and answer Cal.com's 400.
- JSON nested so deep that the decoder gives up (``RecursionError``) is a 400, like any other
  body that is not acceptable JSON.
"""

from __future__ import annotations

from typing import Any

from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException
from litestar.middleware import ASGIMiddleware
from litestar.plugins.htmx import HTMXRequest
from litestar.types import ASGIApp, Receive, Scope, Send

from app.bookings.errors import InvalidInput
from app.db.models import MAX_ID
from app.i18n import _


class AppRequest(HTMXRequest):
    """The request class of the whole app (the HTMX plugin's, plus the JSON depth answer)."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise InvalidInput(_("The request body is nested too deeply.")) from None


def _is_huge_number(segment: str) -> bool:
    digits = segment.lstrip("-")
    return digits.isascii() and digits.isdigit() and (len(digits) > 10 or int(digits) > MAX_ID)


class RefuseAtTheDoor(ASGIMiddleware):
    """The path and query checks of the module docstring, before any routing."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path = scope["path"]
        if "\x00" in path:
            raise NotFoundException()
        # /v2 checks its ids itself and answers Cal.com's 400 for one out of range.
        if not path.startswith("/v2/") and any(_is_huge_number(p) for p in path.split("/")):
            raise NotFoundException()
        query = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            raise InvalidInput(_("The address contains a NUL character."))
        await next_app(scope, receive, send)
