"""Developers: API keys (made here, shown once, revoked here) and webhooks (made, changed, tested,
their calls logged and sent again).

The rules live in ``app.hosts.service`` (keys) and ``app.hosts.webhooks`` (the same functions the
``/v2/webhooks`` API calls); a refused value is shown next to its field, with a 400, and nothing
is saved. A new key, and a webhook secret the server made, are rendered in the answer to the POST
that made them and kept nowhere else: reloading the list never shows them again.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import BookingError, NotFound
from app.dates import Formats
from app.db.models import Host, Webhook
from app.db.session import create_sessionmaker
from app.hosts import event_types, service
from app.hosts import webhooks as hooks
from app.i18n import _
from app.notify.events import DEFAULT_TRIGGERS, TRIGGERS
from app.settings import Settings
from app.web.console.base import ConsoleController, done, page

SECTION = "developers"
BASE = "/console/developers"
# The webhook service names fields as the API does; the form's inputs have these names.
WEBHOOK_FIELDS = {
    "subscriberUrl": "subscriber_url",
    "triggers": "triggers",
    "secret": "secret",
    "payloadTemplate": "payload_template",
    "eventTypeId": "scope",
}


def formats_of(host: Host) -> Formats:
    return Formats.of(host.locale, host.timezone, host.time_format == 12)


async def _index(
    db_session: AsyncSession,
    host: Host,
    *,
    new_key: str = "",
    key_name: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    keys = await service.list_api_keys(db_session, host.id)
    webhooks = await hooks.all_webhooks(db_session, host.id)
    names = {row.id: row.title for row in await event_types.list_event_types(db_session, host.id)}
    return page(
        "console/developers/index.html",
        section=SECTION,
        status_code=status_code,
        keys=keys,
        webhooks=webhooks,
        event_type_names=names,
        new_key=new_key,
        key_name=key_name,
        errors=errors or {},
        fmt=formats_of(host),
    )


def _webhook_form(raw: FormMultiDict) -> dict[str, Any]:
    return {
        "subscriber_url": str(raw.get("subscriber_url", "")).strip(),
        "triggers": [str(t) for t in raw.getall("triggers", [])],
        "secret": str(raw.get("secret", "")),
        "payload_template": str(raw.get("payload_template", "")),
        "active": raw.get("active") == "on",
        "scope": str(raw.get("scope", "")).strip(),
    }


def _scope(form: dict[str, Any]) -> int | None:
    """The event type a webhook is for (None: all bookings); a value that is no id is refused
    as the service refuses an event type that is not the host's."""
    if not form["scope"]:
        return None
    if not form["scope"].isdigit() or len(form["scope"]) > 12:
        raise NotFound(_("Choose one of your event types."), "eventTypeId")
    return int(form["scope"])


def _errors_of(exc: BookingError) -> dict[str, str]:
    return {WEBHOOK_FIELDS.get(exc.field or "", "_"): exc.message}


class DevelopersController(ConsoleController):
    path = BASE

    @get("/", name="console:developers")
    async def index(self, host: Host, db_session: AsyncSession) -> Template:
        return await _index(db_session, host)

    # API keys -------------------------------------------------------------------------------

    @get("/keys")
    async def keys(self, host: Host) -> Redirect:
        """Where the browser is after making a key (the form's address): back to the list."""
        return Redirect(BASE, status_code=303)

    @post("/keys")
    async def create_key(
        self, request: Request[Any, Any, Any], host: Host, db_session: AsyncSession
    ) -> Template:
        name = str((await request.form()).get("name", ""))
        try:
            key = await service.create_api_key(db_session, host.slug, name)
        except BookingError as exc:
            errors = {"key_name": exc.message}
            return await _index(db_session, host, key_name=name, errors=errors, status_code=400)
        return await _index(db_session, host, new_key=key, status_code=201)

    @get("/keys/{key_id:int}/revoke")
    async def confirm_revoke(self, host: Host, db_session: AsyncSession, key_id: int) -> Template:
        api_key = await service.get_api_key(db_session, host.id, key_id)
        return page(
            "console/developers/revoke_key.html",
            section=SECTION,
            api_key=api_key,
            fmt=formats_of(host),
        )

    @post("/keys/{key_id:int}/revoke")
    async def revoke(
        self, request: Request[Any, Any, Any], host: Host, db_session: AsyncSession, key_id: int
    ) -> Redirect | ClientRedirect:
        api_key = await service.revoke_api_key_by_id(db_session, host.id, key_id)
        message = _("The key %(prefix)s… is revoked: it no longer works.", prefix=api_key.prefix)
        return done(request, message, BASE)

    # Webhooks -------------------------------------------------------------------------------

    async def _webhook_page(
        self,
        db_session: AsyncSession,
        host: Host,
        template: str,
        form: dict[str, Any],
        *,
        webhook: Webhook | None = None,
        errors: dict[str, str] | None = None,
        new_secret: str | None = None,
        status_code: int = 200,
    ) -> Template:
        deliveries = (
            await hooks.delivery_log(db_session, host.id, webhook.id) if webhook is not None else []
        )
        return page(
            template,
            section=SECTION,
            status_code=status_code,
            form=form,
            webhook=webhook,
            errors=errors or {},
            new_secret=new_secret,
            triggers=TRIGGERS,
            event_types=await event_types.list_event_types(db_session, host.id),
            deliveries=deliveries,
            fmt=formats_of(host),
        )

    @get("/webhooks/new")
    async def new_webhook(self, host: Host, db_session: AsyncSession) -> Template:
        form = {
            "subscriber_url": "",
            "triggers": list(DEFAULT_TRIGGERS),
            "secret": "",
            "payload_template": "",
            "active": True,
            "scope": "",
        }
        return await self._webhook_page(
            db_session, host, "console/developers/new_webhook.html", form
        )

    @get("/webhooks")
    async def webhooks(self, host: Host) -> Redirect:
        return Redirect(BASE, status_code=303)

    @post("/webhooks")
    async def create_webhook(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
    ) -> Template:
        form = _webhook_form(await request.form())
        fields = {key: form[key] for key in ("subscriber_url", "triggers", "active")}
        fields["payload_template"] = form["payload_template"]
        if form["secret"]:
            fields["secret"] = form["secret"]
        try:
            scope = _scope(form)
            created = await hooks.create_webhook(db_session, settings, host, fields, scope)
        except BookingError as exc:
            errors = _errors_of(exc)
            if isinstance(exc, NotFound) and scope is not None:  # the only thing it looks up
                errors = {"scope": exc.message}
            return await self._webhook_page(
                db_session,
                host,
                "console/developers/new_webhook.html",
                form,
                errors=errors,
                status_code=400,
            )
        webhook = created.webhook
        return await self._webhook_page(
            db_session,
            host,
            "console/developers/webhook.html",
            _form_of(webhook),
            webhook=webhook,
            new_secret=created.generated_secret,
            status_code=201,
        )

    @get("/webhooks/{webhook_id:int}")
    async def show_webhook(self, host: Host, db_session: AsyncSession, webhook_id: int) -> Template:
        webhook = await hooks.owned_webhook(db_session, host.id, webhook_id)
        return await self._webhook_page(
            db_session, host, "console/developers/webhook.html", _form_of(webhook), webhook=webhook
        )

    @post("/webhooks/{webhook_id:int}")
    async def update_webhook(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
        webhook_id: int,
    ) -> Template | Redirect | ClientRedirect:
        webhook = await hooks.owned_webhook(db_session, host.id, webhook_id)
        form = _webhook_form(await request.form())
        changes = {key: form[key] for key in ("subscriber_url", "triggers", "active")}
        changes["payload_template"] = form["payload_template"]
        if form["secret"]:  # empty: keep the secret it has
            changes["secret"] = form["secret"]
        try:
            await hooks.edit_webhook(
                db_session, settings, host.id, webhook_id, changes, _scope(form)
            )
        except BookingError as exc:
            return await self._webhook_page(
                db_session,
                host,
                "console/developers/webhook.html",
                {**form, "secret": ""},
                webhook=webhook,
                errors=_errors_of(exc),
                status_code=400,
            )
        return done(request, _("The webhook is saved."), f"{BASE}/webhooks/{webhook_id}")

    @post("/webhooks/{webhook_id:int}/test")
    async def test_webhook(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        settings: Settings,
        webhook_id: int,
    ) -> Redirect | ClientRedirect:
        sessionmaker = create_sessionmaker(request.app.state.engine)
        delivery = await hooks.send_test(db_session, settings, host, webhook_id, sessionmaker)
        to = f"{BASE}/webhooks/{webhook_id}#deliveries"
        if delivery.status == "delivered":
            return done(request, _("The test call was delivered."), to)
        message = _(
            "The test call failed: %(error)s. It is tried again later; see the log below.",
            error=delivery.message.last_error[:300],
        )
        return done(request, message, to, "error")

    @post("/webhooks/{webhook_id:int}/deliveries/{message_id:str}/redeliver")
    async def redeliver(
        self,
        request: Request[Any, Any, Any],
        host: Host,
        db_session: AsyncSession,
        webhook_id: int,
        message_id: str,
    ) -> Redirect | ClientRedirect:
        await hooks.redeliver(db_session, host.id, webhook_id, message_id[:64])
        message = _("The call is queued again: it goes out within a few seconds.")
        return done(request, message, f"{BASE}/webhooks/{webhook_id}#deliveries")

    @get("/webhooks/{webhook_id:int}/delete")
    async def confirm_delete(
        self, host: Host, db_session: AsyncSession, webhook_id: int
    ) -> Template:
        webhook = await hooks.owned_webhook(db_session, host.id, webhook_id)
        return page("console/developers/delete_webhook.html", section=SECTION, webhook=webhook)

    @post("/webhooks/{webhook_id:int}/delete")
    async def delete_webhook(
        self, request: Request[Any, Any, Any], host: Host, db_session: AsyncSession, webhook_id: int
    ) -> Redirect | ClientRedirect:
        webhook = await hooks.owned_webhook(db_session, host.id, webhook_id)
        await hooks.delete_webhook(db_session, host.id, webhook_id, webhook.event_type_id)
        return done(request, _("The webhook is deleted."), BASE)


def _form_of(webhook: Webhook) -> dict[str, Any]:
    return {
        "subscriber_url": webhook.subscriber_url,
        "triggers": list(webhook.triggers or []),
        "secret": "",
        "payload_template": webhook.payload_template,
        "active": webhook.active,
        "scope": "" if webhook.event_type_id is None else str(webhook.event_type_id),
    }
