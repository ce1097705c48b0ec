"""
### surgehub_housekeeping — the quarantine's retention, every night

**Purpose.** A return refused under R16 (it appeared to hold an NHS number) is kept in the
quarantine folder, readable by the operators' account only, for `limits.quarantine_retention_days`
(default 30) and then deleted with its receipt record (spec §4). Runs daily at 02:15 Europe/London
and deletes the quarantined files received more than that many days before the run. The submission
rows stay (they never held the number). Nothing else is touched: the archive keeps every file.

**Owner.** GM primary care data team (`gm-primary-care-data`).

**When it fails.** Retries with backoff, then emails the operations list. Safe to clear and re-run
(deleting is idempotent); a missed night is caught up by the next one.
"""

from __future__ import annotations

from airflow.sdk import DAG, CronTriggerTimetable, task

from surgehub.config import load_settings
from surgehub.orchestration.dag_support import Tag, default_args, late_run_deadline

settings = load_settings()  # once per parse: times, people and thresholds from the YAML file

with DAG(
    dag_id="surgehub_housekeeping",
    schedule=CronTriggerTimetable("15 2 * * *", timezone="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(settings),
    deadline=late_run_deadline("surgehub_housekeeping", minutes=30),
    tags=[Tag.OPERATIONS],
    doc_md=__doc__,
):

    @task
    def purge_quarantine(**context) -> dict:
        from surgehub.orchestration import tasks
        from surgehub.resources import Resources

        resources = Resources.from_env()
        return tasks.purge_quarantine(tasks.run_time(context, resources), resources)

    purge_quarantine()
