"""Real calendar servers for the tests: Radicale and Xandikos (from PyPI, the dev extras) started
as subprocesses on free loopback ports, and a small ICS feed server with ETag/Last-Modified.

Each server is started once per test process (session fixtures in tests/api/conftest.py); each
test makes its own user or calendar on it, so tests do not see each other's events.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import caldav

from bench.server import free_port

BIN = Path(sys.executable).parent


@dataclass
class DavServer:
    name: str
    url: str  # the URL a host would type (server root)
    root: Path | None = None  # Radicale's folder, where its htpasswd file is

    def account(self) -> tuple[str, str]:
        """A fresh user (Radicale) or the single user (Xandikos), with its password."""
        if self.root is None:
            return "xandikos", ""
        user, password = f"u{uuid.uuid4().hex[:10]}", f"pw-{uuid.uuid4().hex[:8]}"
        with (self.root / "users").open("a") as users:
            users.write(f"{user}:{password}\n")
        return user, password

    def client(self, user: str, password: str) -> caldav.DAVClient:
        return caldav.DAVClient(url=self.url, username=user, password=password)

    def make_calendar(self, user: str, password: str, name: str) -> caldav.Calendar:
        principal = self.client(user, password).principal()
        return principal.make_calendar(name=name, cal_id=f"{name.lower()}-{uuid.uuid4().hex[:8]}")


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port}:\n{log.read_text()[-2000:]}")


@contextmanager
def _process(args: list[str], port: int, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def radicale(root: Path, port: int | None = None) -> Iterator[DavServer]:
    """Radicale with htpasswd users (plain): each test registers its own (``account``).
    Started again on the same ``root`` and ``port``, it serves the same data."""
    port = port or free_port()
    htpasswd = root / "users"
    if not htpasswd.exists():
        htpasswd.write_text("")
    server = DavServer("radicale", f"http://127.0.0.1:{port}/", root)
    args = [
        str(BIN / "radicale"),
        "--server-hosts",
        f"127.0.0.1:{port}",
        "--storage-filesystem-folder",
        str(root / "collections"),
        "--auth-type",
        "htpasswd",
        "--auth-htpasswd-filename",
        str(htpasswd),
        "--auth-htpasswd-encryption",
        "plain",
        "--rights-type",
        "owner_only",
        "--logging-level",
        "warning",
    ]
    with _process(args, port, root / "radicale.log"):
        yield server


@contextmanager
def xandikos(root: Path) -> Iterator[DavServer]:
    """Xandikos, single user, no authentication (its default), with a default calendar."""
    port = free_port()
    args = [
        str(BIN / "xandikos"),
        "serve",
        "-d",
        str(root / "data"),
        "--defaults",
        "-l",
        "127.0.0.1",
        "-p",
        str(port),
        "--state-dir",
        str(root / "state"),
        "--no-detect-systemd",
    ]
    with _process(args, port, root / "xandikos.log"):
        yield DavServer("xandikos", f"http://127.0.0.1:{port}/")


# ICS feeds ---------------------------------------------------------------------------------------


class FeedStore:
    """What the feed server serves: path -> (body, etag, last-modified), and what it was asked."""

    def __init__(self) -> None:
        self.feeds: dict[str, tuple[bytes, str, str]] = {}
        self.requests: list[tuple[str, str, str]] = []  # (path, If-None-Match, status)
        self.status: dict[str, int] = {}
        self.delay: dict[str, float] = {}

    def publish(self, path: str, body: str | bytes) -> None:
        data = body.encode() if isinstance(body, str) else body
        tag = f'"{uuid.uuid4().hex[:12]}"'
        self.feeds[path] = (data, tag, formatdate(time.time(), usegmt=True))


@contextmanager
def feed_server() -> Iterator[tuple[str, FeedStore]]:
    store = FeedStore()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path
            if path in store.delay:
                time.sleep(store.delay[path])
            forced = store.status.get(path)
            if forced:
                self.send_response(forced)
                self.end_headers()
                store.requests.append((path, self.headers.get("If-None-Match", ""), str(forced)))
                return
            if path not in store.feeds:
                self.send_response(404)
                self.end_headers()
                store.requests.append((path, "", "404"))
                return
            body, tag, modified = store.feeds[path]
            if self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.end_headers()
                store.requests.append((path, tag, "304"))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("ETag", tag)
            self.send_header("Last-Modified", modified)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            store.requests.append((path, self.headers.get("If-None-Match", ""), "200"))

        def log_message(self, *args: object) -> None:
            pass

        def handle(self) -> None:
            # The client may give up first (a test of a size or time limit).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", store
    finally:
        server.shutdown()
        server.server_close()
