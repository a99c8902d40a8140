"""``GET /api/public/scheduling/{userSlug}/captcha-challenge``: a fresh ALTCHA challenge.

The booking form's ``<altcha-widget>`` fetches it (same origin, inside the widget's iframe) when
the host has the CAPTCHA switched on. Each response is new, so nothing may cache it.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings import service
from app.bookings.captcha import new_challenge
from app.settings import Settings


@get(
    "/api/public/scheduling/{user_slug:str}/captcha-challenge",
    summary="A proof-of-work challenge for the booking form's CAPTCHA",
    tags=["Public scheduling API"],
)
async def captcha_challenge(
    db_session: AsyncSession, settings: Settings, user_slug: str
) -> Response[dict[str, Any]]:
    host = await service.find_host(db_session, user_slug)
    return Response(new_challenge(host, settings), headers={"Cache-Control": "no-store"})
