"""``event_to_receipt_p95_s``: from a file landing to its receipt being delivered, on the live system.

Starts the live system exactly as `make up` does (``airflow standalone`` + the loopback SMTP server,
embedded defaults) in a throwaway data folder on free ports, on the fixed timeline, and waits until the
landing watcher reports that it is polling. Then 20 returns
(each of the ten localities, activity days 23 and 24 November 2026) are dropped into the landing
folders one every 1.5 seconds, written and renamed in as a well-behaved sender does. For each file,
the latency is from the rename to the moment the SMTP server stored its first receipt (the ``.eml``
file's modification time; receipts are matched to files through the submission id they carry).
Baseline in the same run: the watcher's own floor, the trigger's poll interval twice over (a file
must hold still across one poll before it is announced; ``SURGEHUB_LANDING_POLL_SECONDS``, 1 s by
default). ``event_to_receipt_sent_by_ingest`` counts the receipt messages the ingest tasks sent
themselves (the rest were sent by a ``send_receipts`` sweep), from the task logs.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine

    from surgehub.config import Settings

FILES_PER_LOCALITY = 2
DAYS = (date(2026, 11, 23), date(2026, 11, 24))
SPACING_S = 1.5
NOW = "2026-11-25T09:00:00+00:00"


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered) + 0.5) - 1)]  # nearest rank


def _wait_for_watcher(logs: Path, timeout: float = 180) -> None:
    """Wait until the landing watcher says it is polling (``landing_trigger.READY_MESSAGE``), so the
    figure measures a running system, not the DAG's first parse and the triggerer's start-up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any("landing watcher ready" in p.read_text(errors="replace") for p in logs.glob("airflow_*.log")):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the landing watcher did not report ready within {timeout:.0f} s; see {logs}")


@contextmanager
def live_system(prefix: str) -> Iterator[tuple[Settings, Engine]]:
    """The live system as `make up` starts it, in a throwaway data folder on free ports and the fixed
    timeline, once the landing watcher polls; stopped (and its folder removed) on the way out."""
    from sqlalchemy import create_engine

    from surgehub.config import load_settings
    from surgehub.orchestration.live import free_port, start, stop

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        os.environ["SURGEHUB_HOME"] = str(Path(tmp) / "var")
        os.environ.pop("SURGEHUB_WAREHOUSE_URL", None)
        os.environ["SURGEHUB_NOW"] = NOW
        settings = load_settings()
        try:
            start(settings, api_port=free_port(), smtp_port=free_port(), log_ports=(free_port(), free_port()))
            _wait_for_watcher(settings.home / "logs")
            engine = create_engine(settings.warehouse_url)
            try:
                yield settings, engine
            finally:
                engine.dispose()
        finally:
            stop(settings)


def main() -> dict[str, float]:
    from surgehub import reference, sample
    from surgehub.orchestration.dag_support import landing_poll_seconds

    with live_system("surgehub-bench-live-") as (settings, engine):
        rng = random.Random(20)
        dropped: dict[str, float] = {}
        for day in DAYS:
            for loc in reference.localities():
                name = f"{loc.slug}-{day.isoformat()}.csv"
                target = settings.landing_dir / loc.sub_icb_code / name
                partial = target.with_name(f".{name}.part")
                partial.write_bytes(sample.to_csv(sample.locality_rows(loc.sub_icb_code, [day], rng)))
                partial.rename(target)
                dropped[name] = time.time()
                time.sleep(SPACING_S)
        delivered = wait_for_receipts(settings.outbox_dir, engine, dropped, timeout=240)
        breakdown = _task_breakdown(settings.home / "airflow" / "airflow.db", dropped)
        breakdown["event_to_receipt_sent_by_ingest"] = _sent_by_ingest(settings.home / "airflow" / "logs")
    if len(delivered) < len(dropped):
        missing = sorted(set(dropped) - set(delivered))
        raise RuntimeError(f"no receipt within 4 minutes for {len(missing)} file(s): {missing[:5]}")
    latencies = [delivered[name] - dropped[name] for name in dropped]
    return breakdown | {
        "event_to_receipt_p95_s": round(_p95(latencies), 2),
        "event_to_receipt_median_s": round(statistics.median(latencies), 2),
        "event_to_receipt_max_s": round(max(latencies), 2),
        "event_to_receipt_floor_s": 2 * landing_poll_seconds(),  # two polls: see the docstring
        "event_to_receipt_files": len(latencies),
    }


