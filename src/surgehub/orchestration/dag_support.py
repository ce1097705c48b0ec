"""What every surgehub DAG shares: assets, default_args, tags and the failure alert. Light to import.

DAG files import this at parse time, so it must not import pandas, Great Expectations, SQLAlchemy
engines or anything that touches the network or the database. Each DAG file loads its settings once
(the YAML file: people, times, thresholds) and passes them to the helpers here.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset

if TYPE_CHECKING:
    from surgehub.config import Settings

OWNER = "gm-primary-care-data"

#: The warehouse's hub-day versions changed (new accepted rows). extra: {"days": [...], "submissions": [...]}
HUB_DAYS = Asset(name="surgehub_hub_days", uri="surgehub://warehouse/hub_day_version")
#: The landing zone (files arriving from localities); its watcher lives in the ingest DAG file.
LANDING_NAME = "surgehub_landing"
LANDING_URI = "surgehub://landing"


class Tag(StrEnum):
    INTAKE = "intake"
    WAREHOUSE = "warehouse"
    RAG = "rag"
    EMAIL = "email"
    BOARD = "board"
    OPERATIONS = "operations"


#: How long one task may run before Airflow stops it (the slowest, an ingest of a large backfill-size
#: batch, takes about a minute; a hung SMTP relay or database must not hold a pool slot for ever).
TASK_TIMEOUT = timedelta(minutes=30)


def default_args(settings: Settings) -> dict[str, Any]:
    """Owner, a timeout, retries with exponential backoff, and an email to the operations list on failure."""
    return {
        "owner": OWNER,
        "execution_timeout": TASK_TIMEOUT,
        # SURGEHUB_TASK_RETRIES lets the one-shot demo fail fast; live and production use the default.
        "retries": int(os.environ.get("SURGEHUB_TASK_RETRIES", "3")),
        "retry_delay": timedelta(seconds=20),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
        "on_failure_callback": failure_alert(settings),
    }


def failure_alert(settings: Settings) -> Any:
    """An SmtpNotifier that tells the operations list a task failed for good (after its retries)."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    recipients = list(settings.email.operations) or ["root@localhost"]
    return SmtpNotifier(
        to=recipients,
        from_email=settings.email.sender,
        smtp_conn_id=settings.email.smtp_conn_id,
        subject="[surgehub] task failed: {{ ti.dag_id }}.{{ ti.task_id }}",
        html_content=(
            "<p>Task <b>{{ ti.task_id }}</b> of DAG <b>{{ ti.dag_id }}</b> failed after its retries "
            "(run {{ run_id }}). See the DAG's documentation for what to do, and the task log.</p>"
        ),
    )


def landing_dir(settings: Settings) -> str:
    return str(settings.landing_dir)


#: How often the landing-zone watcher looks at the landing folders, in seconds (the default).
LANDING_POLL_SECONDS = 1.0


def landing_poll_seconds() -> float:
    """The landing watcher's poll interval: ``SURGEHUB_LANDING_POLL_SECONDS``, else 1 s.

    A file renamed in is announced at the next look after its rename event (at once where the file
    system reports renames); any other file once unchanged for ``limits.landing_quiet_seconds``, so
    the poll only sets how promptly that is noticed (and how soon a share without events is seen).
    Read when the DAG file is parsed (the trigger carries it).
    """
    text = os.environ.get("SURGEHUB_LANDING_POLL_SECONDS", "").strip()
    if not text:
        return LANDING_POLL_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0.2 <= seconds <= 60:  # also rejects nan
        raise ValueError(
            f"SURGEHUB_LANDING_POLL_SECONDS must be a number of seconds from 0.2 to 60, not {text!r}"
        )
    return seconds


def _cron_at(at: time, days: str) -> str:
    return f"{at.minute} {at.hour} * * {days}"


def close_cron(settings: Settings) -> str:
    """Each working-day close (Mon–Fri; bank holidays are skipped inside the task)."""
    return _cron_at(settings.timeliness.close, "MON-FRI")


def board_digest_cron(settings: Settings) -> str:
    schedule = settings.schedule
    return _cron_at(schedule.board_digest_time, ",".join(schedule.board_digest_days))


def chase_crons(settings: Settings) -> list[str]:
    """The reminder time and the deadline, on Monday to Friday (bank holidays skipped in the task)."""
    return [
        _cron_at(settings.schedule.reminder, "MON-FRI"),
        _cron_at(settings.timeliness.deadline, "MON-FRI"),
    ]


def daily_summary_cron(settings: Settings) -> str:
    close = datetime.combine(date(2000, 1, 1), settings.timeliness.close)
    at = close + timedelta(minutes=settings.schedule.daily_summary_after_close_minutes)
    return _cron_at(at.time(), "MON-FRI")


def scheduled_dag(
    dag_id: str,
    crons: list[str],
    settings: Settings,
    *,
    description: str,
    tags: list[Tag],
    doc_md: str | None,
    deadline_minutes: int,
    run_timeout: timedelta = timedelta(hours=1),
) -> Any:
    """A DAG run on cron times (Europe/London), one run at a time, no catch-up, the shared default_args,
    a run timeout, and a deadline alert ``deadline_minutes`` after a run is queued (the operations list
    hears when it is late). Use it as a context manager in the DAG file, as one would ``DAG(...)``."""
    from airflow.sdk import DAG, CronTriggerTimetable, MultipleCronTriggerTimetable

    timetable = (
        CronTriggerTimetable(crons[0], timezone="Europe/London")
        if len(crons) == 1
        else MultipleCronTriggerTimetable(*crons, timezone="Europe/London")
    )
    return DAG(
        dag_id=dag_id,
        description=description,
        schedule=timetable,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=run_timeout,
        default_args=default_args(settings),
        deadline=late_run_deadline(dag_id, minutes=deadline_minutes),
        tags=list(tags),
        doc_md=doc_md,
    )


def late_run_deadline(dag_id: str, minutes: int) -> Any:
    """An Airflow deadline alert: tell the operations list when a run has not finished in time.

    ``SURGEHUB_DEADLINE_ALERTS=off`` leaves it out: one-shot ``dag.test()`` runs (the demo) skip deadline
    alerts anyway, and in Airflow 3.3.2 a DAG with one fails at the end of ``dag.test()`` (it looks the
    alert up by the alert object instead of its id).
    """
    # airflow.sdk re-exports these lazily (invisible to type checkers): import them from where they live.
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    if os.environ.get("SURGEHUB_DEADLINE_ALERTS", "on").lower() in {"off", "0", "false"}:
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=minutes),
        callback=AsyncCallback("surgehub.orchestration.alerts.late_run_alert", kwargs={"dag_id": dag_id}),
    )
