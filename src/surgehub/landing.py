"""The landing zone: one folder per locality (by sub-ICB code), what is taken from it, and how (spec §4).

A file is taken only when it is a **regular file directly inside** ``landing/<code>/`` (never a link,
a folder, a FIFO, a socket or a device: those are *refused*, and the locality is told), whose name
does not mark an upload in progress (a leading ``.``, or ``.part``, ``.partial``, ``.tmp``,
``.filepart``, ``.crdownload``: simply waited for), and only once it is **complete**: renamed into
the folder (the landing watcher takes it at once), or unchanged for the quiet period
(``limits.landing_quiet_seconds``, 10 s by default). Either way `read_landed` reads it only through a
descriptor opened with ``O_NOFOLLOW`` inside the locality folder's own descriptor, checks that it is a
regular file there, and that its size and modification time are what they were when it was judged
complete, before and after the read. A file over the size limit is never loaded: it is hashed by
streaming (`Taken.data` is None).

The quiet period is measured in real time (the file system's), not on the injected business clock.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from surgehub import reference
from surgehub.identifiers import mask

if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import BinaryIO

    from surgehub.config import Settings

log = logging.getLogger(__name__)

#: Suffixes that mark an upload still in progress (spec §4; ``.crdownload`` is a browser's).
IN_PROGRESS_SUFFIXES = (".part", ".partial", ".tmp", ".filepart", ".crdownload")
DONE_FOLDERS = ("processed", "rejected")
_CHUNK = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Refusal(StrEnum):
    """Why something in a landing folder is not taken as a return, and the locality is told."""

    LINK = "link"  # a symbolic link (whatever it points to)
    NOT_REGULAR = "not_regular"  # a folder, FIFO, socket or device
    TOO_LARGE = "too_large"  # over the size limit: refused unread (F01), hashed by streaming


class Skip(StrEnum):
    """Why a file is left where it is for now (logged, nobody told): it is looked at again later."""

    CHANGED = "changed"  # its size or modification time moved since it was judged complete
    NOT_QUIET = "not_quiet"  # changed within the quiet period: may still be being written
    GONE = "gone"  # no longer there (another run took it)
    OUTSIDE = "outside"  # not directly inside a locality folder of the landing zone


class NotTaken(Exception):
    """A landing entry that `read_landed` did not take: refused (tell the locality) or skipped (wait)."""

    def __init__(self, reason: Refusal | Skip, path: Path) -> None:
        super().__init__(f"{shown(path)}: {reason.value}")
        self.reason = reason
        self.path = path

    @property
    def refused(self) -> bool:
        return isinstance(self.reason, Refusal)


def plain_name(name: str) -> str:
    """A submitter's file name as the system writes it anywhere: masked (R16, never a patient number),
    printable characters only (no line breaks for a log or a mail header, no bidi overrides), 255 at most."""
    return "".join(ch for ch in mask(name) if ch.isprintable())[:255] or "return"


def shown(path: Path | str) -> str:
    """A landing path as written to logs and results: its name made plain (`plain_name`)."""
    path = Path(path)
    return str(path.parent / plain_name(path.name))


@dataclass(frozen=True)
class LandedFile:
    """A regular file in a locality folder, as last looked at (``lstat``: no link is followed)."""

    path: Path
    locality: str  # the sub-ICB code of the folder it landed in: identity comes from the channel
    size: int
    mtime_ns: int

    @property
    def key(self) -> str:
        """Identifies this version of the file: a rewritten file with the same name is a new arrival."""
        return f"{self.path}|{self.size}|{self.mtime_ns}"

    @property
    def state_key(self) -> str:
        """The key under which the watcher records, in the landing asset's state store, when it first saw this file."""
        return "seen:" + hashlib.sha256(self.key.encode()).hexdigest()[:32]

    def quiet_for(self, now: float) -> float:
        """Seconds since its last change, by its own modification time (real time)."""
        return now - self.mtime_ns / 1e9


@dataclass(frozen=True)
class RefusedEntry:
    """Something in a locality folder that is not a regular file: refused, and the locality told once."""

    path: Path
    locality: str
    reason: Refusal
    inode: int
    mtime_ns: int

    @property
    def key(self) -> str:
        """The notice's send-once key: the same entry is reported once, a new one again."""
        digest = hashlib.sha256(f"{self.path}|{self.inode}|{self.mtime_ns}".encode()).hexdigest()[:24]
        return f"{self.locality}:{digest}"


@dataclass(frozen=True)
class Survey:
    """What the locality folders hold: regular files (not named as in progress) and refused entries."""

    files: list[LandedFile]
    refused: list[RefusedEntry]
    #: Names (masked, printable) of what lies in the landing root itself: never taken, only reported.
    unfiled: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Taken:
    """A landing file as read: its bytes (None when over the size limit: never loaded), size and hash."""

    data: bytes | None
    size: int
    sha256: str
    mtime_ns: int