def wait_for_receipts(
    outbox: Path, engine: Engine, dropped: dict[str, float], timeout: float
) -> dict[str, float]:
    """When each dropped file's first receipt was stored by the SMTP server (its ``.eml`` file's
    modification time), matched through the submission id the receipt carries; waits up to ``timeout``
    seconds for them all and returns what arrived."""
    from sqlalchemy import select

    from surgehub.warehouse.tables import submission

    delivered: dict[str, float] = {}
    seen: set[Path] = set()
    deadline = time.monotonic() + timeout
    while len(delivered) < len(dropped) and time.monotonic() < deadline:
        for path in sorted(outbox.glob("*-receipt-*.eml")):
            if path in seen:
                continue
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            period = str(message["X-Surgehub-Period"] or "")
            if not period:
                continue  # still being written: read it again on the next pass
            seen.add(path)
            if not period.startswith("submission:"):
                continue
            with engine.connect() as connection:
                file_name = connection.execute(
                    select(submission.c.file_name).where(
                        submission.c.submission_id == int(period.split(":")[1])
                    )
                ).scalar_one_or_none()
            if file_name in dropped:
                at = path.stat().st_mtime
                delivered[file_name] = min(at, delivered.get(file_name, at))
        time.sleep(0.2)
    return delivered


def _sent_by_ingest(task_logs: Path) -> int:
    """Receipt messages the ingest tasks sent themselves (each logs "N receipt(s) sent from the ingest task")."""
    import re

    total = 0
    for path in task_logs.glob("dag_id=surgehub_ingest/*/task_id=ingest_returns/*.log"):
        total += sum(
            int(n) for n in re.findall(r"(\d+) receipt\(s\) sent from the ingest task", path.read_text())
        )
    return total


def _task_breakdown(metadata_db: Path, dropped: dict[str, float]) -> dict[str, float]:
    """Where the time went, from Airflow's own records (medians): file dropped → asset event (the
    watcher), event → its DAG run started (the scheduler), run started → ingest task started (task
    start-up), each task's queue wait and run, ingest ended → receipts task started."""
    import sqlite3
    from datetime import UTC, datetime

    if not metadata_db.exists():
        return {}

    def epoch(text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()

    out: dict[str, float] = {}
    with sqlite3.connect(metadata_db) as connection:
        events = connection.execute(
            "select id, timestamp, extra from asset_event where source_dag_id is null"
        ).fetchall()
        drop_to_event = []
        for _, stamp, extra in events:
            name = Path(json.loads(extra or "{}").get("payload", {}).get("path", "")).name
            if name in dropped:
                drop_to_event.append(epoch(stamp) - dropped[name])
        if drop_to_event:
            out["event_to_receipt_drop_to_event_s"] = round(statistics.median(drop_to_event), 2)
        stages = connection.execute(
            "select max(e.timestamp), r.start_date, i.start_date, i.end_date, s.start_date, s.end_date"
            " from dag_run r join dagrun_asset_event d on d.dag_run_id = r.id join asset_event e on e.id = d.event_id"
            " join task_instance i on i.run_id = r.run_id and i.dag_id = r.dag_id and i.task_id = 'ingest_returns'"
            " join task_instance s on s.run_id = r.run_id and s.dag_id = r.dag_id and s.task_id = 'send_receipts'"
            " where r.dag_id = 'surgehub_ingest' and s.end_date is not null group by r.id"
        ).fetchall()
        if stages:
            names = (
                "event_to_run",
                "run_to_ingest_start",
                "ingest",
                "ingest_end_to_receipts_start",
                "receipts",
            )
            for index, name in enumerate(names):
                values = [epoch(row[index + 1]) - epoch(row[index]) for row in stages]
                out[f"event_to_receipt_stage_{name}_s"] = round(statistics.median(values), 2)
        runs = connection.execute("select count(*) from dag_run where dag_id = 'surgehub_ingest'").fetchone()[
            0
        ]
        out["event_to_receipt_ingest_runs"] = runs
        for task in ("ingest_returns", "send_receipts"):
            rows = connection.execute(
                "select (julianday(start_date) - julianday(queued_dttm)) * 86400,"
                " (julianday(end_date) - julianday(start_date)) * 86400 from task_instance"
                " where dag_id = 'surgehub_ingest' and task_id = ? and end_date is not null",
                (task,),
            ).fetchall()
            if rows:
                out[f"event_to_receipt_{task}_queued_s"] = round(statistics.median(r[0] for r in rows), 2)
                out[f"event_to_receipt_{task}_runs_s"] = round(statistics.median(r[1] for r in rows), 2)
    return out


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
