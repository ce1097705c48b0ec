"""
### surgehub_board_digest — the RAG digest for the primary care system board

**Purpose.** Before each of the board's twice-weekly meetings (default Monday and Thursday 07:30
Europe/London, from `config/surgehub.yaml`) builds the board digest (spec §6): period and cut-off,
timeliness per day, the RAG grid of the ten localities, activity, flow, exceptions and revisions,
with the management-information caveat; HTML and plain text. Sends it to the board list through the
`smtp_default` Airflow connection, once per recipient and period (the email log stops a re-run from
sending it again). The digest is judged as of the run's scheduled time. On a bank holiday there
is no meeting and the run is skipped. A run not finished 20 minutes after it was queued emails the
operations list (Airflow deadline alert).

**Owner.** GM primary care data team (`gm-primary-care-data`).

**When it fails.** Retries with backoff, then emails the operations list. If the board meeting is
close, build and check it by hand: `surgehub digest --kind board --as-of <time> --out DIR`, then
clear the task: recipients already logged as sent are skipped.
"""

from __future__ import annotations

from airflow.sdk import DAG, CronTriggerTimetable, task

from surgehub.config import load_settings
from surgehub.orchestration.dag_support import Tag, board_digest_cron, default_args, late_run_deadline

settings = load_settings()  # once per parse: times, people and thresholds from the YAML file

with DAG(
    dag_id="surgehub_board_digest",
    schedule=CronTriggerTimetable(board_digest_cron(settings), timezone="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(settings),
    deadline=late_run_deadline("surgehub_board_digest", minutes=20),
    tags=[Tag.BOARD, Tag.EMAIL],
    doc_md=__doc__,
):

    @task
    def send_board_digest(**context) -> dict:
        from surgehub.orchestration import tasks
        from surgehub.resources import Resources

        resources = Resources.from_env()
        run_at = tasks.run_time(context, resources)
        tasks.skip_unless_working_day(run_at, resources)
        return tasks.send_digest("board", run_at, resources)

    send_board_digest()
