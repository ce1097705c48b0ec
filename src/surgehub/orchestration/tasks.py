"""The bodies of the DAGs' tasks: plain functions over plain values, importing heavy modules lazily.

Each DAG task is a two-line call into here, so everything below can be tested without a scheduler.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from surgehub import clock
from surgehub.config import Settings, load_settings

log = logging.getLogger(__name__)


# -- ingest ------------------------------------------------------------------------------------


def files_from_context(context: Any, landing_state: Any = None) -> list[dict[str, Any]]:
    """The files a run should ingest: from the landing watcher's events, else ``conf["files"]``.

    Each item is ``{"path", "locality", "received_at"}``. With ``landing_state`` (the landing asset's
    state store), every other ready file that the watcher has already announced is taken too, with
    the first-seen time it recorded: asset events that land within the same instant can be folded
    into one run's queue entry, and a file must never wait for the next arrival to be processed.
    A run with no events and no conf (a manual trigger) takes every ready file, received now.
    """
    from surgehub.landing import scan

    files: list[dict[str, Any]] = []
    events = context.get("triggering_asset_events") or {}
    for _asset, asset_events in dict(events).items():
        for event in asset_events:
            payload = (event.extra or {}).get("payload") or {}
            if "path" in payload:
                files.append(
                    {
                        "path": payload["path"],
                        "locality": payload["locality"],
                        "received_at": payload.get("first_seen") or clock.now().isoformat(),
                    }
                )
    dag_run = context.get("dag_run")
    conf = (getattr(dag_run, "conf", None) or {}) if dag_run is not None else {}
    files.extend(conf.get("files") or [])
    if conf.get("files"):
        return files
    ready = scan(load_settings().landing_dir)
    if not files and not events:
        received = clock.now().isoformat()
        return [{"path": str(f.path), "locality": f.locality, "received_at": received} for f in ready]
    if landing_state is not None:
        named = {str(Path(f["path"])) for f in files}
        for landed in ready:
            if str(landed.path) in named:
                continue
            first_seen = landing_state.get(landed.state_key)
            if first_seen:
                log.info("%s was announced but not in this run's events: taken too", landed.path)
                files.append(
                    {"path": str(landed.path), "locality": landed.locality, "received_at": first_seen}
                )
    return files


def ingest_files(files: list[dict[str, Any]], settings: Settings | None = None) -> dict[str, Any]:
    """Ingest each file on its own, move it to processed/ or rejected/, and say what changed."""
    from surgehub.api.submissions import api_receipt_for
    from surgehub.ingest import IncomingReturn, ingest_returns
    from surgehub.landing import move_done
    from surgehub.warehouse.db import ensure_warehouse, get_engine

    settings = settings or load_settings()
    engine = ensure_warehouse(get_engine(settings.warehouse_url))
    items = []
    for f in files:
        path = Path(f["path"])
        if not path.exists():
            log.warning("%s is no longer in the landing zone (already handled?): skipped", path)
            continue
        locality = str(f["locality"]).upper()
        # A file the submission API handed over keeps the API's receipt time and the sender's name (spec §4).
        receipt = api_receipt_for(path, locality, engine)
        items.append(
            IncomingReturn(
                path=path,
                locality=locality,
                channel="api" if receipt else str(f.get("channel", "folder")),
                received_at=receipt.received_at if receipt else clock.parse_instant(str(f["received_at"])),
                file_name=receipt.file_name if receipt else path.name,
            )
        )
    outcomes = ingest_returns(items, settings=settings, engine=engine)
    from surgehub.orchestration.pause import pause_point

    pause_point("ingest.after_load")  # the stack test kills the worker here (loaded, not yet moved)
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    days: set[str] = set()
    for item, outcome in zip(items, outcomes, strict=True):
        accepted = outcome.status == "accepted"
        moved = item.path
        if outcome.status not in ("accepted", "rejected") and not item.path.exists():
            # Gone from landing while this run read it: an overlapping run took it (and acknowledged
            # it); a retry would skip it too, so it is not this run's failure.
            log.warning("%s left the landing zone while this run read it: handled by another run", item.path)
        elif outcome.status not in ("accepted", "rejected"):
            # Not acknowledged (e.g. the archive could not be written): it stays in landing for a retry.
            failures.append(f"{item.path.name} from {outcome.locality}: {getattr(outcome, 'error', None)}")
        elif item.path.parent.parent == settings.landing_dir:
            try:
                moved = move_done(item.path, accepted)
            except FileNotFoundError:  # another run moved it first
                log.info("%s was already moved by another run", item.path)
        frame = outcome.validation.frame
        if accepted and not outcome.duplicate and frame is not None:
            days.update(str(d)[:10] for d in frame["activity_date"].unique())  # date or Timestamp
        elif accepted and getattr(outcome, "replayed", False) and outcome.submission_id is not None:
            # Loaded by an earlier attempt that may have died before RAG was recomputed (e.g. the
            # scheduler was killed mid-run): its days are recomputed again, which is idempotent.
            days.update(_loaded_days(engine, outcome.submission_id))
        results.append(
            {
                "submission_id": outcome.submission_id,
                "locality": outcome.locality,
                "status": outcome.status,
                "duplicate": outcome.duplicate,
                "errors": len(outcome.validation.errors),
                "warnings": len(outcome.validation.warnings),
                "file": item.path.name,
                "received_at": item.received_at.isoformat(),
                "moved_to": str(moved),
            }
        )
        log.info(
            "%s from %s: %s%s, %d error(s), %d warning(s)",
            item.path.name,
            outcome.locality,
            outcome.status,
            " (duplicate)" if outcome.duplicate else "",
            len(outcome.validation.errors),
            len(outcome.validation.warnings),
        )
    return {"submissions": results, "days": sorted(days), "failures": failures}


def _loaded_days(engine: Any, submission_id: int) -> set[str]:
    """The activity days (ISO) a loaded submission has versions for."""
    from sqlalchemy import select

    from surgehub.warehouse.tables import hub_day_version as v

    with engine.connect() as connection:
        found = connection.execute(
            select(v.c.activity_date).where(v.c.submission_id == submission_id).distinct()
        ).scalars()
        return {str(day)[:10] for day in found}


#: How long the sweep waits for the receipt lock (held for one message at a time) before failing to retry.
SWEEP_LOCK_TIMEOUT_S = 120.0
#: How long the ingest task waits for it before leaving its receipts to the sweep.
INGEST_LOCK_TIMEOUT_S = 5.0


def _receipt_mails(
    engine: Any, ids: set[int], entries: list[dict[str, Any]], settings: Settings
) -> list[Any]:
    from surgehub.mail.receipts import receipt_mails

    duplicates = [e for e in entries if e.get("duplicate") and e.get("submission_id")]
    return receipt_mails(engine, sorted(ids), settings, duplicates=duplicates)


def _own_receipt_ids(entries: list[dict[str, Any]]) -> set[int]:
    return {e["submission_id"] for e in entries if e.get("submission_id") and not e.get("duplicate")}


def send_receipts_from_ingest(result: dict[str, Any], settings: Settings | None = None) -> int:
    """Email the receipts of this run's submissions from the end of the ingest task; never raise.

    The quick path: the locality hears back without waiting for the ``send_receipts`` task to be
    scheduled. Each receipt is sent under the receipt lock and the email log's send-once rule, so the
    sweep never sends it again. Any failure (SMTP down or refusing, the lock busy, the warehouse
    unreachable) is logged and left to the sweep, which retries with backoff: it never fails the
    ingest. Gives up at the first refused message. Returns how many receipts went out.
    """
    from surgehub.mail.send import MailDeliveryError
    from surgehub.orchestration.outbox import ReceiptLockBusy, send_receipts_once
    from surgehub.warehouse.db import get_engine

    entries = result.get("submissions") or []
    try:
        settings = settings or load_settings()
        engine = get_engine(settings.warehouse_url)
        mails = _receipt_mails(engine, _own_receipt_ids(entries), entries, settings)
        deliveries = send_receipts_once(
            engine,
            mails,
            smtp_conn_id=settings.email.get("smtp_conn_id", "smtp_default"),
            lock_timeout=INGEST_LOCK_TIMEOUT_S,
            stop_at_first_failure=True,
        )
    except (MailDeliveryError, ReceiptLockBusy) as exc:
        log.warning("receipts not all sent from the ingest task; send_receipts will retry: %s", exc)
        return 0
    except Exception:  # never fail (or retry) an ingest that has stored its returns because of mail
        log.exception("receipts not sent from the ingest task; send_receipts will retry")
        return 0
    sent = sum(d.result == "sent" for d in deliveries)
    log.info("%d receipt(s) sent from the ingest task", sent)
    return sent


def send_receipts(result: dict[str, Any] | None, settings: Settings | None = None) -> int:
    """The outbox sweep: email every receipt of ``result`` and of any recent submission not yet logged as sent.

    Runs after the ingest task, even when it failed (``result`` is then None): receipts for what was
    handled before the failure still go out, and a receipt that failed to send earlier (from the
    ingest task or an earlier sweep) is sent now. Receipts the ingest task already sent are logged
    as sent and not sent again. Returns how many receipt messages were due (sent now or before).
    """
    from surgehub.mail.receipts import pending_receipt_ids
    from surgehub.orchestration.outbox import send_receipts_once
    from surgehub.warehouse.db import get_engine

    settings = settings or load_settings()
    engine = get_engine(settings.warehouse_url)
    entries = (result or {}).get("submissions", [])
    ids = _own_receipt_ids(entries)
    ids |= set(pending_receipt_ids(engine, since=clock.now() - timedelta(days=2)))
    mails = _receipt_mails(engine, ids, entries, settings)
    send_receipts_once(
        engine,
        mails,
        smtp_conn_id=settings.email.get("smtp_conn_id", "smtp_default"),
        lock_timeout=SWEEP_LOCK_TIMEOUT_S,
    )
    return len(mails)


def raise_for_unacknowledged(result: dict[str, Any]) -> None:
    """Fail (so the operations list is told) when a file could not be archived or loaded."""
    failures = result.get("failures") or []
    if failures:
        raise RuntimeError(
            f"{len(failures)} file(s) were not acknowledged and stay in landing for a retry: "
            + "; ".join(failures)
        )


# -- RAG ---------------------------------------------------------------------------------------


def days_to_recompute(context: Any, as_of: datetime, settings: Settings) -> list[date]:
    """Days named by the triggering events or conf; otherwise the revision window up to yesterday."""
    days: set[date] = set()
    for _asset, asset_events in dict(context.get("triggering_asset_events") or {}).items():
        for event in asset_events:
            days.update(date.fromisoformat(d) for d in (event.extra or {}).get("days", []))
    dag_run = context.get("dag_run")
    conf = (getattr(dag_run, "conf", None) or {}) if dag_run is not None else {}
    days.update(date.fromisoformat(d) for d in conf.get("days") or [])
    if not days:
        today = clock.london_day(as_of)
        days = {today - timedelta(days=n) for n in range(1, settings.revision_window_days + 2)}
    return sorted(d for d in days if settings.season_start <= d <= settings.season_end)


def recompute_rag(days: list[date], as_of: datetime, settings: Settings | None = None) -> list[str]:
    """Compute and store RAG for each day as of ``as_of``; the day after a day also moves (escalation)."""
    from surgehub.rag import compute_rag, store_rag
    from surgehub.warehouse.db import get_engine

    settings = settings or load_settings()
    engine = get_engine(settings.warehouse_url)
    affected = sorted(set(days) | {d + timedelta(days=1) for d in days if d < clock.london_day(as_of)})
    for day in affected:
        store_rag(engine, compute_rag(engine, day, as_of, settings))
    return [d.isoformat() for d in affected]


# -- digests -----------------------------------------------------------------------------------


def send_digest(kind: str, as_of: datetime, settings: Settings | None = None) -> dict[str, Any]:
    """Build the board or daily digest as of a time and send it to its list, once per recipient."""
    from surgehub.digest.build import build_digest, digest_mails
    from surgehub.mail.send import send_all
    from surgehub.warehouse.db import get_engine

    settings = settings or load_settings()
    engine = get_engine(settings.warehouse_url)
    digest = build_digest(engine, kind, as_of, settings)
    mails = digest_mails(digest, settings)
    deliveries = send_all(engine, mails, smtp_conn_id=settings.email.get("smtp_conn_id", "smtp_default"))
    return {
        "period": digest.period_key,
        "sent": sum(d.result == "sent" for d in deliveries),
        "already_sent": sum(d.result == "already_sent" for d in deliveries),
    }


def run_time(context: Any) -> datetime:
    """The instant a scheduled run stands for (its slot), else the injected clock's now."""
    dag_run = context.get("dag_run")
    for attribute in ("logical_date", "run_after"):
        value = getattr(dag_run, attribute, None) if dag_run is not None else None
        if value is not None:
            return value.astimezone(UTC)
    return clock.now()


