"""Request limits for the Submission API and sign-in: rate limits on a shared store, and a bounded body read.

Rate limits go through the `limits` library (moving windows). Its store is the one switch
``SURGEHUB_REDIS_URL``: Redis in production, so every replica of the API counts together; unset, the
process's memory (embedded: one ``surgehub serve``). When the store cannot be reached the request is
refused (503), never let through uncounted: a rate limit that fails open is no cap on guessing codes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping

    from limits.storage import Storage

log = logging.getLogger(__name__)

#: Room for the multipart framing and the page's token field around the file itself.
MULTIPART_OVERHEAD = 64 * 1024

#: Where the rate limits (and the sessions, `surgehub.api.auth`) are kept: a Redis URL; unset, memory.
REDIS_ENV = "SURGEHUB_REDIS_URL"


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Request limits: per token (or signed-in account), per address and per client for sign-in."""

    uploads_per_window: int = 30
    reads_per_window: int = 300
    window_seconds: float = 60.0
    #: A request body must keep coming (at most this long between chunks) and be whole within the total.
    body_idle_seconds: float = 15.0
    body_total_seconds: float = 120.0
    #: Sign-in (``limits`` notation): codes asked for, and codes tried, per address and per client.
    codes_per_address: str = "5/hour"
    codes_per_client: str = "60/hour"  # NHS sites share egress addresses
    tries_per_address: str = "10/15 minutes"
    tries_per_client: str = "100/15 minutes"
    #: The shared store (``redis://host:6379/0``), or ``memory://`` (this process only).
    storage_uri: str = "memory://"
    #: Keys are prefixed with this: replicas of one deployment share it; tests each use their own.
    namespace: str = "surgehub"
    _storage: list[Storage] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """The limits ``SURGEHUB_API_UPLOADS_PER_MINUTE``, ``SURGEHUB_API_READS_PER_MINUTE`` and the
        store ``SURGEHUB_REDIS_URL`` set."""
        env = os.environ if env is None else env
        return cls(
            uploads_per_window=int(env.get("SURGEHUB_API_UPLOADS_PER_MINUTE", "30")),
            reads_per_window=int(env.get("SURGEHUB_API_READS_PER_MINUTE", "300")),
            storage_uri=env.get(REDIS_ENV, "").strip() or "memory://",
        )

    def storage(self) -> Storage:
        """The store, made once per ``Limits`` (so a memory store is shared by all its limiters)."""
        if not self._storage:
            options = (
                {}
                if self.storage_uri.startswith("memory")
                else {"socket_timeout": 2, "socket_connect_timeout": 2}
            )
            self._storage.append(storage_from_string(self.storage_uri, **options))  # type: ignore[arg-type]  # a sync URI
        return self._storage[0]

    def limiter(self, name: str, rate: str) -> RateLimiter:
        return RateLimiter(self.storage(), rate, namespace=f"{self.namespace}:{name}")

    def per_window(self, name: str, count: int) -> RateLimiter:
        return self.limiter(name, f"{count}/{int(self.window_seconds)} seconds")


class LimiterDown(RuntimeError):
    """The rate-limit store could not be reached (answered 503)."""


class RateLimiter:
    """At most ``rate`` (e.g. ``30/minute``) events per key, in a moving window on the shared store."""

    def __init__(
        self, storage: Storage, rate: str, *, namespace: str, wall: Callable[[], float] = time.time
    ) -> None:
        self.item = parse(rate)
        self.namespace = namespace
        self._strategy = MovingWindowRateLimiter(storage)
        self._wall = wall

    def allow(self, key: str) -> tuple[bool, float]:
        """Count one event for ``key``; (allowed, seconds until the next one would be allowed)."""
        try:
            if self._strategy.hit(self.item, self.namespace, key):
                return True, 0.0
            stats = self._strategy.get_window_stats(self.item, self.namespace, key)
        except Exception as exc:  # the store is down: refuse, and say so once in the log
            log.error("rate-limit store unavailable: %s", exc)
            raise LimiterDown(str(exc)) from exc
        return False, max(0.0, stats.reset_time - self._wall())


class BodyTooLarge(Exception):
    """The request body is over the limit (answered 413)."""


class BodyTooSlow(Exception):
    """The client sent its body too slowly (answered 408): a stalled upload never holds the server."""


async def read_body(
    chunks: AsyncIterator[bytes], limit: int, *, idle_seconds: float = 15.0, total_seconds: float = 120.0
) -> bytes:
    """The whole body, stopping as soon as it passes ``limit`` bytes (never buffering more), or when a
    chunk takes longer than ``idle_seconds`` or the whole longer than ``total_seconds``."""
    parts: list[bytes] = []
    size = 0
    deadline = time.monotonic() + total_seconds
    iterator = chunks.__aiter__()
    while True:
        wait = min(idle_seconds, deadline - time.monotonic())
        if wait <= 0:
            raise BodyTooSlow
        try:
            chunk = await asyncio.wait_for(anext(iterator), timeout=wait)
        except StopAsyncIteration:
            return b"".join(parts)
        except TimeoutError:
            raise BodyTooSlow from None
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(size)
        parts.append(chunk)
