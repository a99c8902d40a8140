"""Security headers on every response, sent from one ``before_send`` hook.

The Content-Security-Policy forbids inline scripts and styles everywhere. Framing is the one thing
that differs: a handler marked ``opt={"frameable": True}`` that got as far as knowing its host
stores the host's allowed embedders in ``request.state.frame_ancestors``; everything else, error
pages included, refuses to be framed. Doing it in a hook (not per handler) means a response nobody
thought about still gets the strict policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Request
from litestar.datastructures import CacheControlHeader, MutableScopeHeaders
from litestar.types import Message, Scope

from app.hosts.service import is_origin

STATE_KEY = "frame_ancestors"
BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'"
)


# For responses holding a guest's details or a link token: not kept by the browser or any cache
# (a shared computer's history, a proxy), and not shown again from the back/forward cache.
NO_STORE = CacheControlHeader(no_store=True)


def allow_framing(request: Request[Any, Any, Any], origins: Iterable[str]) -> None:
    """Let the host's embed origins frame this response; no origins configured means any site."""
    valid = [origin.rstrip("/") for origin in origins if is_origin(str(origin).rstrip("/"))]
    request.state[STATE_KEY] = " ".join(["'self'", *valid]) if valid else "*"


def _frame_ancestors(scope: Scope) -> str | None:
    handler = scope.get("route_handler")
    if handler is None or not handler.opt.get("frameable"):
        return None
    value = scope.get("state", {}).get(STATE_KEY)
    return value if isinstance(value, str) else None


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    ancestors = _frame_ancestors(scope)
    frame_policy = ancestors or "'none'"
    headers["Content-Security-Policy"] = f"{BASE_POLICY}; frame-ancestors {frame_policy}"
    if ancestors is None:
        headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
