"""The rate limit's store: Redis (shared by every process) while it answers, else this process.

Litestar's rate limiter keeps each client's recent requests in a store. With ``REDIS_URL`` that
is Redis, so all processes count together; if Redis stops answering, a request must not fail
because of it: the counts move to this process's memory (a per-process limit, looser by the
number of processes), with one warning in the log, and go back to Redis, with one more line,
once it answers again (it is asked again every ``RETRY_SECONDS``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from types import TracebackType
from typing import TypeVar

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("app.web")
T = TypeVar("T")
RETRY_SECONDS = 10.0
REDIS_TIMEOUT_S = 0.5  # a rate-limit lookup is on every limited request: never wait long


def make_rate_limit_store(redis_url: str) -> Store:
    if not redis_url:
        return MemoryStore()
    client = Redis.from_url(
        redis_url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
    )
    redis = RedisStore(client, namespace="booking-rate-limit", handle_client_shutdown=True)
    return FallbackStore(redis, MemoryStore())


class FallbackStore(Store):
    """``primary`` while it works; ``fallback`` while it fails, retried now and then."""

    def __init__(self, primary: Store, fallback: Store) -> None:
        self.primary = primary
        self.fallback = fallback
        self.down_until: float | None = None  # monotonic time to try the primary again

    async def _use(self, call: Callable[[Store], Awaitable[T]]) -> T:
        if self.down_until is not None and time.monotonic() < self.down_until:
            return await call(self.fallback)
        try:
            result = await call(self.primary)
        except (RedisError, OSError) as exc:
            if self.down_until is None:
                log.warning(
                    "Redis is unavailable (%s: %s): rate limits count per process until it is back",
                    type(exc).__name__,
                    exc,
                )
            self.down_until = time.monotonic() + RETRY_SECONDS
            return await call(self.fallback)
        if self.down_until is not None:
            log.warning("Redis is back: rate limits are shared between processes again")
            self.down_until = None
        return result

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        await self._use(lambda store: store.set(key, value, expires_in))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await self._use(lambda store: store.get(key, renew_for))

    async def delete(self, key: str) -> None:
        await self._use(lambda store: store.delete(key))

    async def delete_all(self) -> None:
        await self._use(lambda store: store.delete_all())

    async def exists(self, key: str) -> bool:
        return await self._use(lambda store: store.exists(key))

    async def expires_in(self, key: str) -> int | None:
        return await self._use(lambda store: store.expires_in(key))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.primary.__aexit__(exc_type, exc_val, exc_tb)
        await self.fallback.__aexit__(exc_type, exc_val, exc_tb)
