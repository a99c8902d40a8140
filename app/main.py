"""``create_app(settings)``: the one place the Litestar application is put together."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar, Request
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins.flash import get_flashes
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from app import i18n
from app.calendars.sync import sync_lifespan
from app.db.session import create_engine
from app.notify.worker import worker_lifespan
from app.settings import STATIC_DIR, TEMPLATES_DIR, Settings
from app.web import log_scrub
from app.web.api_docs import OfflineSwaggerPlugin
from app.web.captcha import captcha_challenge
from app.web.client_ip import forwarded_headers, rate_limit_identifier
from app.web.console import console_router
from app.web.console.sessions import STORE_NAME as CONSOLE_SESSIONS
from app.web.console.sessions import session_store
from app.web.context import request_context_middleware
from app.web.embed import embed_js
from app.web.errors import handle_exception
from app.web.health import healthz, readyz
from app.web.host_api import COMPONENTS as HOST_API_COMPONENTS
from app.web.host_api import host_api_router
from app.web.links import BookingLinksController, LinkPagesController
from app.web.public_api import PublicSchedulingController
from app.web.rate_store import make_rate_limit_store
from app.web.request import AppRequest, RefuseAtTheDoor
from app.web.security import security_headers
from app.web.widget import WidgetController, brand_stylesheet


async def is_rate_limited(request: Request[Any, Any, Any]) -> bool:
    """Only handlers marked ``opt={"rate_limited": True}`` count against the booking limit.

    Async on purpose: Litestar runs a plain function here in a worker thread, on every request.
    """
    return bool(request.route_handler.opt.get("rate_limited"))


async def reads_slots(request: Request[Any, Any, Any]) -> bool:
    """Handlers marked ``opt={"slot_reads": True}`` count against the (generous) slot limit."""
    return bool(request.route_handler.opt.get("slot_reads"))


def _configure_jinja(jinja: JinjaTemplateEngine, settings: Settings) -> None:
    # Checking every template file's mtime on every render only helps while editing them.
    jinja.engine.auto_reload = settings.debug
    i18n.install(jinja.engine)
    jinja.register_template_callable("get_flashes", get_flashes)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    log_scrub.install()
    engine = create_engine(settings.database_url, lock_timeout=settings.db_lock_timeout)
    db = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        session_dependency_key="db_session",
        set_default_exception_handler=False,
        # Our models keep their own updated_at (onupdate, on our clock) and hold no FileObjects;
        # these two listeners would only walk the session on every flush.
        enable_touch_updated_timestamp_listener=False,
        enable_file_object_listener=False,
    )
    rate_limit_store = make_rate_limit_store(settings.redis_url)
    rate_limit = RateLimitConfig(
        rate_limit=settings.rate_limit,  # type: ignore[arg-type]
        check_throttle_handler=is_rate_limited,
        identifier_for_request=rate_limit_identifier(),
        store="rate_limit",
    )
    # A second count, in the same store under its own keys, for the reads that compute slots.
    slot_rate_limit = RateLimitConfig(
        rate_limit=settings.slot_rate,  # type: ignore[arg-type]
        check_throttle_handler=reads_slots,
        identifier_for_request=rate_limit_identifier(prefix="slots:"),
        store="rate_limit",
    )
    static_files = create_static_files_router(path="/static", directories=[STATIC_DIR])
    app = Litestar(
        route_handlers=[
            PublicSchedulingController,
            BookingLinksController,
            LinkPagesController,
            host_api_router(),
            console_router(settings),
            captcha_challenge,
            healthz,
            readyz,
            embed_js,
            WidgetController,
            brand_stylesheet,
            static_files,
        ],
        dependencies={"settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False)},
        plugins=[SQLAlchemyPlugin(config=db), HTMXPlugin()],
        template_config=TemplateConfig(
            directory=TEMPLATES_DIR,
            engine=JinjaTemplateEngine,
            engine_callback=lambda jinja: _configure_jinja(jinja, settings),
        ),
        before_send=[security_headers],
        # Outermost first: the client address is resolved before the rate limits key on it.
        middleware=[
            RefuseAtTheDoor(),
            request_context_middleware,
            forwarded_headers(settings.trusted_proxies),
            rate_limit.middleware,
            slot_rate_limit.middleware,
        ],
        request_class=AppRequest,
        stores={"rate_limit": rate_limit_store, CONSOLE_SESSIONS: session_store(settings)},
        cors_config=CORSConfig(
            allow_origins=["*"],
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Content-Type", "Authorization", "cal-api-version"],
        ),
        compression_config=CompressionConfig(backend="gzip", minimum_size=500),
        openapi_config=OpenAPIConfig(
            title="Booking widget API",
            version="1.0.0",
            path="/schema",
            components=[HOST_API_COMPONENTS],
            # Served from static/ (the CSP allows no CDN and no inline script): app/web/api_docs.py
            render_plugins=[OfflineSwaggerPlugin()],
        ),
        exception_handlers={Exception: handle_exception},
        # Logging is set up by whoever runs the app (`booking serve`: app/logs.py), not here.
        logging_config=None,
        request_max_body_size=64 * 1024,
        lifespan=[worker_lifespan(settings, engine), sync_lifespan(settings, engine)],
        debug=settings.debug,
    )
    app.state.settings = settings
    app.state.engine = engine
    return app
