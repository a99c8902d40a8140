"""Run the real ``booking`` command the way an operator or a process manager does."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.settings import Settings
from bench.server import free_port
from support import booking_body, demo_slot, next_weekday

BOOKING = Path(sys.executable).with_name("booking")


def slot_body(i: int) -> dict[str, str]:
    """A booking of the i-th demo half hour (16 a weekday, a new week every 16): never taken twice."""
    day = next_weekday(3 + 7 * (i // 16))
    return booking_body(*demo_slot(day, 9 + i % 16 // 2, 30 * (i % 2)), inviteeName=f"Guest {i}")


def booking_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "VAR_DIR": str(settings.var_dir),
        "DATABASE_URL": settings.database_url,
        "SECRET_KEYS": ",".join(settings.secret_keys),
        "BOOK_RATE_LIMIT": settings.book_rate_limit,
        "RUN_WORKER": "1" if settings.run_worker else "0",
        **extra,
    }


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def booking_serve(settings: Settings, *args: str, **env: str) -> Iterator[Served]:
    """``booking serve ARGS`` on a free port, ready (``/readyz`` answers 200) when yielded.

    Stopped with SIGTERM on the way out unless the test stopped it already."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = settings.var_dir / f"serve-{port}.log"
    environment = booking_env(settings, PUBLIC_URL=url, **env)
    command = [str(BOOKING), "serve", "--port", str(port), *args]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=settings.var_dir, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_ready(url, process, log)
        yield Served(url, process, log)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90  # three processes on a loaded 2-core machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"booking serve exited ({process.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"booking serve did not get ready:\n{log.read_text()}")


class TcpGate:
    """A TCP forwarder in front of a server, which a test closes (new connections are refused,
    open ones cut) and opens again: an outage of the server behind it, seen from the app."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.StreamWriter] = set()

    def _run(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def open(self) -> None:
        self._run(self._open())

    def close(self) -> None:
        self._run(self._close())

    def stop(self) -> None:
        self._run(self._close(finish=True))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    async def _open(self) -> None:
        self.server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    async def _close(self, finish: bool = False) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.pipes):
            writer.transport.abort()
        self.pipes.clear()
        if finish:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.pipes |= {writer, upstream_writer}
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.pipes.discard(writer)
            writer.transport.abort()
