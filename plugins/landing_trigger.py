"""Event trigger for the landing zone: each complete return file becomes one asset event (spec §4).

Runs in the Airflow triggerer (plugins/ is on its path) behind an ``AssetWatcher`` on the
``surgehub_landing`` asset. It looks at the locality folders (``surgehub.landing.survey``: ``lstat``
only, no link followed) every ``poll_interval`` seconds, and at once whenever the file system reports
a change (``watchdog``'s inotify observer, run in its own thread and handed to the event loop). A
regular file is announced when it is complete:

- **renamed in** (a move into a locality folder, reported by inotify): at once, while its size and
  modification time are still those it had when it arrived;
- otherwise once its size and modification time have stayed the same, as this watcher saw them, for
  the quiet period (``limits.landing_quiet_seconds``, 10 s by default).

Names marking an upload in progress (a leading ``.``, ``.part``, ``.partial``, ``.tmp``, ``.filepart``)
are not looked at. A link, folder, FIFO, socket or device is announced once as *refused* (the ingest
run moves it to ``rejected/`` unread and tells the locality). Shares whose file system reports no
events (NFS, SMB/CIFS, many FUSE mounts, see docs/intake.md) are still served by the polling, so
there every file waits for the quiet period. Each event's payload carries the file, its locality
(from the folder, never the file), its size and modification time (the ingest checks them again
when it reads the file), and when the system first saw it (the receipt time, spec §4).

What it has announced is kept in the asset's state store, not in memory, so a triggerer restart
never replays old files; entries for files that have left the landing folder are dropped. The store
is touched once when the watcher starts, so its one-time set-up is not paid by the first file.

The locality folders are the shipped ten and every locality the warehouse's register holds (a
locality recorded as data, e.g. the national benchmark's 420 areas, needs no release or restart):
the watcher reads the register's locality codes again every ``CODES_REFRESH_S`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

#: How often the watcher reads the register's localities again (a new locality's folder is watched
#: within this many seconds of it being recorded).
CODES_REFRESH_S = 10.0

#: Logged once the watcher is ready and polling (the benchmark waits for it before dropping files).
READY_MESSAGE = "landing watcher ready: watching"


def start_observer(landing: Path, on_rename: Callable[[str], None]) -> Any:
    """Start watchdog's inotify observer on ``landing``; None where the platform or the share has none.

    ``on_rename(path)`` is called (in the observer's thread) for each entry moved directly into a
    locality folder (``landing/<code>/<name>``). Other changes need no event: the polling sees them.
    """
    try:
        from watchdog.events import FileMovedEvent, FileSystemEvent, FileSystemEventHandler
        from watchdog.observers.inotify import InotifyObserver
    except ImportError:  # not Linux: polling only
        return None

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if isinstance(event, FileMovedEvent) and event.dest_path:
                dest = Path(str(event.dest_path))
                if dest.parent.parent == landing:
                    on_rename(str(dest))

    observer = InotifyObserver(generate_full_events=True)  # a move in from outside is a move, not a create
    try:
        observer.schedule(Handler(), str(landing), recursive=True)
        observer.start()
    except OSError:  # e.g. the inotify watch limit reached: polling still works
        return None
    return observer


class LandingZoneTrigger(BaseEventTrigger):
    def __init__(self, landing_dir: str, poll_interval: float = 1.0, quiet_seconds: float = 10.0) -> None:
        super().__init__()
        self.landing_dir = landing_dir
        self.poll_interval = poll_interval
        self.quiet_seconds = quiet_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "landing_trigger.LandingZoneTrigger",
            {
                "landing_dir": self.landing_dir,
                "poll_interval": self.poll_interval,
                "quiet_seconds": self.quiet_seconds,
            },
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
        from surgehub.landing import Watch

        self._memory: set[str] = set()
        self._codes_cache: frozenset[str] = frozenset()
        self._codes_read_at = float("-inf")
        landing = Path(self.landing_dir)
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        watch = Watch(self.quiet_seconds)

        def arrived(path: str) -> None:  # on the event loop
            watch.arrived(path)
            wake.set()

        def on_rename(path: str) -> None:  # in the observer's thread
            loop.call_soon_threadsafe(arrived, path)

        observer = start_observer(landing, on_rename)
        self._first_seen: dict[str, str] = {}  # path -> when this watcher first saw it (the receipt time)
        self._announced: dict[str, str] = {}  # state key -> path, for clean-up
        # The triggerer builds its in-process execution API on the first state-store call (seconds, far
        # more on a busy host): pay that now, while nothing is waiting, not when the first file lands.
        await self._seen("watcher:warm-up")
        self.log.info(
            "%s %s every %.1f s (quiet period %.1f s; rename events %s)",
            READY_MESSAGE,
            landing,
            self.poll_interval,
            self.quiet_seconds,
            "on" if observer is not None else "off: polling only",
        )
        try:
            while True:
                async for event in self._look(landing, watch):
                    yield event
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=self.poll_interval)
        finally:
            if observer is not None:
                observer.stop()

    def _codes(self) -> frozenset[str]:
        """The localities the warehouse's register holds (a locality recorded as data is watched with no
        release or restart), read at most every ``CODES_REFRESH_S``; the shipped ten when unreadable."""
        now = time.monotonic()
        if now - self._codes_read_at >= CODES_REFRESH_S:
            from surgehub.config import load_settings
            from surgehub.warehouse.db import get_engine
            from surgehub.warehouse.register import locality_codes

            try:
                self._codes_cache = locality_codes(get_engine(load_settings().warehouse_url))
            except Exception:  # settings unreadable: keep what was known; the shipped ten at least
                self.log.exception("could not read the register's localities: keeping the folders known")
            self._codes_read_at = now
        return self._codes_cache

    async def _look(self, landing: Path, watch: Any) -> AsyncIterator[TriggerEvent]:
        """One look at the landing folders: an event for each file newly complete and each entry refused."""
        from surgehub import clock
        from surgehub.landing import shown, survey

        found = survey(landing, self._codes())
        now = time.monotonic()
        current = {str(f.path): f for f in found.files}
        for path, landed in current.items():
            first_seen = self._first_seen.setdefault(path, clock.now().isoformat())
            if not watch.complete(landed, now) or not await self._first_time(
                landed.state_key, path, first_seen
            ):
                continue
            yield TriggerEvent(
                {
                    "path": path,
                    "locality": landed.locality,
                    "size": landed.size,
                    "mtime_ns": landed.mtime_ns,
                    "first_seen": first_seen,
                    "renamed": watch.renamed(path),
                }
            )
        for entry in found.refused:
            seen = clock.now().isoformat()
            if not await self._first_time("refused:" + entry.key, str(entry.path), seen):
                continue
            self.log.warning("%s is not a regular file (%s): refused", shown(entry.path), entry.reason)
            yield TriggerEvent(
                {
                    "path": str(entry.path),
                    "locality": entry.locality,
                    "refused": entry.reason.value,
                    "key": entry.key,
                    "first_seen": seen,
                }
            )
        present = set(current) | {str(r.path) for r in found.refused}
        for key, path in list(self._announced.items()):
            if path not in present:
                await self._forget(key)
                del self._announced[key]
        for path in [p for p in self._first_seen if p not in present]:
            del self._first_seen[path]
        watch.forget_all_but(present)

    async def _first_time(self, key: str, path: str, value: str) -> bool:
        """True (and remembered) the first time ``key`` is to be announced; False once it has been."""
        if key in self._announced or await self._seen(key):
            self._announced[key] = path
            return False
        await self._remember(key, value)
        self._announced[key] = path
        return True
