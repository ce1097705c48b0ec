"""The archive of received returns: every file kept byte for byte, beside a JSON receipt record.

Layout (under ``settings.archive_dir``, and the same under ``settings.quarantine_dir`` for R16 files)::

    <sub_icb_code>/<yyyy-mm-dd London day of receipt>/<yyyymmddThhmmss.ffffffZ>_<sha8>_<name>
    <same>.receipt.json   {"locality", "channel", "received_at" (UTC), "sha256", "file_name", ...}

The path is a function of the receipt, so writing the same receipt twice is a no-op, and backfill
can replay the archive with the receipt times recorded when the files first arrived. Files are
written to a temporary name and renamed into place, so a reader never sees half a file.

Durability: every kept file must be on disk before its return is loaded (a crash must never leave a
loaded return without its archive copy). `store` flushes each file itself; `KeptTogether` keeps many
files and makes them durable together, then the caller loads them: a few files are flushed one by
one (each file, its receipt record and their folders), more with one ``syncfs(2)`` of each
filesystem they are on — one journal commit instead of two per file (docs/benchmarks.md).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from surgehub.clock import london_day
from surgehub.files import write_atomically
from surgehub.identifiers import mask

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

RECEIPT_SUFFIX = ".receipt.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ArchiveError(OSError):
    """A file or its receipt record could not be written (the return must not be acknowledged)."""


@dataclass(frozen=True)
class Receipt:
    """Who sent which bytes, when, and on which channel: what a faithful replay needs."""

    locality: str
    channel: str
    received_at: datetime  # aware, UTC
    sha256: str
    file_name: str
    size_bytes: int
    outcome: str | None = None  # accepted | rejected (by validation), for people reading the archive

    def to_json_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["received_at"] = self.received_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return data

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Receipt:
        received = datetime.fromisoformat(str(data["received_at"]).replace("Z", "+00:00"))
        if received.tzinfo is None:
            raise ValueError("receipt record without a UTC offset")
        return cls(
            locality=str(data["locality"]).upper(),
            channel=str(data["channel"]),
            received_at=received.astimezone(UTC),
            sha256=str(data["sha256"]),
            file_name=str(data["file_name"]),
            size_bytes=int(data["size_bytes"]),
            outcome=data.get("outcome"),
        )


def safe_name(name: str, limit: int = 100) -> str:
    """A file name safe on any filesystem: letters, digits, dot, dash, underscore; never a patient number.

    Masked (R16) before it is cleaned: cleaning turns separators into ``_``, which R16 does not join.
    """
    cleaned = _UNSAFE.sub("_", mask(Path(name).name)).strip("._") or "return"
    return cleaned[-limit:]


def relative_path(receipt: Receipt) -> Path:
    """Where a receipt's file lives, relative to the archive (or quarantine) root."""
    stamp = receipt.received_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    day = london_day(receipt.received_at).isoformat()
    return Path(receipt.locality) / day / f"{stamp}_{receipt.sha256[:8]}_{safe_name(receipt.file_name)}"


def receipt_path(file_path: Path) -> Path:
    return file_path.with_name(file_path.name + RECEIPT_SUFFIX)


@dataclass(frozen=True)
class Stored:
    """A file kept in the archive: its path relative to the root, and whether this call wrote it."""

    relative: Path
    root: Path
    created: bool

    @property
    def path(self) -> Path:
        return self.root / self.relative


def store(
    root: Path, receipt: Receipt, data: bytes, *, private: bool = False, durable: bool = True
) -> Stored:
    """Keep ``data`` and its receipt record under ``root``; an identical copy already there is reused.

    ``private`` (the quarantine): folders 0700 and files 0600, readable by the operators' account only.
    ``durable=False``: not flushed to disk here (`KeptTogether` does it for many files at once).
    """
    relative = relative_path(receipt)
    target = root / relative
    try:
        if target.is_file() and receipt_path(target).is_file() and target.read_bytes() == data:
            return Stored(relative, root, created=False)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
        if private:
            for folder in (root, *target.relative_to(root).parents):
                (root / folder).chmod(0o700)
        mode = 0o600 if private else 0o644
        write_atomically(target, data, mode=mode, sync=durable)
        record = json.dumps(receipt.to_json_dict(), indent=2, sort_keys=True).encode("utf-8")
        write_atomically(receipt_path(target), record, mode=mode, sync=durable)
    except OSError as exc:
        raise ArchiveError(f"could not keep {receipt.file_name!r} under {root}: {exc}") from exc
    return Stored(relative, root, created=True)


#: Up to this many files kept together are flushed one by one; more with one syncfs(2) per filesystem.
SYNC_EACH_UP_TO = 4


