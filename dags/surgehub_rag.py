"""
### surgehub_rag — recompute RAG status when the warehouse changes, and at each close

**Purpose.** Recomputes the RAG status (spec §5) of every locality and of Greater Manchester for the
activity days that changed, as of now, and stores it with its reasons and rule-set version. Runs when
`surgehub_ingest` updates the `surgehub_hub_days` asset, and at every close (13:30 Europe/London on
working days), when a pending hub-day turns into *no return* without any new data.

A manual run with `{"days": ["YYYY-MM-DD", ...]}` recomputes those days; with no conf, the revision
window (the last 15 days).

**Owner.** GM primary care data team (`gm-primary-care-data`).

**When it fails.** The task retries with backoff; after the last retry the operations list gets an
email (and one 15 minutes after queueing if the run is still going). Then:

1. Read the task log for the cause (usually the warehouse: `surgehub health`).
2. Fix it and clear the task. Recomputing is idempotent (results are keyed on day, locality and
   as-of time); the digests compute RAG themselves, so a failed run never changes what the board gets.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, AssetOrTimeSchedule, CronTriggerTimetable, task

from surgehub.config import load_settings
from surgehub.orchestration.dag_support import HUB_DAYS, Tag, close_cron, default_args, late_run_deadline

settings = load_settings()  # once per parse: times, people and thresholds from the YAML file

with DAG(
    dag_id="surgehub_rag",
    description="Recompute RAG for the days that changed, and at each close",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(close_cron(settings), timezone="Europe/London"),
        assets=[HUB_DAYS],
    ),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    default_args=default_args(settings),
    deadline=late_run_deadline("surgehub_rag", minutes=15),
    tags=[Tag.RAG, Tag.WAREHOUSE],
    doc_md=__doc__,
):

    @task(pool="surgehub_warehouse")
    def compute_rag(**context) -> list[str]:
        from surgehub.orchestration import tasks
        from surgehub.resources import Resources

        resources = Resources.from_env()
        as_of = resources.clock.now()
        return tasks.recompute_rag(tasks.days_to_recompute(context, as_of, resources), as_of, resources)

    compute_rag()
