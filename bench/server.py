"""Start the app (or the hello-world ceiling) in real uvicorn processes, as ``booking serve`` does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.settings import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn(
    target: str,
    env: dict[str, str],
    log: Path,
    *,
    factory: bool,
    workers: int = 1,
    port: int | None = None,
) -> Iterator[str]:
    """Serve ``target`` on a free port of 127.0.0.1 and yield its base URL.

    The flags are those of ``booking serve`` (uvloop and httptools come with uvicorn[standard]),
    except the log level: access logs are off so they do not dominate what is measured.
    """
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--no-proxy-headers", "--log-level", "warning"]
    # As `booking serve` does: uvicorn's 5 s replaces worker processes still starting up on a
    # busy machine, over and over (the server then never answers).
    command += ["--timeout-worker-healthcheck", "30"]
    if factory:
        command.append("--factory")
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_up(base_url, process, log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_up(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90  # generous: a loaded 2-core machine starts Python slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            httpx.get(base_url + "/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start:\n{log.read_text()}")
