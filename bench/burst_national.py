"""``burst_national_*``: 420 returns (42 ICBs × 10 areas) renamed in within 60 s, on the embedded live system.

The live system is started exactly as `make up` does (embedded defaults: ``airflow standalone`` with
the LocalExecutor, the SQLite warehouse, the loopback SMTP server), in a throwaway data folder on the
fixed timeline, as ``bench.burst`` does. The synthetic national register by area
(``bench.national.build_area_register``: 420 localities ``A01``…``K42``, three hubs each) is then
recorded in its warehouse *as data*, with the system running: the localities and hubs by
``seed_register`` (as ``surgehub db upgrade`` records the shipped ones) and one submitter account per
locality (so each has someone to receive its receipt), and each locality's landing folder is made
(``ensure_landing``). Nothing in the package changes and nothing is restarted: the landing watcher
reads the register's localities again every 10 s (``CODES_REFRESH_S``, plugins/landing_trigger.py), and the
ingest judges each return against the register it reads from the warehouse.

Each burst renames one valid return per area (420, one activity day; a different day per burst) into
its landing folder, the renames spread evenly over ``SPREAD_S`` seconds, and waits for every receipt.
Bursts repeat (up to ``BURSTS``) while the bench has run less than ``BUDGET_S``. Each file's latency
runs from its rename to its first receipt being stored by the loopback SMTP server.

Figures: ``burst_national_p95_s`` (goal ≤ 60 s), median and max; ``burst_national_files_per_min``
(the best burst's files / (its last receipt − its first rename) × 60); ``burst_national_lost_or_doubled``
(submissions beyond or short of one per file dropped, plus receipts beyond one per submission: must be
0); and, from Airflow's metadata database, the ingest runs and files per run, and where the time went.
Before each burst the step times ``bench.calibration``'s fixed workload and reads the 1-minute load
average (in ``burst_national_per_burst``; their medians as ``burst_national_calibration_s`` and
``burst_national_load_1min``): on the shared two cores the seconds follow the load.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.live_receipts import _p95, _task_breakdown, live_system, wait_for_receipts

if TYPE_CHECKING:
    from sqlalchemy import Engine

BURSTS = 5
BUDGET_S = 600.0  # no new burst starts once the bench has run this long
SPREAD_S = 60.0
TIMEOUT_S = 900.0
FIRST_DAY = date(2026, 11, 19)  # bursts use 19–23 November (R07: at most 14 days before the 25th)
NOW = "2026-11-25T09:00:00+00:00"
#: The watcher reads the register's localities every 10 s (landing_trigger.CODES_REFRESH_S): wait that
#: and two polls before the first rename.
REGISTER_SETTLE_S = 12.0


def main() -> dict[str, Any]:
    from bench import national
    from bench.calibration import main as calibrate
    from surgehub import clock, sample
    from surgehub.landing import ensure_landing
    from surgehub.orchestration.dag_support import landing_poll_seconds
    from surgehub.warehouse.register import locality_codes

    register = national.build_area_register()
    codes = [loc.sub_icb_code for loc in register.localities]
    latencies: list[float] = []
    per_burst: list[dict[str, Any]] = []
    started = time.monotonic()
    with live_system("surgehub-bench-national-") as (settings, engine):
        loading = time.monotonic()
        national.seed_national(engine, register)
        national.add_submitters(engine, register, clock.parse_instant(NOW))
        ensure_landing(settings.landing_dir, locality_codes(engine))
        registered_s = time.monotonic() - loading
        time.sleep(REGISTER_SETTLE_S)  # the watcher reads the register's localities again
        view = register.as_of(clock.parse_instant(NOW))
        rng = random.Random(420)
        outbox_before: set[Path] = set()
        cpu_before = cpu_by_component(settings.home)
        for burst in range(BURSTS):
            if burst and time.monotonic() - started > BUDGET_S:
                break
            day = FIRST_DAY + timedelta(days=burst)
            calibration = calibrate()["calibration_s"]  # how busy the shared machine is, burst by burst
            load = os.getloadavg()[0]
            bodies = {
                code: sample.to_csv(sample.locality_rows(code, [day], rng, register=view)) for code in codes
            }
            gap = SPREAD_S / (len(codes) - 1)
            dropped: dict[str, float] = {}
            first = time.monotonic()
            for n, (code, body) in enumerate(bodies.items()):
                name = f"{code.lower()}-{day:%d%b}.csv".lower()  # a06-19nov.csv: never ten digits (R16)
                target = settings.landing_dir / code / name
                partial = target.with_name(f".{name}.part")
                partial.write_bytes(body)
                partial.rename(target)
                dropped[name] = time.time()
                time.sleep(max(0.0, first + (n + 1) * gap - time.monotonic()))  # evenly, not drifting
            delivered = wait_for_receipts(settings.outbox_dir, engine, dropped, timeout=TIMEOUT_S)
            if len(delivered) < len(dropped):
                missing = sorted(set(dropped) - set(delivered))
                raise RuntimeError(
                    f"burst {burst + 1}: {len(missing)} receipt(s) missing, e.g. {missing[:5]}"
                )
            these = [delivered[name] - dropped[name] for name in dropped]
            latencies.extend(these)
            span = max(delivered.values()) - min(dropped.values())
            per_burst.append(
                {
                    "day": day.isoformat(),
                    "p95_s": round(_p95(these), 2),
                    "max_s": round(max(these), 2),
                    "files_per_min": round(len(these) / span * 60, 1),
                    "span_s": round(span, 1),
                    "calibration_s": calibration,
                    "load_1min": round(load, 1),
                }
            )
            print(f"burst {burst + 1} ({day}): {per_burst[-1]}", file=sys.stderr, flush=True)
        files = len(latencies)
        cpu_after = cpu_by_component(settings.home)
        cpu = {
            f"burst_national_cpu_ms_per_file_{name}": round(
                (cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0)) / files * 1000, 1
            )
            for name in sorted(set(cpu_after) | set(cpu_before))
        }
        rejected = _rejected(engine, codes)
        if rejected:
            raise RuntimeError(
                f"{rejected} of the valid returns were rejected: see the warehouse's submissions"
            )
        lost_or_doubled = _lost_or_doubled(engine, codes, files)
        receipts_doubled = _receipts_beyond_one(settings.outbox_dir, outbox_before)
        metadata = settings.home / "airflow" / "airflow.db"
        runs = _runs(metadata)
        breakdown = {
            k.replace("event_to_receipt_", "burst_national_"): v
            for k, v in _task_breakdown(metadata, {}).items()
        }
    return (
        breakdown
        | {
            "burst_national_p95_s": round(_p95(latencies), 2),
            "burst_national_median_s": round(statistics.median(latencies), 2),
            "burst_national_max_s": round(max(latencies), 2),
            "burst_national_files": files,
            "burst_national_bursts": len(per_burst),
            "burst_national_files_per_min": max(b["files_per_min"] for b in per_burst),
            "burst_national_per_burst": per_burst,
            "burst_national_lost_or_doubled": lost_or_doubled + receipts_doubled,
            "burst_national_register_load_s": round(registered_s, 2),
            "burst_national_calibration_s": statistics.median(b["calibration_s"] for b in per_burst),
            "burst_national_load_1min": statistics.median(b["load_1min"] for b in per_burst),
            "burst_national_floor_s": 2 * landing_poll_seconds(),
        }
        | runs
        | cpu
    )


#: Airflow's processes by what their command line says (the first match wins).
COMPONENTS = (
    ("worker", "tasks"),  # the LocalExecutor's workers and the task processes they fork
    ("parse_child", "tasks"),
    ("scheduler", "scheduler"),
    ("triggerer", "triggerer"),
    ("api", "api_server"),
    ("dag", "dag_processor"),
)


def cpu_by_component(home: Path) -> dict[str, float]:
    """CPU seconds used so far by the live system's processes (its process group), by component, with
    what each has reaped of its children (a finished task process's CPU lands in its worker's)."""
    ticks = os.sysconf("SC_CLK_TCK")
    group = int((home / "run" / "airflow_standalone.pid").read_text())
    used: dict[str, float] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = stat_file.read_text()
            command = (
                (stat_file.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            )
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) != group:  # pgrp
            continue
        seconds = sum(int(v) for v in fields[11:15]) / ticks  # utime, stime, cutime, cstime
        name = next((n for marker, n in COMPONENTS if marker in command), "other")
        used[name] = used.get(name, 0.0) + seconds
    used["all"] = sum(used.values())
    return used


def _rejected(engine: Engine, codes: list[str]) -> int:
    """Every return dropped is valid: a rejected one is a bench (or system) fault, not a figure."""
    from sqlalchemy import func, select

    from surgehub.warehouse.tables import submission

    with engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(submission)
            .where(submission.c.sub_icb_code.in_(codes), submission.c.outcome != "accepted")
        ).scalar_one()


def _lost_or_doubled(engine: Engine, codes: list[str], expected: int) -> int:
    """Files with no submission, plus submissions beyond one per file (every burst file is distinct)."""
    from sqlalchemy import select

    from surgehub.warehouse.tables import submission

    with engine.connect() as connection:
        names = Counter(
            connection.execute(
                select(submission.c.file_name).where(submission.c.sub_icb_code.in_(codes))
            ).scalars()
        )
    return abs(len(names) - expected) + sum(n - 1 for n in names.values())


def _receipts_beyond_one(outbox: Path, before: set[Path]) -> int:
    """Receipt messages beyond one per (submission, recipient): a receipt sent twice."""
    sent: Counter[tuple[str, str]] = Counter()
    for path in outbox.glob("*-receipt-*.eml"):
        if path in before:
            continue
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        period = str(message["X-Surgehub-Period"] or "")
        if period.startswith("submission:"):
            sent[(period, str(message["To"]))] += 1
    return sum(n - 1 for n in sent.values())


def _runs(metadata_db: Path) -> dict[str, Any]:
    """The ingest runs, the asset events (files announced) each consumed, and their ingest task times."""
    if not metadata_db.exists():
        return {}
    with sqlite3.connect(metadata_db) as connection:
        rows = connection.execute(
            "select r.id, count(d.event_id), min(i.start_date), max(i.end_date)"
            " from dag_run r left join dagrun_asset_event d on d.dag_run_id = r.id"
            " left join task_instance i on i.run_id = r.run_id and i.dag_id = r.dag_id"
            " and i.task_id = 'ingest_returns'"
            " where r.dag_id = 'surgehub_ingest' group by r.id order by r.id"
        ).fetchall()
    events = [r[1] for r in rows]

    def seconds(a: str | None, b: str | None) -> float | None:
        if not a or not b:
            return None
        return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()

    took = [s for s in (seconds(r[2], r[3]) for r in rows) if s is not None]
    return {f"burst_national_{k}": v for k, v in run_figures(events, took).items()}


def run_figures(events: list[int], took: list[float]) -> dict[str, Any]:
    """The ingest runs' figures from each run's asset events and its ingest task's seconds (also
    ``bench.stack_burst``'s, read from the stack's PostgreSQL)."""
    return {
        "ingest_runs": len(events),
        "events_per_run_median": statistics.median(events) if events else 0,
        "events_per_run_max": max(events, default=0),
        "ingest_task_median_s": round(statistics.median(took), 2) if took else None,
        "ingest_task_max_s": round(max(took), 2) if took else None,
    }


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
