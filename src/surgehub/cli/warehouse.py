"""`surgehub ingest`, `rag`, `db upgrade|current` and `backfill`: the warehouse's command line (interfaces.md).

Exit codes: 0 success (an accepted or duplicate return), 1 the work found a problem (a rejected
return; a backfill with files that could not be ingested), 2 usage or configuration error —
including a return that could not be kept or loaded (archive or warehouse unavailable), which is
then NOT acknowledged.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from surgehub import clock
from surgehub.cli import common
from surgehub.cli.common import ExitCode, fail

if TYPE_CHECKING:
    from surgehub.ingest import IngestOutcome

#: Returns validated together in one pass during a backfill (GX costs ~0.13 s a call, whatever the size).
BACKFILL_CHUNK = 250


# -- ingest --------------------------------------------------------------------------------------


@click.command("ingest")
@common.return_file_options
@common.json_option()
def ingest(file: Path, locality_code: str, received_at: str | None, as_json: bool) -> None:
    """Validate a return FILE and, when accepted, load it into the warehouse in one transaction.

    Exit codes: 0 accepted (or a duplicate of an accepted file), 1 rejected, 2 usage or
    configuration error (the return was then not kept or loaded).
    """
    code = common.locality(locality_code)
    instant = common.instant("--received-at", received_at)
    if not file.is_file():
        fail(f"file not found: {file}")
    resources = common.resources()
    common.warehouse()

    from surgehub.ingest import Channel, IncomingReturn, ingest_returns
    from surgehub.returns.guard import prestart

    prestart()  # the reader's guarded child starts while the validation stack is imported
    item = IncomingReturn(
        path=file, locality=code, channel=Channel.CLI, received_at=instant, file_name=file.name
    )
    [outcome] = ingest_returns([item], resources)
    if as_json:
        click.echo(json.dumps(outcome.to_json_dict(), ensure_ascii=False))
    if outcome.error is not None:
        fail(f"{file.name} was not ingested (not acknowledged): {outcome.error}")
    if not as_json:
        click.echo(_human_outcome(outcome, file))
    sys.exit(ExitCode.OK if outcome.status == "accepted" else ExitCode.PROBLEM)


def _human_outcome(outcome: IngestOutcome, file: Path) -> str:
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
@common.as_of_option("Judge as it stood then (default now; no offset = Europe/London).")
@common.json_option()
@click.option("--store", is_flag=True, help="Also upsert the results into rag_result.")
def rag(day_text: str, as_of_text: str | None, as_json: bool, store: bool) -> None:
    """RAG status of every locality (and GM) for one activity date, as it stood at --as-of."""
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        fail(f"--date {day_text!r} is not a date (YYYY-MM-DD)")
    resources = common.resources()
    known = resources.settings.seasons
    if not any(day in season for season in known):
        listed = "; ".join(f"{s.start.isoformat()} to {s.end.isoformat()}" for s in known)
        fail(f"--date {day.isoformat()} is outside every season this configuration knows ({listed})")
    as_of = common.instant("--as-of", as_of_text)
    engine = common.warehouse(read_only=not store)

    from surgehub.rag import compute_rag
    from surgehub.warehouse.rag_results import store_rag

    day_rag = compute_rag(engine, day, as_of, resources.settings)
    if store:
        store_rag(engine, day_rag.result_rows(computed_at=resources.clock.now()))
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
    """Migrate the warehouse to a revision (default head), refresh localities and hubs, and make the
    accounts the configuration names (locality contacts, the board list) that do not exist yet."""
    resources = common.resources()
    from surgehub.accounts import seed_accounts
    from surgehub.warehouse import db as warehouse_db

    try:
        engine = warehouse_db.upgrade(resources.engine, revision)
        heads = sorted(warehouse_db.current_revisions(engine))
        if revision == "head":
            seed_accounts(engine, resources.settings.email, at=resources.clock.now())
    except Exception as exc:
        shown = resources.engine.url.render_as_string(hide_password=True)
        fail(f"could not migrate {shown}: {warehouse_db.one_line(exc)}")
    click.echo(f"warehouse at revision {', '.join(heads) or '(none)'}")


@db.command("current")
def current() -> None:
    """Exit 0 when the warehouse is at the head revision, 1 when it needs `surgehub db upgrade`."""
    resources = common.resources()
    from surgehub.warehouse import db as warehouse_db

    path = warehouse_db.sqlite_file(resources.engine)
    if path is not None and not path.is_file():  # reading would create an empty file
        click.echo(f"there is no warehouse at {path} yet: `surgehub db upgrade` creates it")
        sys.exit(ExitCode.PROBLEM)
    try:
        ok = warehouse_db.migrations_current(resources.engine)
        heads = sorted(warehouse_db.current_revisions(resources.engine))
    except Exception as exc:
        shown = resources.engine.url.render_as_string(hide_password=True)
        fail(f"cannot read {shown}: {warehouse_db.one_line(exc)}")
    click.echo(f"warehouse at revision {', '.join(heads) or '(none)'}: {'current' if ok else 'behind'}")
    sys.exit(ExitCode.OK if ok else ExitCode.PROBLEM)


# -- backfill ------------------------------------------------------------------------------------


@click.command("backfill")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@common.json_option("one JSON object (counts and failures)")
def backfill(directory: Path, as_json: bool) -> None:
    """Replay the archived returns under DIRECTORY with their recorded receipt times, oldest first.

    Idempotent: a receipt already in the warehouse is recognised and nothing is written again.
    """
    if not directory.is_dir():
        fail(f"not a directory: {directory}")
    resources = common.resources()
    common.warehouse()

    from tqdm import tqdm

    from surgehub import archive
    from surgehub.ingest import Channel, IncomingReturn, ingest_returns

    try:
        entries = list(archive.entries(directory))
    except (OSError, ValueError, KeyError) as exc:
        fail(f"cannot read the archive under {directory}: {exc}")
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0, "replayed": 0, "error": 0}
    failures: list[dict[str, str]] = []
    items = [
        IncomingReturn(
            path=path,
            locality=receipt.locality,
            channel=Channel.BACKFILL,
            received_at=receipt.received_at,
            file_name=receipt.file_name,
        )
        for receipt, path in entries
    ]
    outcomes: list[IngestOutcome] = []
    with tqdm(total=len(items), desc="backfill", unit="file", file=sys.stderr) as progress:
        # In order of receipt, BACKFILL_CHUNK at a time: each chunk is validated in one pass,
        # then every return in it is judged, archived and loaded on its own, in order.
        for start in range(0, len(items), BACKFILL_CHUNK):
            chunk = items[start : start + BACKFILL_CHUNK]
            outcomes.extend(ingest_returns(chunk, resources))
            progress.update(len(chunk))
    for item, outcome in zip(items, outcomes, strict=True):
        if outcome.error is not None:
            counts["error"] += 1
            failures.append({"file": str(item.path), "error": outcome.error})
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
    sys.exit(ExitCode.PROBLEM if failures else ExitCode.OK)
