"""The last guard around parsing: every return is read in a long-lived child process with limits.

However a file is built, reading it must never take down the process that asked (the API server, an
Airflow worker, the CLI). The bounded pre-scan (`returns/bounds.py`) refuses what would obviously
cost too much; this guard contains what it cannot foresee. The parse (`read.read_unguarded`) runs in
one child process per parent process, started on first use and kept: it imports only the reader
(pandas, pyarrow, openpyxl), uses the system allocator with one Arrow thread and two malloc arenas
(so its address space is close to what it touches), and limits its address space (``RLIMIT_AS``) to
what it had after those imports plus `HEADROOM_BYTES`. A file is sent as its raw bytes over a pipe and
the result (`RawReturn`, at most 500 rows of text) comes back pickled.

A parse that fails inside the child (``MemoryError``, or any error the reader does not expect) is F01;
a child that dies (e.g. ``std::bad_alloc`` aborting it), spends more than `CPU_SECONDS` of CPU on one
file, or takes longer than `TIMEOUT_S` however busy the machine, is killed and the file fails F01 too; the next file starts a fresh child. A child whose memory has grown by more than
`RECYCLE_BYTES` is replaced after answering, so one large parse does not stay resident.

Why these numbers: docs/decisions/0045-parse-guard.md (measured on every valid corpus file).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from surgehub.returns.read import RawReturn

log = logging.getLogger(__name__)

#: Address space the child may add to what it holds after importing the reader.
HEADROOM_BYTES = 256 * 1024 * 1024
#: The CPU time one parse may spend (a 500-row workbook takes well under a second) ...
CPU_SECONDS = 20.0
#: ... and the longest it may take however busy the machine is.
TIMEOUT_S = 180.0
#: A child grown by more than this (resident) is replaced after answering.
RECYCLE_BYTES = 160 * 1024 * 1024
#: How long a child may take to start (imports on a busy machine).
START_TIMEOUT_S = 300.0

_HEADER = struct.Struct("!QQQ")  # data length, max_file_bytes, max_data_rows
_LENGTH = struct.Struct("!Q")
_CHILD_ENV = {
    "ARROW_DEFAULT_MEMORY_POOL": "system",  # no jemalloc/mimalloc arenas reserved up front
    "MALLOC_ARENA_MAX": "2",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


class GuardFailure(Exception):
    """The child could not answer: it died, timed out, or failed; ``reason`` says which, for F01."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GuardUnavailable(RuntimeError):
    """The child could not be started: not the file's fault, so never an answer about the file (the
    caller fails as for any infrastructure error: the ingest leaves the file for a retry, the API 503)."""


