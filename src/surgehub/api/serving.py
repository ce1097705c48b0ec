"""Running the app under uvicorn with connection limits: what `surgehub serve` starts.

- ``limit_concurrency``: at most `MAX_CONCURRENCY` connections and requests at once; beyond that
  uvicorn answers 503 at once instead of buffering more bodies.
- A slow-loris guard: uvicorn times out an idle kept-alive connection but not one whose request
  headers trickle in. `GuardedHttpTools` closes a connection whose next request's headers are not
  complete within `HEADER_SECONDS` of it opening (or of the previous answer). The body is bounded
  by the app itself (`Limits.body_idle_seconds`, `Limits.body_total_seconds`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

if TYPE_CHECKING:
    import asyncio

    from fastapi import FastAPI

#: Connections and requests served at once (each upload holds at most about 5 MiB while it is read).
MAX_CONCURRENCY = 32
#: A request's headers must be complete this long after the connection opens (or the last answer).
HEADER_SECONDS = 10.0
#: An idle kept-alive connection is closed after this long.
KEEP_ALIVE_SECONDS = 5


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request headers do not arrive in time."""

    header_seconds = HEADER_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()  # type: ignore[union-attr]
        waiting_since = self.cycle
        self._header_timer = self.loop.call_later(self.header_seconds, self._headers_due, waiting_since)

    def _headers_due(self, waiting_since: Any) -> None:
        self._header_timer = None
        if self.cycle is waiting_since and not self.transport.is_closing():  # no new request began
            self.logger.debug("closing a connection whose request headers did not arrive in time")
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()  # type: ignore[union-attr]
            self._header_timer = None
        super().connection_lost(exc)


def serve_app(app: FastAPI, host: str, port: int) -> None:
    """Serve ``app`` until stopped, with the limits above."""
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,
        server_header=False,
        http=GuardedHttpTools,
        limit_concurrency=MAX_CONCURRENCY,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
