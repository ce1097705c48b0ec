"""The proposed loader, as a measured sketch (not part of `make bench`): COPY from the accepted frame in
chunks of CSV text written by Arrow, with no Python object per row.

Run by hand: ``python -m bench.load_prototype``. On 25 November 2026 it loaded the million accepted
rows into an empty ``hub_day_version`` in 19.7 s (the current loader: 26 s) without raising the
process's peak RSS at all (the current loader adds ~1 GB). Version numbering is left out: on an empty
table every row is version 1; the real loader would number versions with a vectorised merge against
the newest-versions query before writing each chunk.
"""

from __future__ import annotations

import gc
import json
import re
import time
from pathlib import Path
from typing import Any

from bench.national import national_register, text_frame
from bench.scale import RECEIVED_AT, benchmark_settings, copy_text, throwaway_database

CHUNK_ROWS = 50_000


def rss_mb() -> dict[str, int]:
    status = Path("/proc/self/status").read_text()
    return {k: int(re.search(k + r":\s+(\d+)", status).group(1)) // 1024 for k in ("VmRSS", "VmHWM")}  # type: ignore[union-attr]


def copy_in_chunks(engine: Any, accepted: Any) -> None:
    from surgehub.warehouse.load import VERSION_COLUMNS

    with engine.begin() as connection:
        connection.exec_driver_sql(
            "insert into submission (submission_id, sub_icb_code, channel, received_at, sha256, file_name,"
            " size_bytes, outcome, quarantined, spec_version, data_rows, errors, warnings, arrival_seq,"
            " processed_at) values (1, 'N01', 'cli', now(), 'x', 'x.csv', 0, 'accepted', false, '2026.1', 0,"
            " '[]', '[]', 1, now())"
        )
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(
            f"copy hub_day_version ({', '.join(VERSION_COLUMNS)}) from stdin (format csv)"
        ) as copy:
            for start in range(0, len(accepted), CHUNK_ROWS):
                copy.write(copy_text(accepted.iloc[start : start + CHUNK_ROWS]))


def main() -> dict[str, Any]:
    from surgehub.returns.validate import validate_table
    from surgehub.warehouse.db import get_engine

    settings = benchmark_settings()
    with national_register(icbs=1, hubs_per_icb=6_720) as (_, hubs):
        frame = text_frame(hubs, 1_000_000)
        accepted = validate_table(frame, locality="N01", received_at=RECEIVED_AT, settings=settings).frame
        gc.collect()
        before = rss_mb()
        with throwaway_database() as url:
            if url is None:
                return {"error": "no PostgreSQL"}
            engine = get_engine(url)
            start = time.perf_counter()
            copy_in_chunks(engine, accepted)
            seconds = time.perf_counter() - start
            engine.dispose()
        return {"seconds": round(seconds, 2), "rss_before_mb": before, "rss_after_mb": rss_mb()}


if __name__ == "__main__":
    print(json.dumps(main()))
