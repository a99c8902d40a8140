"""``/healthz`` and ``/readyz`` for load balancers and orchestrators.

``/healthz`` says the process answers (restart it if not); it touches nothing else. ``/readyz``
says this process can serve: the database answers and has every migration this release needs.
While it is not ready (the database is down, or a new release runs before ``booking migrate``) it
answers 503, so a load balancer sends traffic elsewhere; it turns ready again by itself. A database
already migrated by a newer release stays ready, with a warning in the log: that is how an additive
upgrade rolls out (see ``app.db.migrate.SchemaCheck``). Changes are logged once each, not on every
probe. Neither endpoint is rate limited or cached.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import Request, Response, get
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.migrate import check_schema, unreachable_reason

log = logging.getLogger("app.web")

PROBE_TIMEOUT_S = 3.0
NO_STORE = {"Cache-Control": "no-store"}
UNREACHABLE = "database unreachable"


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> Response[dict[str, str]]:
    return Response({"status": "ok"}, headers=NO_STORE)


@get("/readyz", include_in_schema=False)
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    engine: AsyncEngine = request.app.state.engine
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            check = await check_schema(engine)
        problem, detail = check.problem, check.problem or check.warning
    except Exception as exc:  # any failure to connect or read: not ready, in the driver's words
        problem = UNREACHABLE
        detail = f"{UNREACHABLE}: {unreachable_reason(exc)}"
    _log_change(request, problem, detail)
    if problem is None:
        return Response({"status": "ready"}, headers=NO_STORE)
    # The reason, without the database's address or the driver's message (the log has those).
    reason = UNREACHABLE if problem == UNREACHABLE else "database not migrated to this release"
    return Response(
        {"status": "not ready", "reason": reason},
        status_code=503,
        headers={**NO_STORE, "Retry-After": "5"},
    )


def _log_change(request: Request[Any, Any, Any], problem: str | None, detail: str | None) -> None:
    """Log what changed since the last probe of this process, once."""
    state = request.app.state
    if detail == state.get("readiness_detail", None):
        return
    state["readiness_detail"] = detail
    if problem is not None:
        log.warning("not ready: %s", detail)
    elif detail is not None:
        log.warning("ready, but %s", detail)
    else:
        log.info("ready: the database answers and is migrated")
