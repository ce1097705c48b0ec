"""
### surgehub_board_digest — the RAG digest for the primary care system board

**Purpose.** Before each of the board's twice-weekly meetings (default Monday and Thursday 07:30
Europe/London, from `config/surgehub.yaml`) builds the board digest (spec §6): period and cut-off,
timeliness per day, the RAG grid of the ten localities, activity, delivery against the commissioned
plan, flow, exceptions and revisions (register changes named as such), with the management-information
caveat; HTML and plain text. Sends it to the board list through the
`smtp_default` Airflow connection, once per recipient and period (the email log stops a re-run from
sending it again). The digest is judged as of the run's scheduled time. On a bank holiday there
is no meeting and the run is skipped. A run not finished 20 minutes after it was queued emails the
operations list (Airflow deadline alert). The message archive keeps each message as sent; then
`verify_board_digest` rebuilds the digest as of its cut-off and compares its CSV with them: if they
differ, the operations list gets an alert with the diff and the task fails.

**Owner.** GM primary care data team (`gm-primary-care-data`).

**When it fails.** Retries with backoff, then emails the operations list. If the board meeting is
close, build and check it by hand: `surgehub digest --kind board --as-of <time> --out DIR`, then
clear the task: recipients already logged as sent are skipped. If verification fails, run
`surgehub verify-digest KEY` and `surgehub audit` to see what differs and what changed.
"""

from __future__ import annotations

from airflow.sdk import task

from surgehub.config import load_settings
from surgehub.orchestration.dag_support import Tag, board_digest_cron, scheduled_dag

settings = load_settings()  # once per parse: times, people and thresholds from the YAML file

with scheduled_dag(
    "surgehub_board_digest",
    [board_digest_cron(settings)],
    settings,
    tags=[Tag.BOARD, Tag.EMAIL],
    doc_md=__doc__,
    deadline_minutes=20,
):

    @task
    def send_board_digest(**context) -> dict:
        from surgehub.orchestration import tasks

        run_at, resources = tasks.scheduled_run(context)
        return tasks.send_digest("board", run_at, resources)

    @task
    def verify_board_digest(**context) -> dict:
        from surgehub.orchestration import tasks

        run_at, resources = tasks.scheduled_run(context)
        return tasks.verify_sent_digest("board", run_at, resources)

    send_board_digest() >> verify_board_digest()
