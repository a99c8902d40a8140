"""The ``booking`` command: serve, migrate, seed, and manage hosts from a shell."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import BookingError
from app.db.session import create_engine, create_sessionmaker
from app.settings import Settings

T = TypeVar("T")


def run_with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except BookingError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Run and manage the booking server. Settings come from the environment (see README)."""
    ctx.obj = Settings.from_env()


@main.command()
@click.pass_obj
def migrate(settings: Settings) -> None:
    """Apply the database migrations."""
    from app.db.migrate import upgrade

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url, secret_keys=settings.secret_keys)
    click.echo("database is up to date")


@main.command("seed-demo")
@click.pass_obj
def seed_demo(settings: Settings) -> None:
    """Create the demo host (demo: 30min, intro) unless it exists."""
    from app.hosts.demo import seed_demo as seed

    created = run_with_session(settings, seed)
    click.echo("demo host created" if created else "demo host already present")


@main.command()
@click.option("--host", "bind", default=None, help="Address to bind (default: HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: PORT or 8000).")
@click.option("--workers", type=int, default=1, show_default=True, help="Server processes.")
@click.pass_obj
def serve(settings: Settings, bind: str | None, port: int | None, workers: int) -> None:
    """Serve the widget, the pages and the APIs (seeds the demo data first when DEMO is on)."""
    import uvicorn

    if settings.demo:
        from app.hosts.demo import seed_demo as seed

        if run_with_session(settings, seed):
            click.echo("demo host created: open /demo/30min")
    uvicorn.run(
        "app.asgi:app_from_env",
        factory=True,
        host=bind or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=False,  # X-Forwarded-For is judged by TRUSTED_PROXIES, not by uvicorn
        log_level="info",
    )


@main.command("create-host")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--timezone", required=True, help="IANA zone, e.g. Europe/Berlin.")
@click.pass_obj
def create_host(settings: Settings, slug: str, name: str, email: str, timezone: str) -> None:
    """Create a host with a Monday-Friday 09:00-17:00 schedule in its zone."""
    from app.hosts.service import create_host as create

    async def work(session: AsyncSession) -> str:
        host = await create(session, slug, name=name, email=email, timezone=timezone)
        return host.slug

    click.echo(f"host created: {run_with_session(settings, work)}")


@main.command("update-host")
@click.argument("slug")
@click.option(
    "--embed-origins", help="Comma-separated origins allowed to frame the pages; '' = any."
)
@click.option(
    "--captcha/--no-captcha", default=None, help="Ask guests to solve an ALTCHA proof of work."
)
@click.option("--color", help="Brand colour, e.g. #4f46e5.")
@click.option("--welcome", help="Welcome text on the booking pages.")
@click.option("--avatar-url", help="https:// URL of the host's picture.")
@click.pass_obj
def update_host(
    settings: Settings,
    slug: str,
    embed_origins: str | None,
    captcha: bool | None,
    color: str | None,
    welcome: str | None,
    avatar_url: str | None,
) -> None:
    """Change a host's embedding, CAPTCHA and branding settings."""
    from app.hosts.service import update_host as update

    origins = None if embed_origins is None else embed_origins.split(",")

    async def work(session: AsyncSession) -> str:
        host = await update(
            session,
            slug,
            embed_origins=origins,
            captcha=captcha,
            color=color,
            welcome=welcome,
            avatar_url=avatar_url,
        )
        allowed = ", ".join(host.embed_origins) or "any site"
        return (
            f"{host.slug}: framable by {allowed}; captcha {'on' if host.captcha_enabled else 'off'}"
        )

    click.echo(run_with_session(settings, work))


@main.command("create-api-key")
@click.argument("slug")
@click.pass_obj
def create_api_key(settings: Settings, slug: str) -> None:
    """Create an API key for the host; the key is the last line printed (shown only once)."""
    from app.hosts.service import create_api_key as create

    async def work(session: AsyncSession) -> str:
        return await create(session, slug)

    key = run_with_session(settings, work)
    click.echo(f"API key for {slug} (store it now, it is not shown again):")
    click.echo(key)


@main.command("revoke-api-key")
@click.argument("slug")
@click.argument("key")
@click.pass_obj
def revoke_api_key(settings: Settings, slug: str, key: str) -> None:
    """Revoke the host's API KEY (the whole key, or its first 10 characters); at once."""
    from app.hosts.service import host_by_slug
    from app.hosts.service import revoke_api_key as revoke

    async def work(session: AsyncSession) -> str:
        return await revoke(session, await host_by_slug(session, slug), key)

    click.echo(f"API key {run_with_session(settings, work)}… of {slug} revoked")


@main.command()
@click.option("--poll", type=float, default=1.0, show_default=True, help="Seconds between polls.")
@click.option(
    "--lease",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds a claimed message stays locked (renewed while it is being delivered).",
)
@click.option(
    "--retry-base", type=float, default=10.0, show_default=True, help="First retry delay (doubles)."
)
@click.pass_obj
def worker(settings: Settings, poll: float, lease: float, retry_base: float) -> None:
    """Deliver the outbox (emails, webhooks, calendar writes) and sync the hosts' calendars,
    without serving HTTP; several may run at once."""
    from app.calendars.sync import run_sync_worker
    from app.notify.worker import WorkerOptions, run_worker

    options = WorkerOptions(poll_seconds=poll, lease_seconds=lease, retry_base_seconds=retry_base)

    async def work() -> None:
        engine = create_engine(settings.database_url)
        try:
            await asyncio.gather(
                run_worker(settings, engine, options), run_sync_worker(settings, engine)
            )
        finally:
            await engine.dispose()

    click.echo("outbox worker and calendar sync running (Ctrl+C to stop)")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(work())


@main.command("create-webhook")
@click.argument("slug")
@click.argument("url")
@click.option(
    "--triggers",
    required=True,
    help="Comma-separated: BOOKING_CREATED,BOOKING_REQUESTED,BOOKING_CONFIRMED,"
    "BOOKING_DECLINED,BOOKING_CANCELLED,BOOKING_RESCHEDULED.",
)
@click.option("--secret", default="", help="Signing secret (default: a random one, printed).")
@click.pass_obj
def create_webhook(settings: Settings, slug: str, url: str, triggers: str, secret: str) -> None:
    """Subscribe URL to the host's booking events; prints the id and the signing secret."""
    from app.hosts.service import host_by_slug
    from app.hosts.webhooks import create_webhook as create

    names = [t.strip().upper() for t in triggers.split(",") if t.strip()]

    async def work(session: AsyncSession) -> tuple[int, str | None]:
        host = await host_by_slug(session, slug)
        fields = {"subscriber_url": url, "triggers": names, "secret": secret}
        created = await create(session, settings, host, fields)
        return created.webhook.id, created.generated_secret

    webhook_id, generated = run_with_session(settings, work)
    click.echo(f"webhook {webhook_id} created for {slug}: {url}")
    if generated:
        click.echo(f"signing secret (store it now, it is not shown again): {generated}")


def _add_subcommands() -> None:
    from app.calendars.cli import calendars

    main.add_command(calendars)


_add_subcommands()

if __name__ == "__main__":
    main()
