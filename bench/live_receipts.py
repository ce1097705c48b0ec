"""``event_to_receipt_p95_s``: from a file landing to its receipt being delivered, on the live system.

Starts the live system exactly as `make up` does (``airflow standalone`` + the loopback SMTP server,
embedded defaults) in a throwaway data folder on free ports, on the fixed timeline. Then 20 returns
(each of the ten localities, activity days 23 and 24 November 2026) are dropped into the landing
folders one every 1.5 seconds, written and renamed in as a well-behaved sender does. For each file,
the latency is from the rename to the moment the SMTP server stored its first receipt (the ``.eml``
file's modification time; receipts are matched to files through the submission id they carry).
Baseline in the same run: the watcher's own floor, the trigger's poll interval twice over (a file
must hold still across one poll before it is announced).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

FILES_PER_LOCALITY = 2
DAYS = (date(2026, 11, 23), date(2026, 11, 24))
SPACING_S = 1.5
NOW = "2026-11-25T09:00:00+00:00"


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered) + 0.5) - 1)]  # nearest rank


def main() -> dict[str, float]:
    from sqlalchemy import create_engine, select

    from surgehub import reference, sample
    from surgehub.config import load_settings
    from surgehub.orchestration.live import free_port, start, stop
    from surgehub.warehouse.tables import submission

    with tempfile.TemporaryDirectory(prefix="surgehub-bench-live-") as tmp:
        os.environ["SURGEHUB_HOME"] = str(Path(tmp) / "var")
        os.environ.pop("SURGEHUB_WAREHOUSE_URL", None)
        os.environ["SURGEHUB_NOW"] = NOW
        settings = load_settings()
        try:
            start(settings, api_port=free_port(), smtp_port=free_port(), log_ports=(free_port(), free_port()))
            engine = create_engine(settings.warehouse_url)
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
            delivered: dict[str, float] = {}
            deadline = time.monotonic() + 240
            while len(delivered) < len(dropped) and time.monotonic() < deadline:
                for path in sorted(settings.outbox_dir.glob("*-receipt-*.eml")):
                    message = message_from_bytes(path.read_bytes(), policy=policy.default)
                    period = str(message["X-Surgehub-Period"] or "")
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
                time.sleep(0.5)
            engine.dispose()
            breakdown = _task_breakdown(settings.home / "airflow" / "airflow.db")
        finally:
            stop(settings)
    if len(delivered) < len(dropped):
        missing = sorted(set(dropped) - set(delivered))
        raise RuntimeError(f"no receipt within 4 minutes for {len(missing)} file(s): {missing[:5]}")
    latencies = [delivered[name] - dropped[name] for name in dropped]
    return breakdown | {
        "event_to_receipt_p95_s": round(_p95(latencies), 2),
        "event_to_receipt_median_s": round(statistics.median(latencies), 2),
        "event_to_receipt_max_s": round(max(latencies), 2),
        "event_to_receipt_floor_s": 2 * 2.0,  # the trigger's poll interval (2 s), twice: see the docstring
        "event_to_receipt_files": len(latencies),
    }


def _task_breakdown(metadata_db: Path) -> dict[str, float]:
    """Where the time went, from Airflow's own records: medians over the run's task instances."""
    import sqlite3

    if not metadata_db.exists():
        return {}
    out: dict[str, float] = {}
    with sqlite3.connect(metadata_db) as connection:
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
