"""
### surgehub_chase — remind and chase localities whose returns are still outstanding

**Purpose.** On each working day (spec §4: Monday to Friday except England's bank holidays) at the
reminder time (default 09:30 Europe/London) and again at the deadline (default 11:00), finds the
hub-days due that day (on a Monday: Friday, Saturday and Sunday) with no accepted return yet, and
sends one email to each such locality's contacts listing every hub and day it owes. Times and
contacts come from `config/surgehub.yaml`. Each email is sent once (email log keyed on kind, day and
locality).

**Owner.** GM primary care data team (`gm-primary-care-data`).

**When it fails.** Each task retries with backoff; after the last retry the operations list gets an
email (and one 10 minutes after queueing if the run is still going: a reminder is only useful before
the deadline). Then:

1. Read the task log for the cause (SMTP, warehouse: `surgehub health`, configuration).
2. Fix it and clear the task: localities already emailed for that run are not emailed again.
3. A chaser that is late is still worth sending before the close (13:30).
"""

from __future__ import annotations

from airflow.sdk import task

from surgehub.config import load_settings
from surgehub.orchestration.dag_support import Tag, chase_crons, scheduled_dag

settings = load_settings()  # once per parse: times, people and thresholds from the YAML file

with scheduled_dag(
    "surgehub_chase",
    chase_crons(settings),
    settings,
    description="Reminder at 09:30 and chaser at 11:00 to localities whose returns are outstanding",
    tags=[Tag.INTAKE, Tag.EMAIL],
    doc_md=__doc__,
    deadline_minutes=10,
):

    @task(multiple_outputs=False)
    def chase_localities(**context) -> dict:
        from surgehub.orchestration import tasks

        run_at, resources = tasks.scheduled_run(context)
        return tasks.chase_localities(run_at, resources)

    chase_localities()