def landing_codes(codes: Collection[str] | None = None) -> list[str]:
    """The locality codes whose folders make the landing zone: the shipped localities (in
    localities.csv's order), then any others in ``codes`` (sorted). ``codes`` is what the warehouse's
    register holds (``warehouse.register.locality_codes``): a locality recorded there as data is a
    channel too, with no release."""
    shipped = [loc.sub_icb_code for loc in reference.localities()]
    extra = sorted({reference.normalise_code(c) for c in codes or ()} - set(shipped))
    return shipped + extra


def ensure_landing(landing_dir: Path, codes: Collection[str] | None = None) -> list[Path]:
    """Create landing/<code>/ with processed/ and rejected/ for every locality (``landing_codes``);
    return the folders."""
    folders = []
    for code in landing_codes(codes):
        folder = landing_dir / code
        for sub in DONE_FOLDERS:
            (folder / sub).mkdir(parents=True, exist_ok=True)
        folders.append(folder)
    return folders


def in_progress(name: str) -> bool:
    """A name that marks an upload still in progress: waited for, never taken (spec §4)."""
    return name.startswith(".") or name.lower().endswith(IN_PROGRESS_SUFFIXES)


def survey(landing_dir: Path, codes: Collection[str] | None = None) -> Survey:
    """Every entry directly inside a locality folder: regular files, oldest first, and refused entries.

    The locality folders are those of ``landing_codes(codes)``. Nothing is opened and no link is
    followed (``lstat``). A locality folder that is itself a link, or not a folder, is skipped with
    an error in the log (an operator must fix it).
    """
    files: list[LandedFile] = []
    refused: list[RefusedEntry] = []
    for code in landing_codes(codes):
        folder = landing_dir / code
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(mode):
            log.error("landing folder %s is not a folder (a link?): nothing in it is taken", folder)
            continue
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            log.error("cannot list landing folder %s: %s", folder, exc)
            continue
        for entry in entries:
            found = _entry(entry, folder, code)
            if isinstance(found, LandedFile):
                files.append(found)
            elif found is not None:
                refused.append(found)
    files.sort(key=lambda f: (f.mtime_ns, str(f.path)))
    return Survey(files=files, refused=refused, unfiled=unfiled(landing_dir, codes))


#: How many names of unfiled entries are reported (the rest are counted).
UNFILED_NAMED = 10


def unfiled(landing_dir: Path, codes: Collection[str] | None = None) -> list[str]:
    """What lies directly in the landing root, outside every locality folder: never taken (the folder
    says whose a return is), so it is reported instead, by ``surgehub health`` and the ingest log.
    Hidden and in-progress names are skipped; names are masked and printable; sorted."""
    folders = set(landing_codes(codes))
    try:
        entries = list(os.scandir(landing_dir))
    except OSError:
        return []
    return sorted(plain_name(e.name) for e in entries if e.name not in folders and not in_progress(e.name))


def unfiled_message(names: list[str], landing_dir: Path) -> str:
    """One line about unfiled entries: how many, the first few names, and what to do."""
    shown_names = ", ".join(names[:UNFILED_NAMED]) + (
        f" and {len(names) - UNFILED_NAMED} more" if len(names) > UNFILED_NAMED else ""
    )
    return (
        f"{len(names)} entr{'y' if len(names) == 1 else 'ies'} in the landing root {landing_dir}, never taken: "
        f"{shown_names}; move each return into its locality's folder, {landing_dir}/<sub_icb_code>/"
    )


def _entry(entry: os.DirEntry[str], folder: Path, locality: str) -> LandedFile | RefusedEntry | None:
    name = entry.name
    if in_progress(name):
        return None
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:  # gone between listing and looking
        return None
    path = folder / name
    if stat.S_ISREG(st.st_mode):
        return LandedFile(path, locality, st.st_size, st.st_mtime_ns)
    if stat.S_ISDIR(st.st_mode) and name in DONE_FOLDERS:
        return None
    reason = Refusal.LINK if stat.S_ISLNK(st.st_mode) else Refusal.NOT_REGULAR
    return RefusedEntry(path, locality, reason, st.st_ino, st.st_mtime_ns)


class Watch:
    """The landing watcher's memory of what it saw: which files are complete (spec §4).

    A file is complete when it was renamed into its folder (`arrived`, from a file system event) and
    still has the size and modification time it had at the first look after that; or when its size
    and modification time have stayed the same, as this watcher saw them, for ``quiet_seconds`` (the
    watcher's own monotonic time: no clock skew between a share and this host can shorten it).
    """

    def __init__(self, quiet_seconds: float) -> None:
        self.quiet_seconds = quiet_seconds
        self._renamed: dict[str, tuple[int, int] | None] = {}
        self._since: dict[str, tuple[int, int, float]] = {}

    def arrived(self, path: str) -> None:
        """A file was renamed into its folder (its state is taken at the next look)."""
        self._renamed[path] = None

    def renamed(self, path: str) -> bool:
        return path in self._renamed

    def complete(self, landed: LandedFile, now: float) -> bool:
        """Look at one file (``now``: monotonic seconds); True when it is complete."""
        path, state = str(landed.path), (landed.size, landed.mtime_ns)
        if path in self._renamed and self._renamed[path] is None:
            self._renamed[path] = state
        since = self._since.get(path)
        if since is None or since[:2] != state:
            since = self._since[path] = (*state, now)
        return self._renamed.get(path) == state or now - since[2] >= self.quiet_seconds

    def forget_all_but(self, present: set[str]) -> None:
        """Drop what is known of files no longer there (a rename not yet looked at is kept)."""
        for path in [p for p in self._since if p not in present]:
            del self._since[path]
        for path in [p for p, state in self._renamed.items() if state is not None and p not in present]:
            del self._renamed[path]


