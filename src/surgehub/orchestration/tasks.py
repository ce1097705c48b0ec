"""The bodies of the DAGs' tasks: plain functions over plain values, importing heavy modules lazily.

Each DAG task builds its `Resources` once (``Resources.from_env()``: settings, warehouse engine and
clock) and makes a short call into here, so everything below can be tested without a scheduler.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from surgehub import clock
from surgehub.landing import plain_name, shown

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import Engine

    from surgehub.mail.compose import Mail
    from surgehub.resources import Resources

#: What an ingest run reports: {"submissions", "days", "failures", "refused", "left"} (JSON for XCom).
IngestResult = dict[str, Any]

log = logging.getLogger(__name__)


# -- ingest ------------------------------------------------------------------------------------


def files_from_context(
    context: Mapping[str, Any], resources: Resources, landing_state: Any = None, landing_events: Any = None
) -> list[dict[str, Any]]:
    """The files a run should ingest: from the landing watcher's events, else ``conf["files"]``.

    Each item is ``{"path", "locality", "received_at"}``, with ``"size"`` and ``"mtime_ns"`` when the
    watcher judged it complete (it must still be so when read), or ``"refused"`` (a link, or not a
    regular file: never read, the locality is told). With ``landing_state`` (the landing asset's state
    store), every other file that the watcher has already announced is taken too, with the first-seen
    time it recorded: asset events that land within the same instant can be folded into one run's
    queue entry, and a file must never wait for the next arrival to be processed. With
    ``landing_events`` (the landing asset's inlet events), that time is first looked for in its
    latest ``RECENT_EVENTS`` events, read in one request (each event carries the file's first-seen
    time, as its state entry does); only a file not found there is looked up in the state store, one
    request each (in a burst that was ~40 ms a file of the single writer's time).
    A run with no events and no conf (a manual trigger) takes what the landing zone holds, received
    now: complete files only (`surgehub.orchestration.intake`), and refuses links and the like.
    """
    from surgehub.landing import survey

    files: list[dict[str, Any]] = []
    events = context.get("triggering_asset_events") or {}
    for _asset, asset_events in dict(events).items():
        for event in asset_events:
            payload = (event.extra or {}).get("payload") or {}
            if "path" in payload:
                entry = {
                    k: payload[k]
                    for k in ("path", "locality", "size", "mtime_ns", "refused", "key")
                    if k in payload
                }
                entry["received_at"] = payload.get("first_seen") or resources.clock.now().isoformat()
                files.append(entry)
    dag_run = context.get("dag_run")
    conf = (getattr(dag_run, "conf", None) or {}) if dag_run is not None else {}
    files.extend(conf.get("files") or [])
    if conf.get("files"):
        return files
    from surgehub.warehouse.register import locality_codes

    found = survey(resources.settings.landing_dir, locality_codes(resources.engine))
    if found.unfiled:  # never taken: the folder says whose a return is
        from surgehub.landing import unfiled_message

        log.warning("%s", unfiled_message(found.unfiled, resources.settings.landing_dir))
    if not files and not events:
        received = resources.clock.now().isoformat()
        return [
            {"path": str(f.path), "locality": f.locality, "received_at": received} for f in found.files
        ] + [
            {
                "path": str(r.path),
                "locality": r.locality,
                "received_at": received,
                "refused": r.reason.value,
                "key": r.key,
            }
            for r in found.refused
        ]
    if landing_state is not None:
        named = {str(Path(f["path"])) for f in files}
        others = [landed for landed in found.files if str(landed.path) not in named]
        recent = (
            _first_seen_in_events(landing_events, len(others))
            if others and landing_events is not None
            else {}
        )
        for landed in others:
            first_seen = recent.get(landed.key) or landing_state.get(landed.state_key)
            if first_seen:
                log.info("%s was announced but not in this run's events: taken too", shown(landed.path))
                files.append(
                    {
                        "path": str(landed.path),
                        "locality": landed.locality,
                        "received_at": first_seen,
                        "size": landed.size,
                        "mtime_ns": landed.mtime_ns,
                    }
                )
    return files


#: At most how many of the landing asset's latest events a run reads (in one request) for the first-seen
#: times of the files it takes beyond its own events: twice those files and 100 more, up to this.
RECENT_EVENTS = 5_000


def _first_seen_in_events(landing_events: Any, files: int) -> dict[str, str]:
    """``LandedFile.key`` (path, size, modification time) → when the watcher first saw that file, from
    the landing asset's latest events, newest first (the newest announcement of a key is the one its
    state entry holds). Empty when they cannot be read: each file is then looked up alone."""
    found: dict[str, str] = {}
    try:
        for event in landing_events.ascending(False).limit(min(RECENT_EVENTS, 2 * files + 100)):
            payload = (event.extra or {}).get("payload") or {}
            if payload.get("first_seen") and {"path", "size", "mtime_ns"} <= payload.keys():
                found.setdefault(
                    f"{payload['path']}|{payload['size']}|{payload['mtime_ns']}", payload["first_seen"]
                )
    except Exception:  # the events are a shortcut; the state store is the record
        log.warning(
            "could not read the landing asset's recent events: each file is looked up alone", exc_info=True
        )
        return {}
    return found


def ingest_files(files: list[dict[str, Any]], resources: Resources) -> IngestResult:
    """Take each complete file safely, ingest it on its own, move it on, and say what changed.

    Accepted → ``processed/``; rejected → ``rejected/``; R16 → deleted from landing (its copy is in
    the quarantine, and only there). Refused entries (links, not regular files) are moved to
    ``rejected/`` unread and listed under ``"refused"`` for the locality's notice.
    """
    from surgehub.ingest import IngestStatus, ingest_returns
    from surgehub.landing import move_done, remove_original
    from surgehub.orchestration.intake import take
    from surgehub.orchestration.pause import pause_point
    from surgehub.returns.guard import prestart
    from surgehub.warehouse import submissions

    prestart()  # the reader's child process starts while the validation stack is imported here
    settings = resources.settings
    engine = resources.warehouse()
    intake = take(files, resources)
    items = intake.items
    outcomes = ingest_returns(items, resources)
    # The stack test holds the task here (loaded and committed, files still in landing) to kill it.
    pause_point("ingest.after_load")
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    days: set[str] = set()
    for item, outcome in zip(items, outcomes, strict=True):
        accepted = outcome.status is IngestStatus.ACCEPTED
        moved: Path | None = item.path
        if outcome.status is IngestStatus.ERROR and not item.path.exists():
            # Gone from landing while this run read it: an overlapping run took it (and acknowledged
            # it); a retry would skip it too, so it is not this run's failure.
            log.warning(
                "%s left the landing zone while this run read it: handled by another run", shown(item.path)
            )
        elif outcome.status is IngestStatus.ERROR:
            # Not acknowledged (e.g. the archive could not be written): it stays in landing for a retry.
            failures.append(f"{shown(item.path.name)} from {outcome.locality}: {outcome.error}")
        elif item.path.parent.parent == settings.landing_dir and outcome.quarantined:
            remove_original(item.path)  # spec §4: the original leaves landing for the quarantine only
            moved = None
        elif item.path.parent.parent == settings.landing_dir:
            try:
                moved = move_done(item.path, accepted)
            except FileNotFoundError:  # another run moved it first
                log.info("%s was already moved by another run", shown(item.path))
        frame = outcome.validation.frame
        if accepted and not outcome.duplicate and frame is not None:
            days.update(str(d)[:10] for d in frame["activity_date"].unique())  # date or Timestamp
        elif accepted and outcome.replayed and outcome.submission_id is not None:
            # Loaded by an earlier attempt that may have died before RAG was recomputed (e.g. the
            # scheduler was killed mid-run): its days are recomputed again, which is idempotent.
            days.update(d.isoformat() for d in submissions.loaded_days(engine, outcome.submission_id))
        results.append(
            {
                "submission_id": outcome.submission_id,
                "locality": outcome.locality,
                "status": outcome.status.value,
                "duplicate": outcome.duplicate
                and not outcome.replayed,  # a replay is the same receipt, not a resend
                "quarantined": outcome.quarantined,
                "errors": len(outcome.validation.errors),
                "warnings": len(outcome.validation.warnings),
                "file": plain_name(item.path.name),
                "received_at": item.received_at.isoformat(),
                "moved_to": None if moved is None else shown(moved),
            }
        )
        log.info(
            "%s from %s: %s%s, %d error(s), %d warning(s)",
            shown(item.path.name),
            outcome.locality,
            outcome.status,
            " (duplicate)" if outcome.duplicate else "",
            len(outcome.validation.errors),
            len(outcome.validation.warnings),
        )
    return {
        "submissions": results,
        "days": sorted(days),
        "failures": failures,
        "refused": intake.notices,
        "left": intake.left,
    }


def build_data_docs(result: IngestResult | None, resources: Resources) -> dict[str, Any] | None:
    """The GX Data Docs, once per ingest run: the pages of the runs holding returns received on the days
    this run received returns, GX's index and surgehub's page (docs/gx.md). None when the run validated
    nothing new (only replays or resends): nothing to show."""
    from surgehub.clock import LONDON
    from surgehub.gx.docs import build

    fresh = [
        s
        for s in (result or {}).get("submissions", [])
        if not s.get("duplicate") and s.get("status") != "error"
    ]
    if not fresh:
        return None
    days = sorted({datetime.fromisoformat(s["received_at"]).astimezone(LONDON).date() for s in fresh})
    engine = resources.warehouse()
    built = [build(resources.settings.home, day=day, engine=engine) for day in days]
    return {"index": str(built[-1].index), "page": str(built[-1].page), "days": [d.isoformat() for d in days]}


def send_notices(result: IngestResult | None, resources: Resources) -> int:
    """Tell each locality about what its landing folder held that was not taken (once each); never raise."""
    from surgehub.mail.refusals import notice_mails
    from surgehub.mail.send import send_all

    notices = (result or {}).get("refused") or []
    if not notices:
        return 0
    try:
        mails = notice_mails(notices, resources.settings, resources.engine)
        deliveries = send_all(
            resources.engine,
            mails,
            smtp_conn_id=resources.settings.email.smtp_conn_id,
            clock=resources.clock,
            timeout=resources.settings.email.smtp_timeout_seconds,
        )
    except Exception:  # a notice that fails is logged; the refused entry waits in rejected/ either way
        log.exception("notices about %d refused landing entr(ies) not all sent", len(notices))
        return 0
    return sum(d.result == "sent" for d in deliveries)


#: How long the sweep waits for the receipt lock (held for one message at a time) before failing to retry.
SWEEP_LOCK_TIMEOUT_S = 120.0
#: How long the ingest task waits for it before leaving its receipts to the sweep.
INGEST_LOCK_TIMEOUT_S = 5.0


def _receipt_mails(
    engine: Engine, ids: set[int], entries: list[dict[str, Any]], resources: Resources
) -> list[Mail]:
    from surgehub.mail.receipts import receipt_mails

    duplicates = [e for e in entries if e.get("duplicate") and e.get("submission_id")]
    return receipt_mails(engine, sorted(ids), resources.settings, duplicates=duplicates)


def _own_receipt_ids(entries: list[dict[str, Any]]) -> set[int]:
    return {e["submission_id"] for e in entries if e.get("submission_id") and not e.get("duplicate")}


def send_receipts_from_ingest(result: IngestResult, resources: Resources) -> int:
    """Email the receipts of this run's submissions from the end of the ingest task; never raise.

    The quick path: the locality hears back without waiting for the ``send_receipts`` task to be
    scheduled. Each receipt is sent under the receipt lock and the email log's send-once rule, so the
    sweep never sends it again. Any failure (SMTP down or refusing, the lock busy, the warehouse
    unreachable) is logged and left to the sweep, which retries with backoff: it never fails the
    ingest. Gives up at the first refused message. Returns how many receipts went out.
    """
    from surgehub.mail.send import MailDeliveryError
    from surgehub.orchestration.outbox import ReceiptLockBusy, send_receipts_once

    entries = result.get("submissions") or []
    try:
        engine = resources.engine
        mails = _receipt_mails(engine, _own_receipt_ids(entries), entries, resources)
        deliveries = send_receipts_once(
            engine,
            mails,
            smtp_conn_id=resources.settings.email.smtp_conn_id,
            clock=resources.clock,
            timeout=resources.settings.email.smtp_timeout_seconds,
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
    send_notices(result, resources)
    return sent


def send_receipts(result: IngestResult | None, resources: Resources) -> int:
    """The outbox sweep: email every receipt of ``result`` and of any recent submission not yet logged as sent.

    Runs after the ingest task, even when it failed (``result`` is then None): receipts for what was
    handled before the failure still go out, and a receipt that failed to send earlier (from the
    ingest task or an earlier sweep) is sent now. Receipts the ingest task already sent are logged
    as sent and not sent again. Returns how many receipt messages were due (sent now or before).
    """
    from surgehub.orchestration.outbox import send_receipts_once
    from surgehub.warehouse.email_log import pending_receipt_ids

    engine = resources.engine
    entries = (result or {}).get("submissions", [])
    ids = _own_receipt_ids(entries)
    ids |= set(pending_receipt_ids(engine, since=resources.clock.now() - timedelta(days=2)))
    mails = _receipt_mails(engine, ids, entries, resources)
    send_receipts_once(
        engine,
        mails,
        smtp_conn_id=resources.settings.email.smtp_conn_id,
        clock=resources.clock,
        timeout=resources.settings.email.smtp_timeout_seconds,
        lock_timeout=SWEEP_LOCK_TIMEOUT_S,
    )
    send_notices(result, resources)  # any the ingest task could not send (each is sent once)
    return len(mails)


def loaded_days_or_skip(result: IngestResult) -> dict[str, Any]:
    """The surgehub_hub_days event's extra, ``{"days": [ISO dates loaded]}``; Airflow's skip when this
    run loaded nothing (a skipped task emits no asset event, so a rejection triggers no RAG run)."""
    days = list(result.get("days") or [])
    if not days:
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException("no accepted return was loaded: surgehub_hub_days is not updated")
    return {"days": days}


def raise_for_unacknowledged(result: IngestResult) -> None:
    """Fail (so the operations list is told) when a file could not be archived or loaded."""
    failures = result.get("failures") or []
    if failures:
        raise RuntimeError(
            f"{len(failures)} file(s) were not acknowledged and stay in landing for a retry: "
            + "; ".join(failures)
        )


# -- RAG ---------------------------------------------------------------------------------------


def days_to_recompute(context: Mapping[str, Any], as_of: datetime, resources: Resources) -> list[date]:
    """Days named by the triggering events or conf; otherwise the revision window up to yesterday."""
    days: set[date] = set()
    for _asset, asset_events in dict(context.get("triggering_asset_events") or {}).items():
        for event in asset_events:
            days.update(date.fromisoformat(d) for d in (event.extra or {}).get("days", []))
    dag_run = context.get("dag_run")
    conf = (getattr(dag_run, "conf", None) or {}) if dag_run is not None else {}
    days.update(date.fromisoformat(d) for d in conf.get("days") or [])
    settings = resources.settings
    if not days:
        today = clock.london_day(as_of)
        days = {today - timedelta(days=n) for n in range(1, settings.timeliness.revision_window_days + 2)}
    return sorted(d for d in days if settings.season.start <= d <= settings.season.end)


def recompute_rag(days: list[date], as_of: datetime, resources: Resources) -> list[str]:
    """Compute and store RAG for each day as of ``as_of``; the day after a day also moves (escalation)."""
    from surgehub.rag import compute_rag
    from surgehub.warehouse.rag_results import store_rag

    engine = resources.warehouse()
    affected = sorted(set(days) | {d + timedelta(days=1) for d in days if d < clock.london_day(as_of)})
    for day in affected:
        day_rag = compute_rag(engine, day, as_of, resources.settings)
        store_rag(engine, day_rag.result_rows(computed_at=resources.clock.now()))
    return [d.isoformat() for d in affected]


# -- digests -----------------------------------------------------------------------------------


def send_digest(kind: str, as_of: datetime, resources: Resources) -> dict[str, Any]:
    """Build the board or daily digest as of a time and send it to its list, once per recipient."""
    from surgehub.digest.build import build_digest
    from surgehub.digest.mails import digest_mails, recipients_for
    from surgehub.digest.model import DigestKind
    from surgehub.digest.render import render_digest
    from surgehub.mail.send import send_all

    settings = resources.settings
    engine = resources.warehouse()
    digest = build_digest(engine, DigestKind(kind), as_of, settings)
    recipients = recipients_for(digest.kind, settings, engine)
    mails = digest_mails(render_digest(digest), settings, recipients)
    deliveries = send_all(
        engine,
        mails,
        smtp_conn_id=settings.email.smtp_conn_id,
        clock=resources.clock,
        timeout=settings.email.smtp_timeout_seconds,
    )
    return {
        "period": digest.period_key,
        "sent": sum(d.result == "sent" for d in deliveries),
        "already_sent": sum(d.result == "already_sent" for d in deliveries),
    }


class DigestMismatch(RuntimeError):
    """A sent digest differs from the digest rebuilt as of its cut-off (the data team is alerted)."""


def verify_sent_digest(kind: str, as_of: datetime, resources: Resources) -> dict[str, Any]:
    """After a send: rebuild the digest as of its cut-off and compare its CSV with every archived copy.

    When they differ, the operations list (the data team) gets an alert with the diff, once per key,
    and the task fails so the run shows it. A key with nothing archived (no recipients) is skipped.
    """
    from surgehub.digest.model import DigestKind
    from surgehub.digest.periods import period_for
    from surgehub.digest.verify import VerifyError, verify_digest
    from surgehub.mail.compose import Mail
    from surgehub.mail.send import send_all

    settings = resources.settings
    engine = resources.warehouse()
    period_key = period_for(DigestKind(kind), as_of, settings).period_key
    try:
        found = verify_digest(engine, settings, period_key)
    except VerifyError as exc:
        log.info("nothing to verify for %s: %s", period_key, exc)
        return {"period": period_key, "verified": False, "messages": 0}
    if found.matches:
        return {"period": period_key, "verified": True, "messages": found.messages}
    text = (
        f"The digest {period_key} as sent differs from the same digest rebuilt as of its cut-off "
        f"({', '.join(found.mismatched)}).\n\nRun `surgehub verify-digest {period_key}` to see it again; "
        "`surgehub audit` lists what changed and when.\n\n" + "\n".join(found.diff)
    )
    mails = [
        Mail(
            kind="alert",
            period_key=f"verify:{period_key}",
            recipient=recipient,
            sender=settings.email.sender,
            reply_to=settings.email.reply_to,
            message_id_domain=settings.email.message_id_domain,
            subject=f"[surgehub] the sent digest {period_key} does not match its rebuild",
            text=text,
        )
        for recipient in settings.email.operations
    ]
    send_all(
        engine,
        mails,
        smtp_conn_id=settings.email.smtp_conn_id,
        clock=resources.clock,
        timeout=settings.email.smtp_timeout_seconds,
    )
    raise DigestMismatch(f"{period_key}: as sent differs from its rebuild for {', '.join(found.mismatched)}")


def scheduled_run(
    context: Mapping[str, Any], *, working_days_only: bool = True
) -> tuple[datetime, Resources]:
    """A scheduled task's start: its resources, and the instant its run stands for. On a weekend or a
    bank holiday a working-days-only run is skipped (Airflow's skip), since nothing is due."""
    from surgehub.resources import Resources

    resources = Resources.from_env()
    run_at = run_time(context, resources)
    if working_days_only:
        skip_unless_working_day(run_at, resources)
    return run_at, resources


def run_time(context: Mapping[str, Any], resources: Resources) -> datetime:
    """The instant a scheduled run stands for (its slot), else the injected clock's now."""
    dag_run = context.get("dag_run")
    for attribute in ("logical_date", "run_after"):
        value = getattr(dag_run, attribute, None) if dag_run is not None else None
        if value is not None:
            return value.astimezone(UTC)
    return resources.clock.now()


# -- chasing and summaries -----------------------------------------------------------------------


def chase_localities(run_at: datetime, resources: Resources) -> dict[str, Any]:
    """Send the reminder or chaser to each locality that still owes hub-days due today."""
    from surgehub.chase import chase_mails
    from surgehub.mail.send import send_all

    settings = resources.settings
    engine = resources.warehouse()
    kind, mails = chase_mails(engine, run_at, settings)
    send_all(
        engine,
        mails,
        smtp_conn_id=settings.email.smtp_conn_id,
        clock=resources.clock,
        timeout=settings.email.smtp_timeout_seconds,
    )
    return {
        "kind": kind,
        "emails": len(mails),
        "localities": sorted({m.period_key.split(":")[-1] for m in mails}),
    }


def skip_unless_working_day(run_at: datetime, resources: Resources) -> None:
    """Raise Airflow's skip for a run that falls on a weekend or bank holiday (spec §4 working days)."""
    from surgehub.timeliness import is_working_day

    day = clock.london_day(run_at)
    if not is_working_day(day, resources.settings):
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(f"{day} is not a working day: nothing is due")


def purge_quarantine(run_at: datetime, resources: Resources) -> dict[str, Any]:
    """Delete quarantined (R16) files received more than the retention period before ``run_at`` (spec §4).

    Logs and returns how many, never their names: a submitter's file name is not repeated anywhere.
    """
    from surgehub import archive

    settings = resources.settings
    days = settings.limits.quarantine_retention_days
    deleted = archive.purge(settings.quarantine_dir, days, run_at)
    log.info("quarantine: %d file(s) older than %d days deleted", len(deleted), days)
    return {"deleted": len(deleted), "retention_days": days}
