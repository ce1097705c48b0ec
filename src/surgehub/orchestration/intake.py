"""Taking files out of the landing zone for an ingest run: only complete regular files, read safely.

What the run was given (the watcher's events, a manual run's ``conf["files"]``, or a manual run's
own look at the landing zone) is taken here as spec §4 says, through `surgehub.landing.read_landed`:

- an entry the watcher announced carries the size and modification time it had when it was judged
  complete (renamed in, or unchanged for the quiet period); it must still have them when read;
- any other file (a manual run) is complete when the API wrote it (its own atomic hand-off, matched
  by name, folder and bytes) or when it has not changed for the quiet period by its own modification
  time; a file changed more recently is waited for, once, within the run (at most the quiet period),
  and taken only if it is still unchanged then; otherwise it is left for the watcher (logged);
- a link or anything that is not a regular file is refused: moved to ``rejected/`` unread (the link
  itself, never its target) and the locality is sent a notice (``surgehub.mail.refusals``);
- a file over the size limit is hashed by streaming and handed to the ingest without its bytes (F01).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from surgehub import clock
from surgehub.landing import NotTaken, Refusal, move_done, plain_name, read_landed, shown

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from surgehub.ingest import IncomingReturn
    from surgehub.landing import Taken
    from surgehub.resources import Resources

log = logging.getLogger(__name__)


@dataclass
class Intake:
    """What a run took: the returns to ingest, the notices to send, and what it left (logged)."""

    items: list[IncomingReturn] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    codes: frozenset[str] = frozenset()  # the register's localities: their folders are taken too


@dataclass(frozen=True)
class _Wanted:
    path: Path
    locality: str
    received_at: str
    channel: str
    expected: tuple[int, int] | None  # (size, mtime_ns) when the watcher judged it complete


def take(files: list[dict[str, Any]], resources: Resources, *, sleep: Any = time.sleep) -> Intake:
    """Take ``files`` (``{"path", "locality", "received_at"[, "size", "mtime_ns", "refused"]}``) as spec §4 says."""
    from surgehub.reference import normalise_code
    from surgehub.warehouse.register import locality_codes

    waiting: list[tuple[_Wanted, Taken]] = []
    quiet = resources.settings.limits.landing_quiet_seconds
    engine = resources.warehouse()
    intake = Intake(codes=locality_codes(engine))
    for f in files:
        path = Path(f["path"])
        locality = normalise_code(str(f["locality"]))
        if f.get("refused"):
            _refuse(intake, path, locality, Refusal(f["refused"]), f.get("key"))
            continue
        expected = (int(f["size"]), int(f["mtime_ns"])) if "mtime_ns" in f and "size" in f else None
        wanted = _Wanted(path, locality, str(f["received_at"]), str(f.get("channel", "folder")), expected)
        taken = _read(intake, wanted, resources)
        if taken is None:
            continue
        if expected is None and not _complete(wanted, taken, quiet, engine):
            waiting.append((wanted, taken))
            continue
        intake.items.append(_incoming(wanted, taken, engine))
    if waiting:
        _wait_for(intake, waiting, resources, sleep)
    return intake


def _wait_for(intake: Intake, waiting: list[tuple[_Wanted, Taken]], resources: Resources, sleep: Any) -> None:
    """Wait (at most the quiet period) for files changed too recently, then take those still unchanged."""
    quiet = resources.settings.limits.landing_quiet_seconds
    youngest = max(t.mtime_ns for _, t in waiting) / 1e9
    pause = min(quiet, max(0.0, youngest + quiet - time.time()))
    log.info("%d file(s) changed within the last %.1f s: waiting %.1f s for them", len(waiting), quiet, pause)
    sleep(pause)
    engine = resources.warehouse()
    for wanted, first in waiting:
        again = _Wanted(
            wanted.path, wanted.locality, wanted.received_at, wanted.channel, (first.size, first.mtime_ns)
        )
        taken = _read(intake, again, resources)
        if taken is None:
            continue
        if time.time() - taken.mtime_ns / 1e9 < quiet:
            intake.left.append(shown(wanted.path))
            log.info("%s is still changing: left for the landing watcher", shown(wanted.path))
            continue
        intake.items.append(_incoming(again, taken, engine))


def _read(intake: Intake, wanted: _Wanted, resources: Resources) -> Taken | None:
    settings = resources.settings
    try:
        return read_landed(
            wanted.path,
            landing_dir=settings.landing_dir,
            max_bytes=settings.limits.max_file_bytes,
            expected=wanted.expected,
            codes=intake.codes,
        )
    except NotTaken as not_taken:
        if isinstance(not_taken.reason, Refusal):
            _refuse(intake, wanted.path, wanted.locality, not_taken.reason, None)
        else:
            intake.left.append(shown(wanted.path))
            log.warning("%s not taken: %s (left where it is)", shown(wanted.path), not_taken.reason.value)
        return None


def _complete(wanted: _Wanted, taken: Taken, quiet: float, engine: Engine) -> bool:
    """A manual run's file: the API's own atomic hand-off, or unchanged for the quiet period."""
    from surgehub.api.submissions import api_receipt_for

    if time.time() - taken.mtime_ns / 1e9 >= quiet:
        return True
    return api_receipt_for(wanted.path.name, taken.sha256, wanted.locality, engine) is not None


def _incoming(wanted: _Wanted, taken: Taken, engine: Engine) -> IncomingReturn:
    """The ingest's item; a file the API handed over keeps the API's receipt time and the sender's name."""
    from surgehub.api.submissions import api_receipt_for
    from surgehub.ingest import Channel, Content, IncomingReturn

    receipt = api_receipt_for(wanted.path.name, taken.sha256, wanted.locality, engine)
    return IncomingReturn(
        path=wanted.path,
        locality=wanted.locality,
        channel=Channel.API if receipt else Channel(wanted.channel),
        received_at=receipt.received_at if receipt else clock.parse_instant(wanted.received_at),
        file_name=receipt.file_name if receipt else wanted.path.name,
        name_refused=receipt.name_refused if receipt else False,
        content=Content(data=taken.data, size=taken.size, sha256=taken.sha256),
    )


def _refuse(intake: Intake, path: Path, locality: str, reason: Refusal, key: str | None) -> None:
    """Move a refused entry (the entry itself, never what a link points to) to rejected/; note the notice."""
    import hashlib
    import os

    try:
        st = os.lstat(path)
    except FileNotFoundError:
        log.info("%s had already left the landing zone", shown(path))
        return
    key = (
        key
        or f"{locality}:" + hashlib.sha256(f"{path}|{st.st_ino}|{st.st_mtime_ns}".encode()).hexdigest()[:24]
    )
    try:
        moved = move_done(path, accepted=False)
    except OSError as exc:
        log.error("%s (%s) could not be moved to rejected/: %s", shown(path), reason.value, exc)
        moved = None
    log.warning("%s from %s refused: %s (never read)", shown(path), locality, reason.value)
    intake.notices.append(
        {
            "locality": locality,
            "name": plain_name(path.name),
            "reason": reason.value,
            "key": key,
            "moved_to_folder": "rejected" if moved is not None else None,
        }
    )
