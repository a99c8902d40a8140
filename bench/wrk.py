"""Drive wrk (a C load generator, from Debian) at a fixed concurrency and read its figures."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
CONNECTIONS = 8  # throughput: requests/s with this many connections kept busy
THREADS = 1  # one core serves, one loads: wrk in C needs far less than a Python server
DURATION_S = 8
LATENCY_S = 5  # latency: one connection, so the figures are a request's own service time
WARMUP_S = 2


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def available() -> bool:
    return shutil.which("wrk") is not None


def version() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return out.split("Copyright")[0].strip()


def run(
    url: str,
    *,
    seconds: int = DURATION_S,
    connections: int = CONNECTIONS,
    headers: dict[str, str] | None = None,
    script: str = "report.lua",
    script_args: tuple[str, ...] = (),
) -> Result:
    command = ["wrk", "-t", str(THREADS), "-c", str(connections), "-d", f"{seconds}s"]
    command += ["--timeout", "10s", "-s", script]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    out = subprocess.run(command, cwd=HERE, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    return Result(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        non_2xx=data["non_2xx"],
        socket_errors=data["socket_errors"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )
