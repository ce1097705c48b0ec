"""
### surgehub_housekeeping — the quarantine's retention, every night

**Purpose.** A return refused under R16 (it appeared to hold an NHS number) is kept in the
quarantine folder, readable by the operators' account only, for `limits.quarantine_retention_days`
(default 30) and then deleted with its receipt record (spec §4). Runs daily at 02:15 Europe/London
and deletes the quarantined files received more than that many days before the run. The submission
rows stay (they never held the number). Nothing else is touched: the archive keeps every file.

**Owner.** GM primary care data team (`gm-primary-care-data`).

**When it fails.** Each task retries with backoff; after the last retry the operations list gets an
email (and one 30 minutes after queueing if the run is still going). Then:

1. Read the task log: usually the quarantine folder is not readable or writable by the Airflow user.
2. Fix the folder's ownership or mount, then clear the task. Deleting is idempotent, and a missed
   night is caught up by the next one.
"""

from __future__ import annotations

from airflow.sdk import task

from surgehub.config import load_settings
from surgehub.orchestration.dag_support import Tag, scheduled_dag

settings = load_settings()  # once per parse: times, people and thresholds from the YAML file

with scheduled_dag(
    "surgehub_housekeeping",
    ["15 2 * * *"],
    settings,
    description="Nightly: delete quarantined (R16) files past their retention",
    tags=[Tag.OPERATIONS],
    doc_md=__doc__,
    deadline_minutes=30,
):

    @task(multiple_outputs=False)
    def purge_quarantine(**context) -> dict:
        from surgehub.orchestration import tasks

        run_at, resources = tasks.scheduled_run(context, working_days_only=False)
        return tasks.purge_quarantine(run_at, resources)

    purge_quarantine()
