"""The last guard around parsing: every return is read in a long-lived child process with limits.

However a file is built, reading it must never take down the process that asked (the API server, an
Airflow worker, the CLI). The bounded pre-scan (`returns/bounds.py`) refuses what would obviously
cost too much; this guard contains what it cannot foresee. The parse (`read.read_unguarded`) runs in
one child process per parent process, started on first use and kept: it imports only the reader
(pandas, pyarrow, openpyxl), uses the system allocator with one Arrow thread and two malloc arenas
(so its address space is close to what it touches), and limits its address space (``RLIMIT_AS``) to
what it had after those imports plus `HEADROOM_BYTES`. Files are sent as their raw bytes over a pipe,
many in one request (`read_many`: up to `REQUEST_BYTES` a request, so a backfill chunk costs one round
trip, not one per file); the child takes the whole request in, then answers file by file, each result
(`RawReturn`, at most 500 rows of text) pickled as soon as it is read. Every file keeps its own limits:
its own time and CPU budget, counted from the previous answer, and its own F01.

A parse that fails inside the child (``MemoryError``, or any error the reader does not expect) is F01;
a child that dies (e.g. ``std::bad_alloc`` aborting it), spends more than `CPU_SECONDS` of CPU on one
file, or takes longer than `TIMEOUT_S` however busy the machine, is killed and the file fails F01 too; the next file starts a fresh child. A child whose memory has grown by more than
`RECYCLE_BYTES` is replaced after answering, so one large parse does not stay resident. In a request
of many files, the files after one that failed (or after a recycle) are sent again to a fresh child:
a bad file fails only itself.

Why these numbers: docs/decisions/0049-parse-guard.md (measured on every valid corpus file).
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
from typing import Any

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

#: The most bytes of files sent in one request (the child holds a whole request while answering it, out
#: of its headroom); a larger file goes alone, so it is parsed with the same headroom as ever.
REQUEST_BYTES = 1024 * 1024

HEADER = struct.Struct("!QQQ")  # number of files, max_file_bytes, max_data_rows; then each file:
LENGTH = struct.Struct("!Q")  # its length, then its bytes (answers: the pickle's length, then it)
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
                    "surgehub.returns.parse_child",
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

    def send(self, datas: list[bytes], max_file_bytes: int, max_data_rows: int) -> None:
        """One request: every file of ``datas`` (the child answers each in turn)."""
        parts = [HEADER.pack(len(datas), max_file_bytes, max_data_rows)]
        for data in datas:
            parts += [LENGTH.pack(len(data)), data]
        view = memoryview(b"".join(parts))
        while view:
            written = os.write(self._to_child, view)
            view = view[written:]

    def receive(self, timeout: float, cpu_seconds: float | None = None) -> tuple[Any, ...]:
        """The child's next answer; "timeout" after ``timeout`` seconds of waiting, or once the child has
        spent ``cpu_seconds`` of CPU on it (so a busy machine, which slows a valid parse, is not its fault)."""
        deadline = time.monotonic() + timeout
        budget = None if cpu_seconds is None else self._cpu_seconds() + cpu_seconds
        (length,) = LENGTH.unpack(self._read_exactly(LENGTH.size, deadline, budget))
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

    def read(self, data: bytes, max_file_bytes: int, max_data_rows: int) -> Any:
        """The child's answer (a `read.RawReturn`); raises GuardFailure (the file's doing) or
        GuardUnavailable (the child cannot start: not the file's doing)."""
        [answer] = self.read_many([data], max_file_bytes, max_data_rows)
        if isinstance(answer, GuardFailure):
            raise answer
        return answer

    def read_many(self, datas: list[bytes], max_file_bytes: int, max_data_rows: int) -> list[Any]:
        """The child's answer for each file, in order: a `read.RawReturn`, or a GuardFailure for a file
        that failed (it alone: the files after it are read by a fresh child). Raises GuardUnavailable
        (the child cannot start: not the files' doing)."""
        answers: list[Any] = []
        with self._lock:
            while len(answers) < len(datas):
                request = _request(datas, len(answers))
                try:
                    child = self._send(request, max_file_bytes, max_data_rows)
                except GuardFailure as failure:  # a fresh child died taking the request in: its first file
                    answers.append(failure)
                    continue
                for _ in request:
                    try:
                        kind, value, rss = child.receive(self.timeout, self.cpu_seconds)
                    except (GuardFailure, OSError) as exc:
                        self._discard(child)
                        answers.append(GuardFailure(exc.reason if isinstance(exc, GuardFailure) else "died"))
                        break
                    answers.append(value if kind == "ok" else GuardFailure(str(value)))
                    if kind != "ok" or rss - child.baseline_rss > RECYCLE_BYTES:
                        self._discard(child)  # the rest of the request goes to a fresh child
                        break
        return answers

    def _send(self, datas: list[bytes], max_file_bytes: int, max_data_rows: int) -> _Child:
        """Hand the request to a live child; a child found dead (killed while idle) is replaced once."""
        for attempt in (1, 2):
            child = self._child if self._child and self._child.process.poll() is None else self._start()
            try:
                child.send(datas, max_file_bytes, max_data_rows)
            except OSError:
                self._discard(child)
                if attempt == 2:  # a fresh child died taking this very request in
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


def _request(datas: list[bytes], first: int) -> list[bytes]:
    """The files from ``first`` on that fit one request (`REQUEST_BYTES`; at least one file)."""
    request, size = [datas[first]], len(datas[first])
    for data in datas[first + 1 :]:
        size += len(data)
        if size > REQUEST_BYTES:
            break
        request.append(data)
    return request


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
