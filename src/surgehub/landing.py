"""The landing zone: one folder per locality (by sub-ICB code), and where processed files go.

A file is ready when it is not hidden, not a partial upload (``.part``/``.tmp``), and its size and
modification time have stayed the same across two looks (``stable_for`` seconds apart), so a file
still being written is never read half-way. Writers should write then rename; the check covers
those who do not.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from surgehub import reference

if TYPE_CHECKING:
    from pathlib import Path

    from surgehub.config import Settings

PARTIAL_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")
DONE_FOLDERS = ("processed", "rejected")


@dataclass(frozen=True)
class LandedFile:
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


def ensure_landing(landing_dir: Path) -> list[Path]:
    """Create landing/<code>/ with processed/ and rejected/ for every locality; return the folders."""
    folders = []
    for loc in reference.localities():
        folder = landing_dir / loc.sub_icb_code
        for sub in DONE_FOLDERS:
            (folder / sub).mkdir(parents=True, exist_ok=True)
        folders.append(folder)
    return folders


def is_candidate(path: Path) -> bool:
    name = path.name
    return path.is_file() and not name.startswith(".") and not name.lower().endswith(PARTIAL_SUFFIXES)


def scan(landing_dir: Path) -> list[LandedFile]:
    """Every candidate file directly inside a locality folder, oldest first."""
    found: list[LandedFile] = []
    for loc in reference.localities():
        folder = landing_dir / loc.sub_icb_code
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if not is_candidate(path):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:  # moved away between listing and stat
                continue
            found.append(LandedFile(path, loc.sub_icb_code, stat.st_size, stat.st_mtime_ns))
    return sorted(found, key=lambda f: (f.mtime_ns, str(f.path)))


def move_done(path: Path, accepted: bool) -> Path:
    """Move a handled file to processed/ or rejected/ beside it; never overwrite, never delete."""
    target_dir = path.parent / ("processed" if accepted else "rejected")
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    counter = 1
    while target.exists():
        target = target_dir / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    shutil.move(str(path), target)
    return target


def landing_dir(settings: Settings) -> Path:
    return settings.landing_dir
