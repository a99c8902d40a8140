"""Console sessions: Litestar's server-side sessions, first-party cookies, ids that rotate.

The cookie holds only a random id (HttpOnly, SameSite=Lax, Secure under https, path ``/console``
so the booking pages never carry it); the data lives in a store: Redis when ``REDIS_URL`` is set
(shared by every process), else files under ``var/sessions`` (shared by the processes of one
machine). A session idles out after ``IDLE`` (the store forgets it; every request renews it) and
ends after ``ABSOLUTE`` whatever happens; signing in gives a new id, so an id planted before
sign-in is worth nothing after. "Sign out everywhere" needs no list of sessions: each holds the
host's ``session_epoch`` from when it started, and raising that ends them all
(``app.hosts.access``).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.types import Empty, Message, ScopeSession

from app import clock
from app.hosts.access import SignedIn
from app.settings import Settings

STORE_NAME = "console_sessions"
COOKIE = "console_session"
IDLE = timedelta(days=3)
ABSOLUTE = timedelta(days=14)
_FRESH_ID = "console_fresh_session_id"


class RotatingSessionBackend(ServerSideSessionBackend):
    """Stores the session under a new id when the handler asked for one (at sign-in), and keeps
    no empty sessions (every visit to the sign-in page would otherwise leave one behind)."""

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        if not scope_session:
            if not connection.cookies.get(self.config.key):
                return
            scope_session = Empty
        await super().store_in_message(scope_session, message, connection)

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        fresh = connection.scope.get("state", {}).get(_FRESH_ID)
        return fresh if isinstance(fresh, str) else super().get_session_id(connection)


class ConsoleSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def session_config(settings: Settings) -> ConsoleSessionConfig:
    return ConsoleSessionConfig(
        key=COOKIE,
        path="/console",
        store=STORE_NAME,
        max_age=int(IDLE.total_seconds()),
        renew_on_access=True,
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https://"),
    )


def session_store(settings: Settings) -> Store:
    if settings.redis_url:
        return RedisStore.with_client(url=settings.redis_url, namespace="booking-console-sessions")
    return FileStore(settings.var_dir / "sessions", create_directories=True)


async def start_session(request: ASGIConnection[Any, Any, Any, Any], signed_in: SignedIn) -> None:
    """Sign in: forget any earlier session and continue under a new id."""
    store = request.app.stores.get(STORE_NAME)
    old = request.cookies.get(COOKIE)
    if old:
        await store.delete(old)
    if isinstance(store, FileStore):
        await store.delete_expired()  # Redis forgets on its own; files stay until removed
    request.scope["state"][_FRESH_ID] = secrets.token_hex(32)
    request.set_session(
        {
            "host": signed_in.host_id,
            "epoch": signed_in.epoch,
            "since": clock.utcnow().timestamp(),
        }
    )


def session_claims(request: ASGIConnection[Any, Any, Any, Any]) -> SignedIn | None:
    """Who the session says is signed in, unless it is past its absolute lifetime."""
    data = request.session
    host, epoch, since = data.get("host"), data.get("epoch"), data.get("since")
    if not isinstance(host, int) or not isinstance(epoch, int) or not isinstance(since, float):
        return None
    if clock.utcnow().timestamp() - since > ABSOLUTE.total_seconds():
        return None
    return SignedIn(host_id=host, epoch=epoch)
