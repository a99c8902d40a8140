"""``/healthz`` and ``/readyz`` for load balancers and orchestrators.

``/healthz`` says the process answers (restart it if not); it touches nothing else. ``/readyz``
says this process can serve: the database answers and is migrated to this release's head. While
it is not ready (the database is down, or a new release runs before ``booking migrate``) it
answers 503, so a load balancer sends traffic elsewhere; it turns ready again by itself. Changes
of readiness are logged once each, not on every probe. Neither is rate limited or cached.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import Request, Response, get
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.migrate import schema_problem, unreachable_reason

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
            problem = await schema_problem(engine)
        detail = problem
    except Exception as exc:  # any failure to connect or read: not ready, in the driver's words
        problem, detail = UNREACHABLE, f"{UNREACHABLE}: {unreachable_reason(exc)}"
    _log_change(request, detail)
    if problem is None:
        return Response({"status": "ready"}, headers=NO_STORE)
    # The reason, without the database's address or the driver's message (the log has those).
    reason = UNREACHABLE if problem == UNREACHABLE else "database not migrated to this release"
    return Response(
        {"status": "not ready", "reason": reason},
        status_code=503,
        headers={**NO_STORE, "Retry-After": "5"},
    )


def _log_change(request: Request[Any, Any, Any], detail: str | None) -> None:
    state = request.app.state
    before = state.get("readiness_problem", None)
    if detail == before:
        return
    state["readiness_problem"] = detail
    if detail is None:
        log.info("ready again: the database answers and is migrated")
    else:
        log.warning("not ready: %s", detail)
