"""The ``booking`` command: serve, migrate, seed, and manage hosts from a shell."""

from __future__ import annotations

import asyncio
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
    upgrade(settings.database_url)
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


if __name__ == "__main__":
    main()
