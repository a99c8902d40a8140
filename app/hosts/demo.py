"""The demo host that ``make run`` serves: ``/demo/30min`` and ``/demo/intro``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EventType, Host
from app.hosts.service import create_host

DEMO_SLUG = "demo"


async def seed_demo(session: AsyncSession) -> bool:
    """Create the demo host and its event types unless the host exists. True if it seeded."""
    if (await session.scalars(select(Host).where(Host.slug == DEMO_SLUG))).first():
        return False
    host = await create_host(
        session, DEMO_SLUG, name="Dana Demo", email="demo@example.com", timezone="Europe/Berlin"
    )
    host.welcome_text = "Pick a time that suits you. All times are shown in your time zone."
    host.brand_color = "#4f46e5"
    session.add_all(
        [
            EventType(
                host_id=host.id,
                slug="30min",
                title="30 minute meeting",
                description="A short call to get to know each other.",
                duration_minutes=30,
                # Each booking gets its own video room; bookable from four hours ahead.
                location_type="meeting_room",
                location_value="https://meet.jit.si",
                min_notice_minutes=240,
                booking_window_days=60,
            ),
            EventType(
                host_id=host.id,
                slug="intro",
                title="Intro call",
                description="15 minutes to see whether we are a fit. I confirm each request myself.",
                duration_minutes=15,
                requires_approval=True,
                # The host's own fixed video link; requests need a day's notice to be looked at.
                location_type="link",
                location_value="https://meet.jit.si/DanaDemo-intro",
                min_notice_minutes=1440,
                booking_window_days=60,
                questions=[
                    {
                        "key": "company",
                        "label": "Company",
                        "type": "text",
                        "required": True,
                        "options": [],
                    }
                ],
            ),
        ]
    )
    await session.commit()
    return True
