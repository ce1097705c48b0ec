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
several files; each is handled on its own, so one bad file never holds up the others. Updates the
`surgehub_hub_days` asset, which triggers `surgehub_rag`.

A manual run with `{"files": [{"path", "locality", "received_at"}]}` as conf ingests those files
(paths directly inside a locality folder only); with no conf it takes every complete file in the
landing zone. Either way a file changed within the quiet period is waited for once, then left for the
watcher if it is still changing (listed under `left` in the task's result).

**Owner.** GM primary care data team (`gm-primary-care-data`).

**When it fails.** Tasks retry with backoff, then the operations list gets an email. A failed
`ingest_returns` leaves nothing half-loaded (one transaction per return) and files stay in landing;
`check_every_file_acknowledged` fails the run when a file could not be archived or loaded (it stays in
landing, unacknowledged). A retry recognises what an earlier attempt already loaded (a replay: nothing is
written twice) and still recomputes RAG for those days. Two runs may take the same file at once; the
one that records it second answers with the first's record, and a file that leaves landing while a
run reads it is the other run's, not a failure. A receipt that cannot be sent from `ingest_returns` (SMTP down or
refusing) is logged and left to `send_receipts`: it never fails the ingest. `send_receipts` runs even
when the ingest failed, for what was handled, and sends any earlier receipt that failed:
fix the cause (warehouse reachable? `surgehub health`) and clear the task. A failed `send_receipts`
means the SMTP relay refused: receipts already logged as sent are not sent again on retry.
"""

from __future__ import annotations

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
    schedule=[landing],
    catchup=False,
    max_active_runs=4,
    default_args=default_args(settings),
    tags=[Tag.INTAKE, Tag.WAREHOUSE, Tag.EMAIL],
    doc_md=__doc__,
):

    @task(inlets=[landing], outlets=[HUB_DAYS], pool="surgehub_warehouse")
    def ingest_returns(**context):
        from airflow.sdk import Metadata

        from surgehub.orchestration import tasks
        from surgehub.resources import Resources

        resources = Resources.from_env()
        files = tasks.files_from_context(context, resources, context["asset_state_store"][landing])
        result = tasks.ingest_files(files, resources)
        # The quick path; never fails the ingest (send_receipts retries).
        tasks.send_receipts_from_ingest(result, resources)
        yield Metadata(HUB_DAYS, extra={"days": result["days"]})
        return result

    @task(trigger_rule="all_done")
    def send_receipts(result: dict | None) -> int:
        from surgehub.orchestration import tasks
        from surgehub.resources import Resources

        return tasks.send_receipts(result, Resources.from_env())

    @task
    def check_every_file_acknowledged(result: dict) -> None:
        from surgehub.orchestration import tasks

        tasks.raise_for_unacknowledged(result)

    # TaskFlow hands each task the upstream XComArg, resolved to its value when the task runs.
    ingested = ingest_returns()
    send_receipts(ingested)  # pyright: ignore[reportArgumentType]
    check_every_file_acknowledged(ingested)  # pyright: ignore[reportArgumentType]