class KeptTogether:
    """Many files kept (`store`), then made durable together (`sync`) before any of them is relied on.

    For ``expected`` files: up to `SYNC_EACH_UP_TO`, each is flushed as it is written (as `store`
    does) and `sync` flushes the folders that name them; more, and nothing is flushed as it is written:
    `sync` makes one ``syncfs(2)`` call per filesystem, on a folder opened BEFORE the first write, so
    a write-back error of any of these files is reported to it (Linux reports such errors to the
    descriptors opened before they happened). Any failure is an ArchiveError: none of the files may be
    taken as kept. Use as a context manager (closes the folders opened).
    """

    def __init__(self, expected: int) -> None:
        self._one_by_one = expected <= SYNC_EACH_UP_TO or _syncfs() is None
        self._folders: dict[int, int] = {}  # st_dev -> an open descriptor on that filesystem
        self.kept: list[Stored] = []

    def store(self, root: Path, receipt: Receipt, data: bytes, *, private: bool = False) -> Stored:
        if not self._one_by_one:
            self._watch(root, private)
        stored = store(root, receipt, data, private=private, durable=self._one_by_one)
        self.kept.append(stored)
        return stored

    def _watch(self, root: Path, private: bool) -> None:
        try:
            root.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
            device = root.stat().st_dev
            if device not in self._folders:
                self._folders[device] = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise ArchiveError(f"could not open the archive folder {root}: {exc}") from exc

    def sync(self) -> None:
        """Every file kept so far is on disk, with the names that point to it; else ArchiveError."""
        try:
            if self._one_by_one:
                for kept in self.kept:
                    if not kept.created:  # a copy found already there: flushed as well
                        for path in (kept.path, receipt_path(kept.path)):
                            _fsync(path)
                for folder in sorted({f for kept in self.kept for f in _folders_of(kept)}):
                    _fsync(folder)
            else:
                syncfs = _syncfs()
                assert syncfs is not None  # else one by one
                for descriptor in self._folders.values():
                    if syncfs(descriptor) != 0:
                        error = ctypes.get_errno()
                        raise OSError(error, os.strerror(error))
        except OSError as exc:
            raise ArchiveError(f"could not make {len(self.kept)} kept file(s) durable: {exc}") from exc

    def close(self) -> None:
        for descriptor in self._folders.values():
            os.close(descriptor)
        self._folders.clear()

    def __enter__(self) -> KeptTogether:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _folders_of(stored: Stored) -> list[Path]:
    """The folders naming a kept file: its own up to the root (some may have been made for it)."""
    return [stored.root / parent for parent in stored.relative.parents]


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


_libc_syncfs: list[Callable[[int], int] | None] = []


def _syncfs() -> Callable[[int], int] | None:
    """libc's ``syncfs(fd)`` (Linux), or None where there is none (then files are flushed one by one)."""
    if not _libc_syncfs:
        try:
            function = ctypes.CDLL(None, use_errno=True).syncfs
            function.argtypes = [ctypes.c_int]
            function.restype = ctypes.c_int
            _libc_syncfs.append(function)
        except (AttributeError, OSError):
            _libc_syncfs.append(None)
    return _libc_syncfs[0]


def store_stream(root: Path, receipt: Receipt, source: Path, *, private: bool = True) -> Stored:
    """Keep the file at ``source`` (never a link: ``O_NOFOLLOW``) under ``root``, copied by streaming.

    For a file too large to load that must still be kept (an oversized file whose name is R16: the
    quarantine). The copy is written under a hidden temporary name and renamed into place.
    """
    relative = relative_path(receipt)
    target = root / relative
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
        if private:
            for folder in (root, *target.relative_to(root).parents):
                (root / folder).chmod(0o700)
        mode = 0o600 if private else 0o644
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        source_fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(source_fd, "rb") as reader:
            out = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
            with os.fdopen(out, "wb") as writer:
                os.fchmod(writer.fileno(), mode)
                shutil.copyfileobj(reader, writer, 1 << 20)
                writer.flush()
                os.fsync(writer.fileno())
        os.replace(temporary, target)
        record = json.dumps(receipt.to_json_dict(), indent=2, sort_keys=True).encode("utf-8")
        write_atomically(receipt_path(target), record, mode=mode)
    except OSError as exc:
        raise ArchiveError(f"could not keep {receipt.file_name!r} under {root}: {exc}") from exc
    return Stored(relative, root, created=True)


def discard(stored: Stored | None) -> None:
    """Remove a file this run wrote (its load failed), so nothing is left behind; never pre-existing ones."""
    if stored is None or not stored.created:
        return
    for path in (stored.path, receipt_path(stored.path)):
        path.unlink(missing_ok=True)


def purge(root: Path, older_than_days: int, now: datetime) -> list[Path]:
    """Delete kept files (and receipts) received more than ``older_than_days`` before ``now``.

    For the quarantine (spec §4: R16 files are deleted after the retention period, default 30 days).
    Returns the files deleted.
    """
    cutoff = now.astimezone(UTC) - timedelta(days=older_than_days)
    deleted: list[Path] = []
    for receipt, path in list(entries(root)):
        if receipt.received_at < cutoff:
            path.unlink(missing_ok=True)
            receipt_path(path).unlink(missing_ok=True)
            deleted.append(path)
    return deleted


def entries(root: Path) -> Iterator[tuple[Receipt, Path]]:
    """Every archived file with its receipt, in order of receipt (then path, for equal times)."""
    found: list[tuple[Receipt, Path]] = []
    if not root.exists():
        return iter(())
    for record_path in root.rglob(f"*{RECEIPT_SUFFIX}"):
        file_path = record_path.with_name(record_path.name[: -len(RECEIPT_SUFFIX)])
        if not file_path.is_file():
            continue
        receipt = Receipt.from_json_dict(json.loads(record_path.read_text(encoding="utf-8")))
        found.append((receipt, file_path))
    found.sort(key=lambda item: (item[0].received_at, str(item[1])))
    return iter(found)