class _Child:
    """One child process and its two pipes."""

    def __init__(self, headroom: int) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        env = {**os.environ, **_CHILD_ENV}
        try:
            self.process = self._spawn(to_child_r, from_child_w, headroom, env)
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        try:
            kind, baseline = self.receive(START_TIMEOUT_S)
        except (GuardFailure, OSError) as exc:
            self.stop()
            raise GuardUnavailable(f"the reader process did not start: {exc}") from None
        if kind != "ready":
            self.stop()
            raise GuardUnavailable("the reader process did not start")
        self.baseline_rss: int = baseline

    @staticmethod
    def _spawn(
        to_child_r: int, from_child_w: int, headroom: int, env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        try:
            return subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "surgehub.returns.guard",
                    str(to_child_r),
                    str(from_child_w),
                    str(headroom),
                ],
                pass_fds=(to_child_r, from_child_w),
                env=env,
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        except OSError as exc:
            raise GuardUnavailable(f"the reader process could not be started: {exc}") from None

    def send(self, data: bytes, max_file_bytes: int, max_data_rows: int) -> None:
        view = memoryview(_HEADER.pack(len(data), max_file_bytes, max_data_rows) + data)
        while view:
            written = os.write(self._to_child, view)
            view = view[written:]

    def receive(self, timeout: float, cpu_seconds: float | None = None) -> tuple[Any, ...]:
        """The child's next answer; "timeout" after ``timeout`` seconds of waiting, or once the child has
        spent ``cpu_seconds`` of CPU on it (so a busy machine, which slows a valid parse, is not its fault)."""
        deadline = time.monotonic() + timeout
        budget = None if cpu_seconds is None else self._cpu_seconds() + cpu_seconds
        (length,) = _LENGTH.unpack(self._read_exactly(_LENGTH.size, deadline, budget))
        return pickle.loads(self._read_exactly(length, deadline, budget))

    def _cpu_seconds(self) -> float:
        """The child's CPU time so far (user and system), from /proc."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _read_exactly(self, size: int, deadline: float, budget: float | None = None) -> bytes:
        parts: list[bytes] = []
        while size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (budget is not None and self._cpu_seconds() > budget):
                raise GuardFailure("timeout")
            ready, _, _ = select.select([self._from_child], [], [], min(remaining, 0.25))
            if not ready:
                continue
            chunk = os.read(self._from_child, min(size, 1 << 20))
            if not chunk:
                raise GuardFailure("died")
            parts.append(chunk)
            size -= len(chunk)
        return b"".join(parts)

    def stop(self) -> None:
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class ParseGuard:
    """The child process of this process (one at a time; callers take turns)."""

    def __init__(
        self, *, headroom: int = HEADROOM_BYTES, timeout: float = TIMEOUT_S, cpu_seconds: float = CPU_SECONDS
    ) -> None:
        self.headroom = headroom
        self.timeout = timeout
        self.cpu_seconds = cpu_seconds
        self._child: _Child | None = None
        self._lock = threading.Lock()

    def read(self, data: bytes, max_file_bytes: int, max_data_rows: int) -> RawReturn:
        with self._lock:
            child = self._send(data, max_file_bytes, max_data_rows)
            try:
                answer = child.receive(self.timeout, self.cpu_seconds)
            except (GuardFailure, OSError) as exc:
                reason = exc.reason if isinstance(exc, GuardFailure) else "died"
                self._discard(child)
                raise GuardFailure(reason) from None
            kind, value, rss = answer
            if kind != "ok" or rss - child.baseline_rss > RECYCLE_BYTES:
                self._discard(child)
            if kind != "ok":
                raise GuardFailure(str(value))
            return value

    def _send(self, data: bytes, max_file_bytes: int, max_data_rows: int) -> _Child:
        """Hand the request to a live child; a child found dead (killed while idle) is replaced once."""
        for attempt in (1, 2):
            child = self._child if self._child and self._child.process.poll() is None else self._start()
            try:
                child.send(data, max_file_bytes, max_data_rows)
            except OSError:
                self._discard(child)
                if attempt == 2:  # a fresh child died taking this very file in
                    raise GuardFailure("died") from None
                continue
            return child
        raise GuardFailure("died")

    def _start(self) -> _Child:
        if self._child is not None:
            self._discard(self._child)
        self._child = _Child(self.headroom)
        return self._child

    def _discard(self, child: _Child) -> None:
        child.stop()
        self._child = None

    def close(self) -> None:
        with self._lock:
            if self._child is not None:
                self._discard(self._child)


_guards: dict[int, ParseGuard] = {}
_guards_lock = threading.Lock()


def guard() -> ParseGuard:
    """This process's guard (a forked process gets its own: pipes are not shared across a fork)."""
    pid = os.getpid()
    with _guards_lock:
        found = _guards.get(pid)
        if found is None:
            found = _guards[pid] = ParseGuard()
        return found


def prestart() -> None:
    """Start this process's child in the background, so its imports overlap the caller's own."""

    def start() -> None:
        found = guard()
        with found._lock:
            if found._child is None:
                try:
                    found._start()
                except GuardUnavailable:
                    log.warning("the reader process could not be started ahead of use", exc_info=True)

    threading.Thread(target=start, name="surgehub-parse-guard-start", daemon=True).start()


