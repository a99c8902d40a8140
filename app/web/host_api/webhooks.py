"""``/v2/webhooks``: where to send booking events (rules in app/hosts/webhooks.py)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Host
from app.hosts import webhooks as service
from app.notify.events import TRIGGERS
from app.settings import Settings
from app.web.host_api import formats
from app.web.host_api.envelope import Envelope, PathId, errors, ok
from app.web.host_api.fields import changes

Url = Annotated[str, msgspec.Meta(max_length=1000, examples=["https://example.com/hook"])]
Secret = Annotated[str, msgspec.Meta(max_length=200)]
Trigger = Annotated[str, msgspec.Meta(description="One of " + ", ".join(TRIGGERS))]
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class WebhookCreate(msgspec.Struct, rename="camel"):
    subscriber_url: Url
    triggers: list[Trigger] | Unset = UNSET
    active: bool = True
    secret: Secret | Unset = UNSET


class WebhookUpdate(msgspec.Struct, rename="camel"):
    subscriber_url: Url | Unset = UNSET
    triggers: list[Trigger] | Unset = UNSET
    active: bool | Unset = UNSET
    secret: Secret | Unset = UNSET


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["Webhooks"]

    @get("/", summary="All webhooks of the host", responses=errors())
    async def list_webhooks(
        self, host: Host, db_session: AsyncSession
    ) -> Envelope[list[formats.WebhookOut]]:
        rows = await service.list_webhooks(db_session, host.id)
        return ok([formats.webhook(row) for row in rows])

    @post(
        "/",
        summary="Subscribe a URL to booking events (all of them by default)",
        description="The URL must be a public http(s) address. Without a secret one is "
        "generated and returned in full, this once.",
        responses=errors(),
    )
    async def create_webhook(
        self, host: Host, db_session: AsyncSession, settings: Settings, data: WebhookCreate
    ) -> Envelope[formats.WebhookOut]:
        created = await service.create_webhook(db_session, settings, host, changes(data))
        return ok(formats.webhook(created.webhook, shown_secret=created.generated_secret))

    @get("/{webhook_id:int}", summary="One webhook", responses=errors(404))
    async def get_webhook(
        self, host: Host, db_session: AsyncSession, webhook_id: PathId
    ) -> Envelope[formats.WebhookOut]:
        return ok(formats.webhook(await service.get_webhook(db_session, host.id, webhook_id)))

    @patch("/{webhook_id:int}", summary="Change a webhook", responses=errors(404))
    async def update_webhook(
        self,
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
        webhook_id: PathId,
        data: WebhookUpdate,
    ) -> Envelope[formats.WebhookOut]:
        row = await service.update_webhook(db_session, settings, host.id, webhook_id, changes(data))
        return ok(formats.webhook(row))

    @delete(
        "/{webhook_id:int}",
        summary="Delete a webhook",
        status_code=HTTP_200_OK,
        responses=errors(404),
    )
    async def delete_webhook(
        self, host: Host, db_session: AsyncSession, webhook_id: PathId
    ) -> Envelope[None]:
        await service.delete_webhook(db_session, host.id, webhook_id)
        return ok(None)