def _locality_folder(path: Path, landing_dir: Path, codes: Collection[str] | None = None) -> str:
    """The locality code of ``path``'s folder when it is directly inside a locality folder
    (``landing_codes(codes)``); else OUTSIDE."""
    root = Path(os.path.realpath(landing_dir))
    parent = Path(os.path.realpath(path.parent))
    code = parent.name
    if parent.parent != root or code not in landing_codes(codes) or "/" in path.name:
        raise NotTaken(Skip.OUTSIDE, path)
    return code


def read_landed(
    path: Path,
    *,
    landing_dir: Path,
    max_bytes: int,
    expected: tuple[int, int] | None = None,
    codes: Collection[str] | None = None,
) -> Taken:
    """Read a landing file safely: a regular file directly inside its locality folder, unchanged.

    ``expected`` is the (size, mtime_ns) it had when judged complete; without it the file's current
    ones are used. Raises `NotTaken`: refused (a link, not a regular file) or skipped (changed, gone,
    outside the landing zone). A file over ``max_bytes`` is hashed by streaming and not kept in memory.
    """
    code = _locality_folder(path, landing_dir, codes)
    folder = Path(os.path.realpath(landing_dir)) / code
    try:
        dir_fd = os.open(folder, _DIR_FLAGS)
    except OSError:
        raise NotTaken(Skip.OUTSIDE, path) from None
    try:
        return _read_in(dir_fd, path, max_bytes, expected)
    finally:
        os.close(dir_fd)


def _read_in(dir_fd: int, path: Path, max_bytes: int, expected: tuple[int, int] | None) -> Taken:
    name = path.name
    try:
        before = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise NotTaken(Skip.GONE, path) from None
    if stat.S_ISLNK(before.st_mode):
        raise NotTaken(Refusal.LINK, path)
    if not stat.S_ISREG(before.st_mode):  # never opened: a FIFO could block, a device could act
        raise NotTaken(Refusal.NOT_REGULAR, path)
    try:
        fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        raise NotTaken(Skip.GONE, path) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a link since the look above
            raise NotTaken(Refusal.LINK, path) from None
        raise
    with os.fdopen(fd, "rb", buffering=0) as handle:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (
            before.st_dev,
            before.st_ino,
        ):
            raise NotTaken(Skip.CHANGED, path)
        want = expected or (before.st_size, before.st_mtime_ns)
        if (opened.st_size, opened.st_mtime_ns) != want:
            raise NotTaken(Skip.CHANGED, path)
        size = opened.st_size
        digest = hashlib.sha256()
        if size > max_bytes:
            data = None
            read = _stream(handle, digest, keep=None)
        else:
            parts: list[bytes] = []
            read = _stream(handle, digest, keep=parts, limit=max_bytes + 1)
            data = b"".join(parts)
        after = os.fstat(fd)
    if read != size or (after.st_size, after.st_mtime_ns) != want:
        raise NotTaken(Skip.CHANGED, path)  # written to while being read: looked at again later
    return Taken(data=data, size=size, sha256=digest.hexdigest(), mtime_ns=opened.st_mtime_ns)


def _stream(
    handle: BinaryIO, digest: hashlib._Hash, keep: list[bytes] | None, limit: int | None = None
) -> int:
    """Read to the end (or past ``limit``), hashing; keep the chunks when ``keep`` is a list."""
    read = 0
    while True:
        chunk = handle.read(_CHUNK)
        if not chunk:
            return read
        read += len(chunk)
        digest.update(chunk)
        if keep is not None:
            keep.append(chunk)
        if limit is not None and read >= limit:
            return read


def move_done(path: Path, accepted: bool) -> Path:
    """Move a handled entry to processed/ or rejected/ beside it; never overwrite, never follow a link.

    ``rename`` moves the entry itself (a link stays a link, pointing where it did). The name is kept,
    masked: a patient number in a name never reaches processed/ or rejected/.
    """
    target_dir = path.parent / ("processed" if accepted else "rejected")
    target_dir.mkdir(exist_ok=True)
    name = Path(mask(path.name))
    target = target_dir / name
    counter = 1
    while os.path.lexists(target):
        target = target_dir / f"{name.stem}.{counter}{name.suffix}"
        counter += 1
    os.rename(path, target)  # the same file system: processed/ and rejected/ are inside the folder
    return target


def remove_original(path: Path) -> None:
    """Delete a landing file whose copy is now in the quarantine (R16: it goes there only, spec §4)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        log.info("%s had already left the landing zone", shown(path))


def landing_dir(settings: Settings) -> Path:
    return settings.landing_dir
