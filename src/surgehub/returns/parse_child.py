"""The parse guard's child process: ``python -m surgehub.returns.parse_child READ_FD WRITE_FD HEADROOM``.

Started by `surgehub.returns.guard` (never imported by it: the guard names this module only to run
it). Imports the reader, reads two small warm-up returns, limits its own address space to what it then
holds plus HEADROOM, and answers requests (`guard`'s framing) until the parent closes the pipe.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import Any

from surgehub.returns.guard import HEADER, LENGTH


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _address_space_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _reply(fd: int, *answer: Any) -> None:
    payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(LENGTH.pack(len(payload)) + payload)
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
        try:
            request = _read_request(read_fd)
        except MemoryError:  # the parent blames the request's first file (a large file comes alone)
            _reply(write_fd, "failed", "memory", 0)
            return
        if request is None:
            return
        datas, max_file_bytes, max_data_rows = request
        while datas:  # answered in order, each as soon as it is read
            data = datas.pop(0)
            try:
                result = read_unguarded(data, max_file_bytes=max_file_bytes, max_data_rows=max_data_rows)
            except MemoryError:
                del data, datas
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


def _read_request(fd: int) -> tuple[list[bytes], int, int] | None:
    """One request, taken in whole before any answer (so parent and child never both wait to write);
    None when the parent has closed the pipe."""
    header = _read_exactly(fd, HEADER.size)
    if header is None:
        return None
    count, max_file_bytes, max_data_rows = HEADER.unpack(header)
    datas: list[bytes] = []
    for _ in range(count):
        length = _read_exactly(fd, LENGTH.size)
        data = None if length is None else _read_exactly(fd, LENGTH.unpack(length)[0])
        if data is None:
            return None
        datas.append(data)
    return datas, max_file_bytes, max_data_rows


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
