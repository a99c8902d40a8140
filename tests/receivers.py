"""Real local receivers for the notification tests: an SMTP server (aiosmtpd) and a webhook
endpoint (http.server), each in a thread, recording what arrives. Plus helpers that run the outbox
worker in-process: ``expand`` turns the booking events into their emails and webhook calls (as the
worker's first step would; ``support.expand_outbox``), ``drain`` expands and then delivers until
nothing is due."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.db.session import create_engine, create_sessionmaker
from app.notify.worker import OutboxWorker, WorkerOptions
from app.settings import Settings
from support import expand_outbox, free_port


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, str]]:
    """A running SMTP server; yields the mailbox and the SMTP_URL pointing at it."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


@dataclass
class Hook:
    """One webhook request as received."""

    headers: dict[str, str]
    body: str
    path: str = ""  # with its query, which tells several subscriptions to one receiver apart

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Answers 500 to the first ``fail_first`` requests, then 200; can hold one request open."""

    fail_first: int = 0
    hold_nth: int | None = None  # the n-th request (1-based) waits for ``release`` before answering
    hooks: list[Hook] = field(default_factory=list)
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def delivery_ids(self) -> list[str]:
        with self.lock:
            return [h.headers["x-booking-delivery"] for h in self.hooks]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    state = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            with state.lock:
                headers = {k.lower(): v for k, v in self.headers.items()}
                state.hooks.append(Hook(headers, body, self.path))
                count = len(state.hooks)
            if count == state.hold_nth:
                state.holding.set()
                state.release.wait(30)
            self.send_response(500 if count <= state.fail_first else 200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def drain() -> Any:
    """``drain(settings, **worker_options)``: see ``drain_outbox``."""
    return drain_outbox


@pytest.fixture
def expand() -> Any:
    """``expand(settings)``: see ``support.expand_outbox``."""
    return expand_outbox


def drain_outbox(settings: Settings, **options: Any) -> int:
    """Run the outbox worker in this process until nothing is due; returns how many messages
    (emails and webhook calls) were attempted. Due booking events are expanded first, and are not
    counted."""

    async def go() -> int:
        engine = create_engine(settings.database_url)
        worker = OutboxWorker(settings, create_sessionmaker(engine), WorkerOptions(**options))
        total = 0
        try:
            await worker.expand_events()
            while attempted := await worker.run_once():
                total += attempted
        finally:
            await engine.dispose()
        return total

    return asyncio.run(go())
