"""``parse_guard_ms_per_file``: what the parse guard adds to reading one return (issue 15).

Every return is read in a long-lived child process with a memory and time limit
(`surgehub.returns.guard`); the backfill pays that on each of its files. Measured on a season's worth
of realistic returns (one locality's daily files, CSV, and the same as XLSX): each read through
``read_return`` (guarded: bytes over a pipe, the table pickled back) against ``read_unguarded``
(the same pre-scan and parse in this process), interleaved, three rounds, the median per file kept.
The child's one-off start is measured apart (``parse_guard_start_s``): a process pays it once.
"""

from __future__ import annotations

import io
import json
import random
import statistics
import time
from datetime import date, timedelta

import openpyxl

from surgehub import sample, spec
from surgehub.returns import guard
from surgehub.returns.read import read_return, read_unguarded

DAYS = 150


def _xlsx(rows: list[dict[str, str]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Return"
    sheet.append(list(spec.COLUMN_NAMES))
    for row in rows:
        sheet.append([row[c] for c in spec.COLUMN_NAMES])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def returns() -> list[bytes]:
    rng = random.Random(2026)
    start = date(2026, 11, 1)
    days = [start + timedelta(days=n) for n in range(DAYS)]
    csvs = [sample.to_csv(sample.locality_rows("14L", [d], rng)) for d in days]
    books = [_xlsx(sample.locality_rows("00T", [d], rng)) for d in days[:30]]
    return csvs + books


def main() -> None:
    files = returns()
    limits = {"max_file_bytes": spec.MAX_FILE_BYTES, "max_data_rows": spec.MAX_DATA_ROWS}
    started = time.perf_counter()
    read_return(files[0], **limits)
    start_s = time.perf_counter() - started
    guarded: list[float] = []
    direct: list[float] = []
    for _round in range(3):
        g_total = d_total = 0.0
        for data in files:
            t0 = time.perf_counter()
            read_return(data, **limits)
            t1 = time.perf_counter()
            read_unguarded(data, **limits)
            t2 = time.perf_counter()
            g_total += t1 - t0
            d_total += t2 - t1
        guarded.append(g_total / len(files))
        direct.append(d_total / len(files))
    guard.guard().close()
    g, d = statistics.median(guarded), statistics.median(direct)
    print(
        json.dumps(
            {
                "parse_guard_ms_per_file": round((g - d) * 1000, 3),
                "parse_direct_ms_per_file": round(d * 1000, 3),
                "parse_guarded_ms_per_file": round(g * 1000, 3),
                "parse_guard_start_s": round(start_s, 2),
                "parse_guard_files": len(files),
            }
        )
    )


if __name__ == "__main__":
    main()
