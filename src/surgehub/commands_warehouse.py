"""`surgehub ingest`, `rag`, `db upgrade|current` and `backfill`: the warehouse's command line (interfaces.md).

Exit codes: 0 success (an accepted or duplicate return), 1 the work found a problem (a rejected
return; a backfill with files that could not be ingested), 2 usage or configuration error —
including a return that could not be kept or loaded (archive or warehouse unavailable), which is
then NOT acknowledged. The warehouse is SURGEHUB_WAREHOUSE_URL, through load_settings().
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from surgehub import clock, reference


def _fail(command: str, message: str, code: int = 2) -> NoReturn:
    click.echo(f"surgehub {command}: {message}", err=True)
    sys.exit(code)


def _settings(command: str) -> Any:
    from surgehub.config import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        _fail(command, f"configuration error: {exc}")


def _instant(command: str, option: str, text: str | None) -> datetime:
    if text is None:
        return clock.now()
    try:
        return clock.parse_instant(text)
    except ValueError:
        _fail(command, f"{option} {text!r} is not an ISO 8601 time (e.g. 2026-11-25T09:00)")


def _engine(command: str, settings: Any) -> Any:
    from surgehub.warehouse.db import ensure_warehouse, get_engine

    try:
        return ensure_warehouse(get_engine(settings.warehouse_url))
    except Exception as exc:
        _fail(command, f"warehouse {settings.warehouse_url!r} is not usable: {exc}")


# -- ingest --------------------------------------------------------------------------------------


@click.command("ingest")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--locality", required=True, metavar="CODE", help="The submitting locality's sub-ICB code.")
@click.option(
    "--received-at",
    "received_at",
    metavar="ISO8601",
    default=None,
    help="Receipt time (default now; a time without an offset is Europe/London).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def ingest(file: Path, locality: str, received_at: str | None, as_json: bool) -> None:
    """Validate a return FILE and, when accepted, load it into the warehouse in one transaction.

    Exit codes: 0 accepted (or a duplicate of an accepted file), 1 rejected, 2 usage or
    configuration error (the return was then not kept or loaded).
    """
    code = locality.strip().upper()
    if reference.locality_by_code(code) is None:
        known = ", ".join(loc.sub_icb_code for loc in reference.localities())
        _fail("ingest", f"unknown locality {locality!r}; use one of {known}")
    instant = _instant("ingest", "--received-at", received_at)
    if not file.is_file():
        _fail("ingest", f"file not found: {file}")
    settings = _settings("ingest")
    engine = _engine("ingest", settings)

    from surgehub.ingest import IncomingReturn, ingest_returns

    [outcome] = ingest_returns(
        [IncomingReturn(file, code, "cli", instant, file.name)], settings=settings, engine=engine
    )
    if outcome.status == "error":
        if as_json:
            click.echo(json.dumps(outcome.to_json_dict(), ensure_ascii=False))
        _fail("ingest", f"{file.name} was not ingested (not acknowledged): {outcome.error}")
    if as_json:
        click.echo(json.dumps(outcome.to_json_dict(), ensure_ascii=False))
    else:
        click.echo(_human_outcome(outcome, file))
    sys.exit(0 if outcome.status == "accepted" else 1)


def _human_outcome(outcome: Any, file: Path) -> str:
    validation = outcome.validation
    if outcome.duplicate:
        head = f"{file.name}: ACCEPTED (duplicate of submission {outcome.submission_id}; nothing new loaded)"
    elif outcome.status == "accepted":
        head = f"{file.name}: ACCEPTED, {validation.rows} row(s) loaded as submission {outcome.submission_id}"
    else:
        where = " (file quarantined: R16)" if outcome.quarantined else ""
        head = f"{file.name}: REJECTED, recorded as submission {outcome.submission_id}{where}; nothing loaded"
    lines = [head]
    for title, findings in (("Errors", validation.errors), ("Warnings", validation.warnings)):
        if findings:
            lines += ["", f"{title} ({len(findings)}):"]
            for f in findings:
                row = "-" if f.row is None else str(f.row)
                lines.append(f"  {f.rule:<5} {row:>5}  {f.column or '-':<22} {f.message}")
    return "\n".join(lines)


# -- rag -----------------------------------------------------------------------------------------


@click.command("rag")
@click.option("--date", "day_text", required=True, metavar="YYYY-MM-DD", help="The activity date.")
@click.option(
    "--as-of",
    "as_of_text",
    metavar="ISO8601",
    default=None,
    help="Judge as it stood then (default now; no offset = Europe/London).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--store", is_flag=True, help="Also upsert the results into rag_result.")
def rag(day_text: str, as_of_text: str | None, as_json: bool, store: bool) -> None:
    """RAG status of every locality (and GM) for one activity date, as it stood at --as-of."""
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        _fail("rag", f"--date {day_text!r} is not a date (YYYY-MM-DD)")
    as_of = _instant("rag", "--as-of", as_of_text)
    settings = _settings("rag")
    engine = _engine("rag", settings)

    from surgehub.rag import compute_rag, store_rag

    day_rag = compute_rag(engine, day, as_of, settings)
    if store:
        store_rag(engine, day_rag)
    if as_json:
        click.echo(json.dumps(day_rag.to_json_dict(), ensure_ascii=False))
        return
    london = clock.to_london(day_rag.as_of).strftime("%Y-%m-%d %H:%M %Z")
    click.echo(f"RAG for {day.isoformat()} as of {london}")
    click.echo(
        f"{'code':<5} {'locality':<32} {'status':<10} {'lvl':>3} {'pts':>3} {'esc':<3} {'assurance':<10} reasons"
    )
    for loc in day_rag.localities:
        level = "-" if loc.level is None else str(loc.level)
        points = "-" if loc.points is None else str(loc.points)
        click.echo(
            f"{loc.sub_icb_code:<5} {loc.locality_name[:32]:<32} {loc.status:<10} {level:>3} {points:>3} "
            f"{'yes' if loc.escalated else '':<3} {loc.assurance or '-':<10} {'; '.join(loc.reasons)}"
        )
    counts = ", ".join(f"{status} {n}" for status, n in day_rag.gm.counts.items())
    click.echo(f"GM: {counts}")


# -- db ------------------------------------------------------------------------------------------


@click.group("db")
def db() -> None:
    """Warehouse schema migrations (Alembic, packaged with surgehub)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Migrate the warehouse to a revision (default head) and refresh localities and hubs."""
    settings = _settings("db upgrade")
    from surgehub.warehouse import db as warehouse_db

    try:
        engine = warehouse_db.upgrade(settings.warehouse_url, revision)
        heads = sorted(warehouse_db.current_revisions(engine))
    except Exception as exc:
        _fail("db upgrade", f"could not migrate {settings.warehouse_url!r}: {exc}")
    click.echo(f"warehouse at revision {', '.join(heads) or '(none)'}")


@db.command("current")
def current() -> None:
    """Exit 0 when the warehouse is at the head revision, 1 when it needs `surgehub db upgrade`."""
    settings = _settings("db current")
    from surgehub.warehouse import db as warehouse_db

    try:
        engine = warehouse_db.get_engine(settings.warehouse_url)
        ok = warehouse_db.migrations_current(engine)
        heads = sorted(warehouse_db.current_revisions(engine))
    except Exception as exc:
        _fail("db current", f"cannot read {settings.warehouse_url!r}: {exc}")
    click.echo(f"warehouse at revision {', '.join(heads) or '(none)'}: {'current' if ok else 'behind'}")
    sys.exit(0 if ok else 1)


# -- backfill ------------------------------------------------------------------------------------


#: Returns validated together in one pass during a backfill (GX costs ~0.13 s a call, whatever the size).
BACKFILL_CHUNK = 250


@click.command("backfill")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (counts and failures).")
def backfill(directory: Path, as_json: bool) -> None:
    """Replay the archived returns under DIRECTORY with their recorded receipt times, oldest first.

    Idempotent: a receipt already in the warehouse is recognised and nothing is written again.
    """
    if not directory.is_dir():
        _fail("backfill", f"not a directory: {directory}")
    settings = _settings("backfill")
    engine = _engine("backfill", settings)

    from tqdm import tqdm

    from surgehub import archive
    from surgehub.ingest import IncomingReturn, ingest_returns

    try:
        entries = list(archive.entries(directory))
    except (OSError, ValueError, KeyError) as exc:
        _fail("backfill", f"cannot read the archive under {directory}: {exc}")
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0, "replayed": 0, "error": 0}
    failures: list[dict[str, str]] = []
    items = [
        IncomingReturn(path, receipt.locality, "backfill", receipt.received_at, receipt.file_name)
        for receipt, path in entries
    ]
    outcomes = []
    with tqdm(total=len(items), desc="backfill", unit="file", file=sys.stderr) as progress:
        # In order of receipt, BACKFILL_CHUNK at a time: each chunk is validated in one pass,
        # then every return in it is judged, archived and loaded on its own, in order.
        for start in range(0, len(items), BACKFILL_CHUNK):
            chunk = items[start : start + BACKFILL_CHUNK]
            outcomes.extend(ingest_returns(chunk, settings=settings, engine=engine))
            progress.update(len(chunk))
    for item, outcome in zip(items, outcomes, strict=True):
        path = item.path
        if outcome.status == "error":
            counts["error"] += 1
            failures.append({"file": str(path), "error": outcome.error or ""})
        elif outcome.replayed:
            counts["replayed"] += 1
        elif outcome.duplicate:
            counts["duplicate"] += 1
        else:
            counts[outcome.status] += 1
    if as_json:
        click.echo(json.dumps({"files": len(entries), **counts, "failures": failures}))
    else:
        summary = ", ".join(f"{name} {n}" for name, n in counts.items())
        click.echo(f"backfill of {len(entries)} archived file(s): {summary}")
        for failure in failures:
            click.echo(f"  not ingested: {failure['file']}: {failure['error']}", err=True)
    sys.exit(1 if failures else 0)
