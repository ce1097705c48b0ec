"""
### surgehub_daily_summary — the operations summary after each close

**Purpose.** Shortly after each close (default 13:30 + 15 minutes, Europe/London, working days
only) builds the daily operational summary for the activity days whose close has just passed: who
returned on time, late or not at all, the RAG of every locality with its reasons, activity, flow,
exceptions and revisions, and delivery against the commissioned plan. Sends it to the operations list
once (email log, which keeps each message as sent). Then `verify_daily_summary` rebuilds it as of its
cut-off and compares its CSV with the archived messages; if they differ, the operations list gets an
alert with the diff and the task fails (see `surgehub verify-digest KEY`).

**Owner.** GM primary care data team (`gm-primary-care-data`).

**When it fails.** Retries with backoff, then emails the operations list. Rebuild by hand with
`surgehub digest --kind daily --as-of <time> --out DIR`; clearing the task never sends twice. A
failed verification means the figures sent are not what the warehouse says they were at the cut-off:
run `surgehub verify-digest KEY` and `surgehub audit`, and tell the board if a figure they saw was wrong.
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
    tags=[Tag.OPERATIONS, Tag.EMAIL],
    doc_md=__doc__,
    deadline_minutes=30,
):

    @task
    def send_daily_summary(**context) -> dict:
        from surgehub.orchestration import tasks

        run_at, resources = tasks.scheduled_run(context)
        return tasks.send_digest("daily", run_at, resources)

    @task
    def verify_daily_summary(**context) -> dict:
        from surgehub.orchestration import tasks

        run_at, resources = tasks.scheduled_run(context)
        return tasks.verify_sent_digest("daily", run_at, resources)

    send_daily_summary() >> verify_daily_summary()
