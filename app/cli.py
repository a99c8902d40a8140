"""The ``booking`` command: serve, migrate, seed, and manage hosts from a shell."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.errors import BookingError
from app.db.session import create_engine, create_sessionmaker
from app.settings import Settings

T = TypeVar("T")
WORKER_HEALTHCHECK_S = 30


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
    try:
        ctx.obj = Settings.from_env()
    except ValueError as exc:  # a setting that cannot be read: say which, in one line
        click.echo(f"booking: {exc}", err=True)
        sys.exit(2)


def refuse_to_start(settings: Settings) -> None:
    """Exit with one line when these settings or this database cannot serve: an https
    ``PUBLIC_URL`` with a generated key, a database that does not answer or is not migrated.
    A database ahead of this release (migrated first by a newer one) only gets a warning."""
    from app.db.migrate import SchemaCheck, check_database

    insecure = settings.insecure_reason()
    check = SchemaCheck(problem=insecure) if insecure else check_database(settings.database_url)
    if check.problem:
        click.echo(f"booking: not starting: {check.problem}", err=True)
        sys.exit(1)
    if check.warning:
        click.echo(f"booking: warning: {check.warning}", err=True)


def _exit_cleanly_on_sigterm() -> None:
    """Make a server stopped with SIGTERM (systemd, Docker, Kubernetes) exit 0 once drained.

    uvicorn handles SIGTERM itself: it stops accepting connections, lets the requests in flight
    finish (up to the graceful timeout), runs the app's shutdown (the outbox worker stops), and
    then raises the signal again for the handler it found when it started. Left at the default,
    that kills the process with SIGTERM's status (143), which process managers report as a
    failure; this handler turns it into an exit with status 0. With ``--workers`` above 1 the
    supervising process does the same for its children and exits 0 itself.
    """

    def exit_zero(_signal: int, _frame: FrameType | None) -> None:
        sys.exit(0)

    signal.signal(signal.SIGTERM, exit_zero)


@main.command()
@click.pass_obj
def migrate(settings: Settings) -> None:
    """Apply the database migrations."""
    from app.db.migrate import check_database, upgrade

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    check = check_database(settings.database_url)
    if not check.reachable:
        click.echo(f"booking: not migrating: {check.problem}", err=True)
        sys.exit(1)
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
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Server processes; about one per CPU core (see README).",
)
@click.option(
    "--graceful-timeout",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Seconds a stop (SIGTERM, Ctrl+C) waits for requests in flight before ending them.",
)
@click.pass_obj
def serve(
    settings: Settings, bind: str | None, port: int | None, workers: int, graceful_timeout: int
) -> None:
    """Serve the widget, the pages and the APIs (seeds the demo data first when DEMO is on).

    Refuses to start, with one line saying why, when the database cannot be reached or is not
    migrated to this release, or when PUBLIC_URL is https and SECRET_KEYS is not set.
    """
    import uvicorn

    from app.logs import log_config

    refuse_to_start(settings)
    if settings.demo:
        from app.hosts.demo import seed_demo as seed

        if run_with_session(settings, seed):
            click.echo("demo host created: open /demo/30min")
        click.echo(
            f"console: {settings.public_url}/console (a sign-in link for the demo host, valid "
            f"15 minutes: `.venv/bin/booking login-link demo`)"
        )
    _exit_cleanly_on_sigterm()
    uvicorn.run(
        "app.asgi:app_from_env",
        factory=True,
        host=bind or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=False,  # forwarded headers are judged by TRUSTED_PROXIES in the app
        log_config=log_config(settings.log_format),
        timeout_graceful_shutdown=graceful_timeout,
        # With --workers the supervisor pings each process and replaces one that does not answer
        # in time. uvicorn's 5 s is shorter than a start-up on a busy small machine (seen here:
        # processes replaced before they had imported the app); a hung process still goes.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
    )


@main.command("create-host")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--timezone", required=True, help="IANA zone, e.g. Europe/Berlin.")
@click.option("--admin", is_flag=True, help="May invite and disable hosts (the first host is).")
@click.pass_obj
def create_host(
    settings: Settings, slug: str, name: str, email: str, timezone: str, admin: bool
) -> None:
    """Create a host with a Monday-Friday 09:00-17:00 schedule in its zone."""
    from app.hosts.service import create_host as create

    async def work(session: AsyncSession) -> str:
        host = await create(session, slug, name=name, email=email, timezone=timezone, admin=admin)
        return host.slug + (" (admin)" if host.is_admin else "")

    click.echo(f"host created: {run_with_session(settings, work)}")
    click.echo(f"sign in to the console with: booking login-link {slug}")


@main.command("login-link")
@click.argument("slug")
@click.pass_obj
def login_link(settings: Settings, slug: str) -> None:
    """Print a one-time console sign-in link for the host (15 minutes), as the last line."""
    from app.hosts.access import LINK_MINUTES, sign_in_link
    from app.hosts.service import host_by_slug

    async def work(session: AsyncSession) -> str:
        host = await host_by_slug(session, slug)
        if host.disabled:
            raise click.ClickException(f"{slug} is disabled: an admin can enable it again.")
        return sign_in_link(settings, host)

    link = run_with_session(settings, work)
    click.echo(f"Open this within {LINK_MINUTES} minutes to sign in as {slug} (it works once):")
    click.echo(link)


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
    import logging.config

    from app.calendars.sync import run_sync_worker
    from app.logs import log_config
    from app.notify.worker import WorkerOptions, run_worker

    refuse_to_start(settings)
    logging.config.dictConfig(log_config(settings.log_format))

    options = WorkerOptions(poll_seconds=poll, lease_seconds=lease, retry_base_seconds=retry_base)

    async def work() -> None:
        # SIGTERM (a process manager's stop) cancels the worker like Ctrl+C does, so it stops
        # the way it stops inside `booking serve`, and the process exits 0.
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        engine = create_engine(settings.database_url)
        try:
            await asyncio.gather(
                run_worker(settings, engine, options), run_sync_worker(settings, engine)
            )
        finally:
            await engine.dispose()

    click.echo("outbox worker and calendar sync running (Ctrl+C to stop)")
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(work())


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_obj
def backup(settings: Settings, path: Path) -> None:
    """Copy the SQLite database to PATH (a new file, or a directory) while the server runs.

    The copy is consistent (one instant of the database), checked, and readable by you only.
    """
    from app.db.backup import BackupError, backup_sqlite, sqlite_file
    from app.db.migrate import describe_url

    source = sqlite_file(settings.database_url)
    if source is None:
        url = describe_url(settings.database_url).replace("+asyncpg", "")
        click.echo(
            "booking: backup copies SQLite databases; for PostgreSQL use its own tools,"
            f" e.g. pg_dump --format=custom --file=booking.dump '{url}'",
            err=True,
        )
        sys.exit(1)
    try:
        done = backup_sqlite(source, path)
    except BackupError as exc:
        click.echo(f"booking: no backup written: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"backup written to {done.path} ({done.size / 1e6:.1f} MB, {done.bookings} bookings,"
        " integrity ok)"
    )
    click.echo(
        "To restore it: stop the server; remove "
        f"{source}-wal and {source}-shm if they exist; copy the backup to {source};"
        " run `booking migrate` (if the backup is from an older release); start the server."
        " Keep SECRET_KEYS with your backups: links and stored secrets need the same keys."
    )


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
