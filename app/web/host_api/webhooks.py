"""``/v2/webhooks`` and ``/v2/event-types/{id}/webhooks``: where to send booking events.

The host's webhooks get every booking's events; an event type's get only its bookings'. Rules in
app/hosts/webhooks.py; the calls themselves in app/notify/webhooks.py (Cal.com's bodies,
``X-Cal-Signature-256`` beside our own signature).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Host
from app.hosts import event_types
from app.hosts import webhooks as service
from app.notify.events import TRIGGERS
from app.notify.webhooks import MAX_TEMPLATE
from app.settings import Settings
from app.web.host_api import formats
from app.web.host_api.envelope import Envelope, PathId, errors, ok
from app.web.host_api.fields import changes

Url = Annotated[str, msgspec.Meta(max_length=1000, examples=["https://example.com/hook"])]
Secret = Annotated[str, msgspec.Meta(max_length=200)]
Template = Annotated[str, msgspec.Meta(max_length=MAX_TEMPLATE)]
Trigger = Annotated[str, msgspec.Meta(description="One of " + ", ".join(TRIGGERS))]
Take = Annotated[int, Parameter(ge=1, le=250)]
Skip = Annotated[int, Parameter(ge=0, le=1_000_000)]
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class WebhookCreate(msgspec.Struct, rename="camel"):
    """Cal.com's CreateWebhookInputDto (``triggers`` and ``active`` may be left out here:
    every trigger, switched on)."""

    subscriber_url: Url
    triggers: list[Trigger] | Unset = UNSET
    active: bool = True
    secret: Secret | Unset = UNSET
    payload_template: Template | Unset | None = UNSET


class WebhookUpdate(msgspec.Struct, rename="camel"):
    subscriber_url: Url | Unset = UNSET
    triggers: list[Trigger] | Unset = UNSET
    active: bool | Unset = UNSET
    secret: Secret | Unset = UNSET
    payload_template: Template | Unset | None = UNSET


def _fields(data: WebhookCreate | WebhookUpdate) -> dict[str, object]:
    fields = changes(data)
    if "payload_template" in fields and fields["payload_template"] is None:
        fields["payload_template"] = ""  # null: back to Cal.com's standard body
    return fields


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["Webhooks"]

    @get("/", summary="The host's webhooks (those of all its bookings)", responses=errors())
    async def list_webhooks(
        self, host: Host, db_session: AsyncSession, take: Take = 250, skip: Skip = 0
    ) -> Envelope[list[formats.WebhookOut]]:
        rows = await service.list_webhooks(db_session, host.id, take=take, skip=skip)
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
        created = await service.create_webhook(db_session, settings, host, _fields(data))
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
        row = await service.update_webhook(db_session, settings, host.id, webhook_id, _fields(data))
        return ok(formats.webhook(row))

    @delete(
        "/{webhook_id:int}",
        summary="Delete a webhook; answers it as it was",
        status_code=HTTP_200_OK,
        responses=errors(404),
    )
    async def delete_webhook(
        self, host: Host, db_session: AsyncSession, webhook_id: PathId
    ) -> Envelope[formats.WebhookOut]:
        deleted = formats.webhook(await service.get_webhook(db_session, host.id, webhook_id))
        await service.delete_webhook(db_session, host.id, webhook_id)
        return ok(deleted)


class EventTypeWebhookController(Controller):
    """Cal.com's event type webhooks: calls for one event type's bookings only."""

    path = "/event-types/{event_type_id:int}/webhooks"
    tags = ["Event types / Webhooks"]

    @get("/", summary="The webhooks of one event type", responses=errors(404))
    async def list_webhooks(
        self,
        host: Host,
        db_session: AsyncSession,
        event_type_id: PathId,
        take: Take = 250,
        skip: Skip = 0,
    ) -> Envelope[list[formats.EventTypeWebhookOut]]:
        await event_types.get_event_type(db_session, host.id, event_type_id)
        rows = await service.list_webhooks(db_session, host.id, event_type_id, take=take, skip=skip)
        return ok([formats.event_type_webhook(row) for row in rows])

    @post("/", summary="Subscribe a URL to one event type's booking events", responses=errors(404))
    async def create_webhook(
        self,
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
        event_type_id: PathId,
        data: WebhookCreate,
    ) -> Envelope[formats.EventTypeWebhookOut]:
        created = await service.create_webhook(
            db_session, settings, host, _fields(data), event_type_id
        )
        return ok(
            formats.event_type_webhook(created.webhook, shown_secret=created.generated_secret)
        )

    @delete(
        "/",
        summary="Delete every webhook of one event type",
        status_code=HTTP_200_OK,
        responses=errors(404),
    )
    async def delete_all(
        self, host: Host, db_session: AsyncSession, event_type_id: PathId
    ) -> Envelope[str]:
        await event_types.get_event_type(db_session, host.id, event_type_id)
        count = await service.delete_event_type_webhooks(db_session, host.id, event_type_id)
        return ok(f"{count} webhooks deleted")

    @get("/{webhook_id:int}", summary="One webhook of an event type", responses=errors(404))
    async def get_webhook(
        self, host: Host, db_session: AsyncSession, event_type_id: PathId, webhook_id: PathId
    ) -> Envelope[formats.EventTypeWebhookOut]:
        row = await service.get_webhook(db_session, host.id, webhook_id, event_type_id)
        return ok(formats.event_type_webhook(row))

    @patch("/{webhook_id:int}", summary="Change a webhook of an event type", responses=errors(404))
    async def update_webhook(
        self,
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
        event_type_id: PathId,
        webhook_id: PathId,
        data: WebhookUpdate,
    ) -> Envelope[formats.EventTypeWebhookOut]:
        row = await service.update_webhook(
            db_session, settings, host.id, webhook_id, _fields(data), event_type_id
        )
        return ok(formats.event_type_webhook(row))

    @delete(
        "/{webhook_id:int}",
        summary="Delete a webhook of an event type; answers it as it was",
        status_code=HTTP_200_OK,
        responses=errors(404),
    )
    async def delete_webhook(
        self, host: Host, db_session: AsyncSession, event_type_id: PathId, webhook_id: PathId
    ) -> Envelope[formats.EventTypeWebhookOut]:
        row = await service.get_webhook(db_session, host.id, webhook_id, event_type_id)
        deleted = formats.event_type_webhook(row)
        await service.delete_webhook(db_session, host.id, webhook_id, event_type_id)
        return ok(deleted)
