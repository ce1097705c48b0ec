"""
### surgehub_ingest — take each locality return the moment it lands

**Purpose.** Each file that appears in a locality's landing folder (`landing/<sub_icb_code>/`) is an
asset event from the landing-zone watcher (`plugins/landing_trigger.py`, looking every
`SURGEHUB_LANDING_POLL_SECONDS`, 1 s by default). Only regular files directly in the folder are taken
(a link, folder or pipe is moved to `rejected/` unread and the locality told), and only when complete:
renamed in (taken at once, from inotify events) or unchanged for `limits.landing_quiet_seconds`
(10 s); names ending `.part`, `.partial`, `.tmp`, `.filepart` or starting with `.` are waited for. Each
file is read through `O_NOFOLLOW` and must still have the size and modification time it had when
judged complete; a file over the size limit is hashed unread and refused (F01). Every parse runs in a
child process with memory and time limits (docs/intake.md). This DAG validates every file against the common specification (Great Expectations plus the
spec's own rules), loads accepted returns into the warehouse as new hub-day versions in one
transaction each, archives every file, moves it to `processed/` or `rejected/` (a file that fails R16 goes to the
quarantine only: its original is deleted from landing), and emails the
locality its receipt: accepted, or every error with its rule, row, column and fix. The receipts go
out from the end of `ingest_returns` itself; `send_receipts` then sweeps the outbox, sending whatever
is still unsent (a receipt the email log holds as sent is never sent again). One run may carry
several files; each is handled on its own, so one bad file never holds up the others. When it loaded
something, `announce_loaded_days` updates the `surgehub_hub_days` asset with the days it touched,
which triggers `surgehub_rag` (a run that only rejected files triggers nothing). Each validation's
Great Expectations result is stored under the data folder (`gx/`), and `build_data_docs` rebuilds the
GX Data Docs once per run for the days it received returns on (docs/gx.md; also `surgehub gx-docs
build`).

A manual run with `{"files": [{"path", "locality", "received_at"}]}` as conf ingests those files
(paths directly inside a locality folder only); with no conf it takes every complete file in the
landing zone. Either way a file changed within the quiet period is waited for once, then left for the
watcher if it is still changing (listed under `left` in the task's result).

**Owner.** GM primary care data team (`gm-primary-care-data`).

**When it fails.** Each task retries with backoff (`check_every_file_acknowledged`, a check that
would fail the same way again, does not); after the last retry the operations list gets an email,
and one 10 minutes after queueing if the run is still going. Nothing is ever half-loaded (one
transaction per return), and a retry recognises what an earlier attempt loaded (a replay: nothing is
written twice, and RAG is still recomputed for those days). Then:

1. See which task failed. `check_every_file_acknowledged`: a file could not be archived or loaded
   and stays in landing, unacknowledged; the message names it. `ingest_returns`: the warehouse or
   the archive folder is the usual cause. `send_receipts`: the SMTP relay refused.
   `build_data_docs`: the data folder's `gx/` is not writable (nothing else depends on it; rebuild
   later with `surgehub gx-docs build`).
2. Check the parts: `surgehub health` (warehouse, migrations, landing zone), the archive folder's
   permissions, the `smtp_default` connection.
3. Fix the cause and clear the failed task. Files still in landing are taken again; receipts the
   email log holds as sent are not sent again.
4. Two runs may take the same file at once: the second answers with the first's record, and a file
   that leaves landing while a run reads it is the other run's, not a failure to chase.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Asset, AssetWatcher, task
from landing_trigger import LandingZoneTrigger

from surgehub.config import load_settings
from surgehub.orchestration.dag_support import (
    HUB_DAYS,
    LANDING_NAME,
    LANDING_URI,
    Tag,
    default_args,
    landing_dir,
    landing_poll_seconds,
    late_run_deadline,
)

settings = load_settings()  # once per parse: times, people and thresholds from the YAML file

landing = Asset(
    name=LANDING_NAME,
    uri=LANDING_URI,
    watchers=[
        AssetWatcher(
            name="surgehub_landing_watcher",
            trigger=LandingZoneTrigger(
                landing_dir(settings),
                poll_interval=landing_poll_seconds(),
                quiet_seconds=settings.limits.landing_quiet_seconds,
            ),
        )
    ],
)

with DAG(
    dag_id="surgehub_ingest",
    description="Validate, load, archive and acknowledge each return the moment it lands",
    schedule=[landing],
    catchup=False,
    max_active_runs=4,
    dagrun_timeout=timedelta(hours=1),
    default_args=default_args(settings),
    deadline=late_run_deadline("surgehub_ingest", minutes=10),
    tags=[Tag.INTAKE, Tag.WAREHOUSE, Tag.EMAIL],
    doc_md=__doc__,
):

    @task(inlets=[landing], pool="surgehub_warehouse", multiple_outputs=False)
    def ingest_returns(**context) -> dict:
        from surgehub.orchestration import tasks
        from surgehub.resources import Resources

        resources = Resources.from_env()
        files = tasks.files_from_context(
            context, resources, context["asset_state_store"][landing], context["inlet_events"][landing]
        )
        result = tasks.ingest_files(files, resources)
        # The quick path; never fails the ingest (send_receipts retries).
        tasks.send_receipts_from_ingest(result, resources)
        return result

    @task(outlets=[HUB_DAYS])
    def announce_loaded_days(result: dict):
        """Only accepted loads update surgehub_hub_days (a skipped task emits no asset event)."""
        from airflow.sdk import Metadata

        from surgehub.orchestration import tasks

        yield Metadata(HUB_DAYS, extra=tasks.loaded_days_or_skip(result))

    @task(trigger_rule="all_done")
    def send_receipts(result: dict | None) -> int:
        from surgehub.orchestration import tasks
        from surgehub.resources import Resources

        return tasks.send_receipts(result, Resources.from_env())

    @task(multiple_outputs=False)
    def build_data_docs(result: dict) -> dict | None:
        from surgehub.orchestration import tasks
        from surgehub.resources import Resources

        return tasks.build_data_docs(result, Resources.from_env())

    @task(retries=0)  # deterministic: a retry would fail the same way
    def check_every_file_acknowledged(result: dict) -> None:
        from surgehub.orchestration import tasks

        tasks.raise_for_unacknowledged(result)

    # TaskFlow hands each task the upstream XComArg, resolved to its value when the task runs.
    ingested = ingest_returns()
    announce_loaded_days(ingested)  # pyright: ignore[reportArgumentType]
    send_receipts(ingested)  # pyright: ignore[reportArgumentType]
    check_every_file_acknowledged(ingested)  # pyright: ignore[reportArgumentType]
    build_data_docs(ingested)  # pyright: ignore[reportArgumentType]
