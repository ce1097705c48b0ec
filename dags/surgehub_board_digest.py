"""
### surgehub_board_digest — the RAG digest for the primary care system board

**Purpose.** Before each of the board's twice-weekly meetings (default Monday and Thursday 07:30
Europe/London, from `config/surgehub.yaml`) builds the board digest (spec §6): period and cut-off,
timeliness per day, the RAG grid of the ten localities, activity, delivery against the commissioned
plan, flow, exceptions and revisions (register changes named as such), with the
management-information caveat; HTML and plain text. Sends it to the board list through the
`smtp_default` Airflow connection, once per recipient and period (the email log stops a re-run from
sending it again). The digest is judged as of the run's scheduled time. On a bank holiday there
is no meeting and the run is skipped. A run not finished 20 minutes after it was queued emails the
operations list (Airflow deadline alert). The message archive keeps each message as sent; then
`verify_board_digest` rebuilds the digest as of its cut-off and compares its CSV with them: if they
differ, the operations list gets an alert with the diff and the task fails.

**Owner.** GM primary care data team (`gm-primary-care-data`).

**When it fails.** Each task retries with backoff; after the last retry the operations list gets an
email (and one 20 minutes after queueing if the run is still going). Then:

1. Read the task log for the cause: SMTP refused or unreachable, warehouse unreachable
   (`surgehub health`), or a configuration error.
2. Fix the cause (the `smtp_default` connection, the database, `config/surgehub.yaml`).
3. If the meeting is close, build and check the digest by hand:
   `surgehub digest --kind board --as-of <scheduled time> --out DIR`.
4. Clear the task. Recipients the email log holds as sent are skipped, so nobody gets it twice (a
   message cut off between the relay and the log is sent again with the same Message-ID).
5. If `verify_board_digest` failed, the figures sent are not what the warehouse says they were at the
   cut-off: run `surgehub verify-digest KEY` and `surgehub audit` to see what differs and what
   changed, and tell the board if a figure they saw was wrong.
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
    description="The RAG digest for the primary care system board, before each meeting",
    tags=[Tag.BOARD, Tag.EMAIL],
    doc_md=__doc__,
    deadline_minutes=20,
):

    @task(multiple_outputs=False)
    def send_board_digest(**context) -> dict:
        from surgehub.orchestration import tasks

        run_at, resources = tasks.scheduled_run(context)
        return tasks.send_digest("board", run_at, resources)

    @task(multiple_outputs=False)
    def verify_board_digest(**context) -> dict:
        from surgehub.orchestration import tasks

        run_at, resources = tasks.scheduled_run(context)
        return tasks.verify_sent_digest("board", run_at, resources)

    _ = send_board_digest() >> verify_board_digest()
