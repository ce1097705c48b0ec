"""The million-row figures: ``validate_1m_ratio``, ``load_1m_pg_ratio`` and ``peak_rss_mb``.

Run in its own process (``python -m bench.scale``) so its peak RSS is its own. Order of work:

1. Build 1,000,000 valid rows as parsed text columns (the frame read.py hands the validator) from the
   synthetic national register (bench/national.py), and warm both engines (GX import, context).
2. Validate them with the project's engine (``validate_table``; F06 does not apply there, the R07
   window is lifted through settings) and load the accepted frame as versions into a throwaway
   PostgreSQL database exactly as ingest does (``rows_from_frame`` + ``insert_submission`` +
   ``load_versions`` in one transaction). Peak RSS is read here, before any baseline runs.
3. Baselines, interleaved with repeats of the measured work, the best of each kept:
   the plain pandas check (bench/baseline.py) on the same frame, and a raw ``COPY … (FORMAT csv)`` of
   the same rows (CSV text prepared before the clock starts, every row version 1) into the same,
   empty ``hub_day_version`` table with its indexes and keys (and, for the record, into an
   unindexed, constraint-free copy of that table). The loads are measured once each (~30 s apiece).
4. A second view of validation: the same rows as 42 ICB files (one per ICB, the national shape). The
   engine takes them as ingest and backfill take many files, one batch (``validate_tables``: one joint
   pass, each file's answer its own); the baseline checks each file (best of two each). The same files
   validated one at a time are recorded beside (``validate_1m_by_icb_one_at_a_time_s``): the per-call
   cost the batch avoids.

Prints one JSON object (figure → number) on its last line.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import baseline
from bench.national import build_register, hubs_of, seed_national, text_frame
from surgehub.clock import LONDON
from surgehub.config import Settings, load_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from surgehub.register import Register

ROWS = 1_000_000
RECEIVED_AT = datetime(2027, 3, 31, 12, 0, tzinfo=LONDON)  # the season's last day: every row in the season
PG_HOST, PG_PORT = "127.0.0.1", 5432


def benchmark_settings() -> Settings:
    """Settings with the R07 revision window lifted (the benchmark only); the season still applies."""
    settings = load_settings()
    # F06 (read.py) lifted too; validate_table never applies it
    return settings.overridden(
        {"timeliness": {"revision_window_days": 10_000}, "limits": {"max_data_rows": 10 * ROWS}}
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def log_memory(stage: str) -> None:
    """VmRSS and VmHWM (peak so far) after a stage, on stderr (bench/logs/scale.log): the breakdown."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return
    kib = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith("Vm")}
    print(
        f"memory after {stage}: VmRSS {kib.get('VmRSS', 0) // 1024} MB, VmHWM {kib.get('VmHWM', 0) // 1024} MB",
        file=sys.stderr,
        flush=True,
    )


def release_heap() -> None:
    """Give the C heap's free pages back to the system (glibc ``malloc_trim``; elsewhere nothing)."""
    import ctypes
    from contextlib import suppress

    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = work()
    return time.perf_counter() - start, value


# -- PostgreSQL ------------------------------------------------------------------------------------


def _pg_user() -> str | None:
    import psycopg

    for user in ("postgres", "root"):
        try:
            with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", connect_timeout=3):
                return user
        except psycopg.Error:
            continue
    return None


@contextmanager
def throwaway_database(register: Register) -> Iterator[str | None]:
    """A fresh, migrated PostgreSQL database with ``register`` loaded as data, dropped afterwards."""
    import psycopg

    from surgehub.warehouse import db

    user = _pg_user()
    if user is None:
        yield None
        return
    name = f"surgehub_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    try:
        engine = db.upgrade(url)
        seed_national(engine, register)  # the national register, as data
        yield url
    finally:
        db.dispose_engines()
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def _truncate(engine: Any) -> None:
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(text("truncate hub_day_version, submission restart identity cascade"))


