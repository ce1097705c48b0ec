"""Request limits for the Submission API: a per-token sliding-window rate limit and a bounded body read.

The rate limiter lives in the process's memory: right for one ``surgehub serve`` process (the
deployment this issue asks for); several processes would each count on their own (see docs/api.md).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping

#: Room for the multipart framing and the page's token field around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Per-token request limits (sliding windows, in this process's memory)."""

    uploads_per_window: int = 30
    reads_per_window: int = 300
    window_seconds: float = 60.0
    #: A request body must keep coming (at most this long between chunks) and be whole within the total.
    body_idle_seconds: float = 15.0
    body_total_seconds: float = 120.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """The limits ``SURGEHUB_API_UPLOADS_PER_MINUTE`` and ``SURGEHUB_API_READS_PER_MINUTE`` set."""
        env = os.environ if env is None else env
        return cls(
            uploads_per_window=int(env.get("SURGEHUB_API_UPLOADS_PER_MINUTE", "30")),
            reads_per_window=int(env.get("SURGEHUB_API_READS_PER_MINUTE", "300")),
        )


class RateLimiter:
    """At most ``limit`` events per key in any ``window`` seconds (sliding window of event times)."""

    def __init__(self, limit: int, window: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._monotonic = monotonic
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        """Count one event for ``key``; (allowed, seconds until the next one would be allowed)."""
        now = self._monotonic()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False, max(0.0, events[0] + self.window - now)
            events.append(now)
            return True, 0.0


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
