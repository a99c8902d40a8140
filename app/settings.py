"""Every setting the server reads, in one place, taken from the environment.

Nothing else in the package reads ``os.environ``: handlers and services get a ``Settings``
object, so tests can build one with whatever values they need.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from ipaddress import ip_network
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# templates/, static/ and embed/ sit at the top of a source checkout; an installed wheel carries
# them inside the package, in app/_assets/ (setup.py's build step). Every path to them starts here.
ROOT = PACKAGE_DIR / "_assets" if (PACKAGE_DIR / "_assets").is_dir() else PACKAGE_DIR.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
EMBED_DIR = ROOT / "embed"
LOG_FORMATS = ("text", "json")


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret(var_dir: Path) -> str:
    """A per-checkout signing key kept in ``var/`` so links survive restarts in development."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _networks(name: str, value: str | None) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks; ValueError names an entry that is neither."""
    entries = tuple(p.strip() for p in (value or "").split(",") if p.strip())
    for entry in entries:
        try:
            ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"{name}: {entry!r} is not an IP address or network (such as 10.0.0.0/8)"
            ) from None
    return entries


def _port(value: str | None) -> int:
    if not value:
        return 8000
    if not value.strip().isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"PORT must be a port number (1-65535), not {value!r}")
    return int(value)


def _choice(name: str, value: str | None, choices: tuple[str, ...]) -> str:
    """The value (lower case) if it is one of ``choices``, the first choice if unset."""
    if not value:
        return choices[0]
    if value.strip().lower() not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value.strip().lower()


def _rate(text: str) -> tuple[str, int]:
    count, _, unit = text.partition("/")
    return (unit.strip() or "minute", int(count))


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = field(default_factory=lambda: Path.cwd() / "var")
    database_url: str = ""
    redis_url: str = ""
    smtp_url: str = ""
    mail_from: str = "Booking <no-reply@localhost>"
    public_url: str = "http://127.0.0.1:8000"
    secret_keys: tuple[str, ...] = field(default_factory=tuple)
    # True when SECRET_KEYS was unset and the key came from var/secret_key (development only).
    secret_key_generated: bool = False
    demo: bool = False
    book_rate_limit: str = "15/minute"
    slot_rate_limit: str = "300/minute"  # reads that compute free slots, per client
    trusted_proxies: tuple[str, ...] = ()
    run_worker: bool = True
    debug: bool = False
    log_format: str = "text"
    # Calendar connections (app/calendars/sync.py): how often each is read, how old busy data
    # may be before a booking reads it again, and after how long a failing one is emailed about.
    calendar_sync_seconds: int = 300
    calendar_fresh_seconds: int = 120
    calendar_stale_notify_minutes: int = 120
    # Let webhooks and calendar connections reach private/loopback addresses (app/net.py).
    allow_private_urls: bool = False
    # Seconds a request waits for SQLite's write lock (or a pooled connection) before a 503.
    db_lock_timeout: float = 10.0

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def insecure_reason(self) -> str | None:
        """Why these settings must not serve the public, or None.

        A key generated into var/ is fine on a laptop; behind an https ``PUBLIC_URL`` it means a
        real deployment whose links would be signed with a key nobody chose, kept next to the
        data and lost with the machine (and a second server would not share it).
        """
        if self.public_url.startswith("https://") and self.secret_key_generated:
            return (
                "PUBLIC_URL is https but SECRET_KEYS is not set: a real deployment must set "
                "SECRET_KEYS (make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return None

    @property
    def rate_limit(self) -> tuple[str, int]:
        """``BOOK_RATE_LIMIT`` as Litestar wants it: ("minute", 15)."""
        return _rate(self.book_rate_limit)

    @property
    def slot_rate(self) -> tuple[str, int]:
        """``SLOT_RATE_LIMIT`` as Litestar wants it: ("minute", 300)."""
        return _rate(self.slot_rate_limit)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        # var/ of the directory the command runs in, unless VAR_DIR says where (never the package).
        var_dir = Path(env.get("VAR_DIR") or "var").absolute()
        host = env.get("HOST") or "127.0.0.1"
        port = _port(env.get("PORT"))
        database_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{var_dir / 'booking.db'}"
        keys = tuple(k.strip() for k in (env.get("SECRET_KEYS") or "").split(",") if k.strip())
        generated = not keys
        if generated:
            keys = (_dev_secret(var_dir),)
        proxies = _networks("TRUSTED_PROXIES", env.get("TRUSTED_PROXIES"))
        return cls(
            host=host,
            port=port,
            var_dir=var_dir,
            database_url=database_url,
            redis_url=env.get("REDIS_URL") or "",
            smtp_url=env.get("SMTP_URL") or "",
            mail_from=env.get("MAIL_FROM") or cls.mail_from,
            public_url=(env.get("PUBLIC_URL") or f"http://{host}:{port}").rstrip("/"),
            secret_keys=keys,
            secret_key_generated=generated,
            demo=_bool(env.get("DEMO"), False),
            book_rate_limit=env.get("BOOK_RATE_LIMIT") or "15/minute",
            slot_rate_limit=env.get("SLOT_RATE_LIMIT") or "300/minute",
            trusted_proxies=proxies,
            run_worker=_bool(env.get("RUN_WORKER"), True),
            debug=_bool(env.get("DEBUG"), False),
            log_format=_choice("LOG_FORMAT", env.get("LOG_FORMAT"), LOG_FORMATS),
            calendar_sync_seconds=int(env.get("CALENDAR_SYNC_SECONDS") or 300),
            calendar_fresh_seconds=int(env.get("CALENDAR_FRESH_SECONDS") or 120),
            calendar_stale_notify_minutes=int(env.get("CALENDAR_STALE_NOTIFY_MINUTES") or 120),
            allow_private_urls=_bool(env.get("ALLOW_PRIVATE_URLS"), False),
            db_lock_timeout=float(env.get("DB_LOCK_TIMEOUT") or 10),
        )