def load_as_versions(engine: Any, frame: Any) -> int:
    """What ingest does with an accepted frame: the submission row and its rows as versions, one transaction."""
    from surgehub.warehouse import load, submissions
    from surgehub.warehouse.db import writer

    rows = load.rows_from_frame(frame)
    log_memory("rows_from_frame")
    with writer(engine).begin() as connection:
        submission_id = submissions.insert_submission(
            connection,
            sub_icb_code="N01",
            channel="cli",
            received_at=RECEIVED_AT,
            sha256=uuid.uuid4().hex * 2,
            file_name="national-season.csv",
            size_bytes=0,
            outcome="accepted",
            quarantined=False,
            spec_version="2026.1",
            data_rows=len(frame),
            errors=[],
            warnings=[],
            archive_path=None,
            processed_at=RECEIVED_AT,
        )
        return load.load_versions(
            connection,
            submission_id=submission_id,
            received_at=RECEIVED_AT,
            arrival_seq=submission_id,
            rows=rows,
        )


def copy_text(frame: Any) -> bytes:
    """The rows as the CSV text a raw COPY reads: prepared before the clock starts (it is the input)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from surgehub.warehouse.load import VERSION_COLUMNS

    table = frame.assign(
        submission_id=1,
        version=1,
        is_current=True,
        received_at=RECEIVED_AT.isoformat(),
        arrival_seq=1,
        warnings=[json.dumps(w) for w in frame["warnings"]],
        activity_date=frame["activity_date"].dt.date.astype(str),
    )[list(VERSION_COLUMNS)]
    out = pa.BufferOutputStream()
    pacsv.write_csv(
        pa.Table.from_pandas(table, preserve_index=False), out, pacsv.WriteOptions(include_header=False)
    )
    return out.getvalue().to_pybytes()


def raw_copy(engine: Any, data: bytes, table: str = "hub_day_version") -> None:
    """The baseline: one ``COPY … FROM STDIN (FORMAT csv)`` of the rows into the same, empty hub_day_version.

    The same table (its indexes and keys; no foreign keys since migration 0007), all rows version 1 of submission 1; with
    ``table="bare_version"``, an unindexed, constraint-free copy of it (``create table … as table … with no data``).
    """
    from surgehub.warehouse.load import VERSION_COLUMNS

    with engine.begin() as connection:
        connection.exec_driver_sql(
            "insert into submission (submission_id, sub_icb_code, channel, received_at, sha256, file_name,"
            " size_bytes, outcome, quarantined, spec_version, data_rows, errors, warnings, arrival_seq,"
            " processed_at) values (1, 'N01', 'cli', %(t)s, 'raw', 'raw.csv', 0, 'accepted', false, '2026.1',"
            " 0, '[]', '[]', 1, %(t)s)",
            {"t": RECEIVED_AT},
        )
        if table != "hub_day_version":
            connection.exec_driver_sql(
                f"create table if not exists {table} as table hub_day_version with no data"
            )
        cursor = connection.connection.driver_connection.cursor()
        names = ", ".join(VERSION_COLUMNS)
        with cursor.copy(f"copy {table} ({names}) from stdin (format csv)") as copy_:
            copy_.write(data)


# -- the step --------------------------------------------------------------------------------------


def main() -> dict[str, float]:
    import gc

    from surgehub.returns.gx_runtime import _runtime
    from surgehub.returns.validate import validate_table, validate_tables
    from surgehub.warehouse.db import get_engine

    settings = benchmark_settings()
    figures: dict[str, float] = {}
    received_day = RECEIVED_AT.date()
    window = settings.timeliness.revision_window_days
    season = (settings.season.start, settings.season.end)

    def engine_check(frame: Any, locality: str = "N01") -> Any:
        result = validate_table(
            frame, locality=locality, received_at=RECEIVED_AT, settings=settings, register=register
        )
        if not result.accepted:
            raise AssertionError(f"benchmark rows rejected: {result.errors[:3]}")
        return result

    def baseline_check(frame: Any, locality: str = "N01") -> dict[str, int]:
        counts = baseline.check(
            frame,
            locality=locality,
            received_day=received_day,
            season=season,
            window_days=window,
            register=register.latest(),
        )
        if any(n for rule, n in counts.items() if rule.startswith("R")):
            raise AssertionError(f"baseline found errors in valid rows: {counts}")
        return counts

    # One file of a million rows: the register's 6,720 hubs (42 ICBs × 160) all belong to the
    # submitter, so every row passes R05/R06 (see docs/benchmarks.md).
    register = build_register(icbs=1, hubs_per_icb=6_720)
    # the one-file part (kept as a block: its names are freed below)
    hubs = hubs_of(register)
    log_memory("imports")
    frame = text_frame(hubs, ROWS)
    release_heap()  # what building the input left in the C heap is the benchmark's, not the engine's
    log_memory("the million rows as text columns")
    _runtime()  # GX imported and its context built: not part of any figure
    engine_check(frame.head(1000))
    baseline_check(frame.head(1000))
    gc.collect()
    log_memory("GX context built, engines warmed")

    with throwaway_database(register) as url:
        engine_s, result = timed(lambda: engine_check(frame))
        log_memory("validation (accepted frame held)")
        load_s = copy_s = bare_s = None
        if url is not None:
            engine = get_engine(url)
            load_s, _ = timed(lambda: load_as_versions(engine, result.frame))
            log_memory("load_versions")
        figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
        accepted = result.frame
        result = None  # only its frame is kept
        gc.collect()
        base_s, _ = timed(lambda: baseline_check(frame))
        engine_s = min(engine_s, timed(lambda: engine_check(frame))[0])
        base_s = min(base_s, timed(lambda: baseline_check(frame))[0])
        if url is not None:
            data = copy_text(accepted)
            _truncate(engine)
            copy_s, _ = timed(lambda: raw_copy(engine, data))
            _truncate(engine)
            bare_s, _ = timed(lambda: raw_copy(engine, data, table="bare_version"))
            del data
            engine.dispose()

    figures["validate_1m_ratio"] = round(engine_s / base_s, 2)
    figures["validate_1m_engine_s"] = round(engine_s, 2)
    figures["validate_1m_baseline_s"] = round(base_s, 2)
    if load_s is not None and copy_s is not None:
        figures["load_1m_pg_ratio"] = round(load_s / copy_s, 2)
        figures["load_1m_pg_load_s"] = round(load_s, 2)
        figures["load_1m_pg_copy_s"] = round(copy_s, 2)
        figures["load_1m_pg_bare_copy_s"] = round(bare_s, 2)
        figures["load_1m_pg_bare_ratio"] = round(load_s / bare_s, 2)
    accepted = frame = None  # free the million rows before the next part
    gc.collect()

    # The same million rows as 42 ICB files: the engine's batch path (as ingest and backfill take many
    # files: one joint pass) and, beside it, the same files one at a time; the baseline per file.
    register = build_register()
    whole = text_frame(hubs_of(register), ROWS)
    parts = [
        (whole[whole["sub_icb_code"] == loc.sub_icb_code].reset_index(drop=True), loc.sub_icb_code)
        for loc in register.localities
    ]
    del whole

    def batch_check() -> None:
        results = validate_tables(parts, received_at=RECEIVED_AT, settings=settings, register=register)
        if not all(r.accepted for r in results):
            raise AssertionError("benchmark rows rejected in the 42-file batch")

    by_icb_engine = timed(batch_check)[0]
    by_icb_base = timed(lambda: [baseline_check(part, code) for part, code in parts])[0]
    by_icb_engine = min(by_icb_engine, timed(batch_check)[0])
    by_icb_base = min(by_icb_base, timed(lambda: [baseline_check(part, code) for part, code in parts])[0])
    one_at_a_time = timed(lambda: [engine_check(part, code) for part, code in parts])[0]
    figures["validate_1m_by_icb_ratio"] = round(by_icb_engine / by_icb_base, 2)
    figures["validate_1m_by_icb_engine_s"] = round(by_icb_engine, 2)
    figures["validate_1m_by_icb_baseline_s"] = round(by_icb_base, 2)
    figures["validate_1m_by_icb_one_at_a_time_s"] = round(one_at_a_time, 2)
    return figures


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
    sys.exit(0)
