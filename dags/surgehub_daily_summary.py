"""
### surgehub_daily_summary — the operations summary after each close

**Purpose.** Shortly after each close (default 13:30 + 15 minutes, Europe/London, working days
only) builds the daily operational summary for the activity days whose close has just passed: who
returned on time, late or not at all, the RAG of every locality with its reasons, activity, flow,
exceptions and revisions. Sends it to the operations list once (email log), HTML and plain text, then
verifies what the message archive holds against a rebuild (`verify_daily_summary`).

**Owner.** GM primary care data team (`gm-primary-care-data`).

**When it fails.** Each task retries with backoff; after the last retry the operations list gets an
email (and one 30 minutes after queueing if the run is still going). Then:

1. Read the task log for the cause (SMTP, warehouse: `surgehub health`, configuration).
2. Fix it, and if the summary is needed now, build it by hand:
   `surgehub digest --kind daily --as-of <scheduled time> --out DIR`.
3. Clear the task: the email log stops anyone getting it twice (a message cut off between the relay
   and the log is sent again with the same Message-ID).
4. If `verify_daily_summary` failed, the figures sent are not what the warehouse says they were at
   the cut-off: run `surgehub verify-digest KEY` and `surgehub audit`.
"""

from __future__ import annotations

from airflow.sdk import task

from surgehub.config import load_settings
from surgehub.orchestration.dag_support import Tag, daily_summary_cron, scheduled_dag

settings = load_settings()  # once per parse: times, people and thresholds from the YAML file

with scheduled_dag(
    "surgehub_daily_summary",
    [daily_summary_cron(settings)],
    settings,
    description="The operations summary of the days whose close has just passed",
    tags=[Tag.OPERATIONS, Tag.EMAIL],
    doc_md=__doc__,
    deadline_minutes=30,
):

    @task(multiple_outputs=False)
    def send_daily_summary(**context) -> dict:
        from surgehub.orchestration import tasks

        run_at, resources = tasks.scheduled_run(context)
        return tasks.send_digest("daily", run_at, resources)

    @task(multiple_outputs=False)
    def verify_daily_summary(**context) -> dict:
        from surgehub.orchestration import tasks

        run_at, resources = tasks.scheduled_run(context)
        return tasks.verify_sent_digest("daily", run_at, resources)

    _ = send_daily_summary() >> verify_daily_summary()