# -- chasing and summaries -----------------------------------------------------------------------


def chase_localities(run_at: datetime, settings: Settings | None = None) -> dict[str, Any]:
    """Send the reminder or chaser to each locality that still owes hub-days due today."""
    from surgehub.chase import chase_mails
    from surgehub.mail.send import send_all
    from surgehub.warehouse.db import get_engine

    settings = settings or load_settings()
    engine = get_engine(settings.warehouse_url)
    kind, mails = chase_mails(engine, run_at, settings)
    send_all(engine, mails, smtp_conn_id=settings.email.get("smtp_conn_id", "smtp_default"))
    return {
        "kind": kind,
        "emails": len(mails),
        "localities": sorted({m.period_key.split(":")[-1] for m in mails}),
    }


def skip_unless_working_day(run_at: datetime, settings: Settings | None = None) -> None:
    """Raise Airflow's skip for a run that falls on a weekend or bank holiday (spec §4 working days)."""
    from surgehub.timeliness import is_working_day

    settings = settings or load_settings()
    day = clock.london_day(run_at)
    if not is_working_day(day, settings):
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(f"{day} is not a working day: nothing is due")


def purge_quarantine(run_at: datetime, settings: Settings | None = None) -> dict[str, Any]:
    """Delete quarantined (R16) files received more than the retention period before ``run_at`` (spec §4).

    Logs and returns how many, never their names: a submitter's file name is not repeated anywhere.
    """
    from surgehub import archive

    settings = settings or load_settings()
    days = int(settings.raw["limits"]["quarantine_retention_days"])
    deleted = archive.purge(settings.quarantine_dir, days, run_at)
    log.info("quarantine: %d file(s) older than %d days deleted", len(deleted), days)
    return {"deleted": len(deleted), "retention_days": days}
