"""``Authorization: Bearer bk_…``: the dependency that turns an API key into its host.

Every handler under /v2 takes ``host: Host`` and only ever looks at that host's objects, so a key
of one host can never see another host's data (it gets 404, as if the object did not exist).
The ``cal-api-version`` header Cal.com clients send is accepted and need not be sent: each resource
serves one version's shapes (listed in formats.py).

Where Cal.com is public (``GET /v2/slots``, ``POST /v2/bookings``, ``GET /v2/event-types`` by
username) handlers take ``caller: Host | None`` instead: no ``Authorization`` header is a public
request, a key acts as its host, and a key that is not valid is still 401.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import NotAuthorizedException
from litestar.openapi.spec import Components, SecurityScheme
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Host
from app.hosts.service import host_for_api_key

SECURITY_SCHEME = "apiKey"
COMPONENTS = Components(
    security_schemes={
        SECURITY_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            description="A host API key (bk_…) made with `booking create-api-key SLUG`.",
        )
    }
)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="booking"'}


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def current_host(request: Request[Any, Any, Any], db_session: AsyncSession) -> Host:
    """The host whose key the request carries, or 401."""
    token = bearer_token(request)
    if token is None:
        raise NotAuthorizedException(
            "Missing API key: send 'Authorization: Bearer <key>'.", headers=CHALLENGE
        )
    host = await host_for_api_key(db_session, token)
    if host is None:
        raise NotAuthorizedException("Invalid API key.", headers=CHALLENGE)
    return host


async def optional_host(request: Request[Any, Any, Any], db_session: AsyncSession) -> Host | None:
    """The key's host when the request carries a key; None for a public request."""
    if "authorization" not in request.headers:
        return None
    return await current_host(request, db_session)
