"""
### surgehub_rag — recompute RAG status when the warehouse changes, and at each close

**Purpose.** Recomputes the RAG status (spec §5) of every locality and of Greater Manchester for the
activity days that changed, as of now, and stores it with its reasons and rule-set version. Runs when
`surgehub_ingest` updates the `surgehub_hub_days` asset, and at every close (13:30 Europe/London on
working days), when a pending hub-day turns into *no return* without any new data.

A manual run with `{"days": ["YYYY-MM-DD", ...]}` recomputes those days; with no conf, the revision
window (the last 15 days).

**Owner.** GM primary care data team (`gm-primary-care-data`).

**When it fails.** Retries with backoff, then emails the operations list. Recomputing is idempotent
(results are keyed on day, locality and as-of time): clear the task once the cause is fixed.
"""

from __future__ import annotations

from airflow.sdk import DAG, AssetOrTimeSchedule, CronTriggerTimetable, task

from surgehub.config import load_settings
from surgehub.orchestration.dag_support import HUB_DAYS, RAG_RESULTS, Tag, close_cron, default_args

settings = load_settings()  # once per parse: times, people and thresholds from the YAML file

with DAG(
    dag_id="surgehub_rag",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(close_cron(settings), timezone="Europe/London"),
        assets=[HUB_DAYS],
    ),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(settings),
    tags=[Tag.RAG, Tag.WAREHOUSE],
    doc_md=__doc__,
):

    @task(outlets=[RAG_RESULTS], pool="surgehub_warehouse")
    def compute_rag(**context) -> list[str]:
        from surgehub.orchestration import tasks
        from surgehub.resources import Resources

        resources = Resources.from_env()
        as_of = resources.clock.now()
        return tasks.recompute_rag(tasks.days_to_recompute(context, as_of, resources), as_of, resources)

    compute_rag()
