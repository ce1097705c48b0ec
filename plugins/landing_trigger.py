"""Event trigger for the landing zone: each completely written return file becomes one asset event.

Runs in the Airflow triggerer (plugins/ is on its path) behind an ``AssetWatcher`` on the
``surgehub_landing`` asset. It polls the locality folders every ``poll_interval`` seconds (the DAG file
passes ``SURGEHUB_LANDING_POLL_SECONDS``, 1 s by default), waits until a file's size and mtime have
held still across one poll (so a file still being written is never read half-way), and emits an event
whose payload carries the file, its locality (from the folder, never from the file) and the time the
system first saw it (the receipt time, spec §4). A file is therefore announced one to two polls after
it lands.

What it has already announced is kept in the asset's state store, not in memory, so a triggerer
restart never replays old files; entries for files that have left the landing folder are dropped. The
store is touched once when the watcher starts, so its one-time set-up in the triggerer is not paid by
the first file to land.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

#: Logged once the watcher is ready and polling (the benchmark waits for it before dropping files).
READY_MESSAGE = "landing watcher ready: watching"


class LandingZoneTrigger(BaseEventTrigger):
    def __init__(self, landing_dir: str, poll_interval: float = 1.0) -> None:
        super().__init__()
        self.landing_dir = landing_dir
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "landing_trigger.LandingZoneTrigger",
            {"landing_dir": self.landing_dir, "poll_interval": self.poll_interval},
        )

    async def _seen(self, key: str) -> bool:
        store = getattr(self, "asset_state_store", None)
        if store is None:
            return key in self._memory
        return await store.aget(key) is not None

    async def _remember(self, key: str, value: str) -> None:
        store = getattr(self, "asset_state_store", None)
        if store is None:
            self._memory.add(key)
        else:
            await store.aset(key, value)

    async def _forget(self, key: str) -> None:
        store = getattr(self, "asset_state_store", None)
        if store is None:
            self._memory.discard(key)
        else:
            await store.adelete(key)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # Imported here so the DAG processor never loads more than this module's own imports.
        from surgehub import clock
        from surgehub.landing import scan

        self._memory: set[str] = set()
        previous: dict[str, tuple[int, int]] = {}
        first_seen_at: dict[str, str] = {}  # path -> when this poll loop first saw it
        announced: dict[str, str] = {}  # state key -> file path, for clean-up
        landing = Path(self.landing_dir)
        # The triggerer builds its in-process execution API on the first state-store call (seconds, far
        # more on a busy host): pay that now, while nothing is waiting, not when the first file lands.
        await self._seen("watcher:warm-up")
        self.log.info("%s %s every %.1f s", READY_MESSAGE, landing, self.poll_interval)
        while True:
            current = {str(f.path): f for f in scan(landing)}
            for path, landed in current.items():
                first_seen_at.setdefault(path, clock.now().isoformat())
                key = landed.state_key
                if previous.get(path) != (landed.size, landed.mtime_ns):
                    continue  # new or still changing: look again next poll
                if key in announced or await self._seen(key):
                    announced[key] = path
                    continue
                first_seen = first_seen_at[path]
                await self._remember(key, first_seen)
                announced[key] = path
                yield TriggerEvent(
                    {
                        "path": path,
                        "locality": landed.locality,
                        "size": landed.size,
                        "first_seen": first_seen,
                    }
                )
            for key, path in list(announced.items()):
                if path not in current:
                    await self._forget(key)
                    del announced[key]
            for path in list(first_seen_at):
                if path not in current:
                    del first_seen_at[path]
            previous = {path: (f.size, f.mtime_ns) for path, f in current.items()}
            await asyncio.sleep(self.poll_interval)