def guarded_read(data: bytes, *, max_file_bytes: int, max_data_rows: int) -> RawReturn:
    """`read.read_unguarded` in the child; F01 when the child fails, dies or times out."""

    return read_with(guard(), data, max_file_bytes=max_file_bytes, max_data_rows=max_data_rows)


def read_with(found: ParseGuard, data: bytes, *, max_file_bytes: int, max_data_rows: int) -> RawReturn:
    """``data`` read by ``found``'s child; F01 when the child fails, dies or times out."""
    from surgehub.returns.read import RawReturn
    from surgehub.returns.rules.file import HOW_TO_SAVE, file_error

    try:
        return found.read(data, max_file_bytes, max_data_rows)
    except GuardFailure as failure:
        log.warning("a return could not be read within the parse limits (%s)", failure.reason)
        if failure.reason == "timeout":
            message = (
                f"this file takes too long to read, as no return does (it may be damaged); {HOW_TO_SAVE}"
            )
        elif failure.reason in ("memory", "died"):
            message = (
                f"this file needs far more memory to read than any return (it may be damaged); {HOW_TO_SAVE}"
            )
        else:
            message = f"this file could not be read (it may be damaged); {HOW_TO_SAVE}"
        return RawReturn(format=None, rows=0, errors=[file_error("F01", message)])


# -- the child ----------------------------------------------------------------------------------


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _address_space_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _reply(fd: int, *answer: Any) -> None:
    payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_LENGTH.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, size: int) -> bytes | None:
    parts: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _warm_up(read: Any) -> None:
    """Read one small CSV and one small workbook, so the lazy imports of a first parse are paid at start."""
    import io

    import openpyxl

    from surgehub import spec

    header = ",".join(spec.COLUMN_NAMES).encode()
    read(
        header + b"\n" + b"x," * (len(spec.COLUMN_NAMES) - 1) + b"x\n",
        max_file_bytes=1 << 20,
        max_data_rows=500,
    )
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(spec.COLUMN_NAMES))
    sheet.append(["x"] * len(spec.COLUMN_NAMES))
    buffer = io.BytesIO()
    book.save(buffer)
    read(buffer.getvalue(), max_file_bytes=1 << 20, max_data_rows=500)


def serve(read_fd: int, write_fd: int, headroom: int) -> None:
    """The child's loop: read a request, parse it, answer; exit when the parent closes the pipe."""
    import resource

    import openpyxl  # noqa: F401 - loaded before the limit is set, as every parse needs them
    import pandas  # noqa: F401
    import pyarrow
    import pyarrow.csv

    from surgehub.returns.read import read_unguarded

    pyarrow.set_cpu_count(1)
    pyarrow.set_io_thread_count(1)
    _warm_up(read_unguarded)
    limit = _address_space_bytes() + headroom
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(
        resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard)
    )
    _reply(write_fd, "ready", _resident_bytes())
    while True:
        header = _read_exactly(read_fd, _HEADER.size)
        if header is None:
            return
        size, max_file_bytes, max_data_rows = _HEADER.unpack(header)
        data = _read_exactly(read_fd, size)
        if data is None:
            return
        try:
            result = read_unguarded(data, max_file_bytes=max_file_bytes, max_data_rows=max_data_rows)
        except MemoryError:
            del data
            _reply(write_fd, "failed", "memory", _resident_bytes())
            return  # a fresh child for the next file
        except Exception as exc:  # anything the reader did not expect is F01, never a crash
            _reply(write_fd, "failed", type(exc).__name__, _resident_bytes())
            continue
        try:
            _reply(write_fd, "ok", result, _resident_bytes())
        except MemoryError:
            _reply(write_fd, "failed", "memory", 0)
            return


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
