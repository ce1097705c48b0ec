"""Writing files so that no reader ever sees half of one: write under a hidden temporary name, then rename."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def write_atomically(path: Path, data: bytes, *, mode: int = 0o644, sync: bool = True) -> None:
    """Write ``data`` to ``path`` in one step for readers: a hidden ``.<name>.<pid>.tmp`` beside it
    (the landing watcher skips hidden names), flushed to disk, then renamed over ``path``.

    ``sync=False`` leaves the flush to disk to the caller, who makes many files durable at once
    (`surgehub.archive.make_durable`) before relying on any of them.

    ``mode`` is set on the temporary file before any byte is written, so the file is never more
    readable than asked (the quarantine uses 0600).
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)  # the umask may have narrowed it; never widened
            handle.write(data)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
