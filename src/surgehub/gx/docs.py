"""Data Docs from the stored results: GX's own site, plus a page that puts the rest of the spec beside it.

Built once per ingest run (the ``build_data_docs`` task of ``surgehub_ingest``), or on demand
(``surgehub gx-docs build [--date D]``); never once per file: a backfill leaves it to the end. The
site is ``<SURGEHUB_HOME>/gx/uncommitted/data_docs/local_site/``:

- ``index.html``: GX's index, every stored validation run (named by its ``return_id``, or the first
  return's id and how many more a batch held), each linking to GX's page of that run;
- ``surgehub.html``: surgehub's page, one table a day of receipt listing each return (locality,
  received, which GX rules failed on how many of its rows, a link to its run's GX page) and, from the
  warehouse, its findings under the rules GX does not run (R01, R02, R05–R07, R15, R16, W01–W05 and the
  file rules) with their rule IDs, so the picture is whole; a recorded return the suite never ran on (a
  file rule stopped its rows) is listed with the file rules it failed.

The data team reads it signed in, at ``/data-docs/`` (``surgehub.api.routers.datadocs``); it holds
counts and row numbers only, never a value from a return.
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from surgehub import spec
from surgehub.clock import LONDON
from surgehub.files import write_atomically
from surgehub.gx import RULES_OUTSIDE_GX, rules_in_suite
from surgehub.gx.store import open_context, read_results, site_dir
from surgehub.returns.suite import SUITE_NAME

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

PAGE = "surgehub.html"


@dataclass(frozen=True, kw_only=True)
class Built:
    """What a build made: the GX index, surgehub's page, and how many runs and returns they show."""

    index: Path
    page: Path
    runs: int
    returns: int


@dataclass(frozen=True, kw_only=True)
class _Listed:
    return_id: str
    locality: str
    received_at: datetime
    sha256: str
    gx_failed: dict[str, int]  # rule -> failing rows of this return (summed over that rule's expectations)
    link: str  # the run's GX page, relative to the site


def build(home: Path, *, day: date | None = None, engine: Engine | None = None) -> Built:
    """Build the Data Docs under ``home``: GX renders every stored run, or with ``day`` only the runs
    holding a return received that London day (GX's index and surgehub's page always list every run).
    With ``engine``, each return's findings under the rules outside GX are read from the warehouse.
    ``runs`` and ``returns`` in the answer count what was rendered (the day's, with ``day``)."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = open_context(home)
    stored = read_results(home)
    chosen = [
        (path, result)
        for path, result in stored
        if day is None or any(r.received_at.astimezone(LONDON).date() == day for r in _returns(path, result))
    ]
    if day is None:
        context.build_data_docs()
    else:
        keys: list[Any] = [ExpectationSuiteIdentifier(name=SUITE_NAME)]
        keys += [ValidationResultIdentifier.from_tuple((*p.parts[:-1], p.stem)) for p, _ in chosen]
        context.build_data_docs(resource_identifiers=keys)
    listed = [item for path, result in stored for item in _returns(path, result)]
    recorded = _recorded(engine, listed) if engine is not None else None
    site = site_dir(home)
    page = site / PAGE
    write_atomically(page, _page(listed, recorded).encode("utf-8"))
    shown = sum(1 for item in listed if day is None or item.received_at.astimezone(LONDON).date() == day)
    return Built(index=site / "index.html", page=page, runs=len(chosen), returns=shown)


def _returns(path: Path, result: dict[str, Any]) -> list[_Listed]:
    """The returns one stored run holds, with the GX rules each failed (from its own rows only)."""
    meta = result.get("meta", {}).get("surgehub", {})
    failed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in result.get("results", []):
        if item.get("success"):
            continue
        rule = str(item.get("expectation_config", {}).get("meta", {}).get("rule_id", "?"))
        for return_id, count in (item.get("result", {}).get("unexpected_count_by_return") or {}).items():
            failed[return_id][rule] += int(count)
    link = "validations/" + path.with_suffix(".html").as_posix()
    return [
        _Listed(
            return_id=str(r["return_id"]),
            locality=str(r["locality"]),
            received_at=datetime.fromisoformat(str(r["received_at"]).replace("Z", "+00:00")),
            sha256=str(r["sha256"]),
            gx_failed=dict(sorted(failed.get(str(r["return_id"]), {}).items())),
            link=link,
        )
        for r in meta.get("returns", [])
    ]


@dataclass(frozen=True, kw_only=True)
class _Recorded:
    """What the warehouse recorded for returns: each receipt's findings under the rules outside GX, and
    the returns the suite never ran on (a file rule stopped their rows, or an over-size file)."""

    outside: dict[str, dict[str, int] | None]  # return_id -> counts (None: not recorded)
    not_in_gx: list[tuple[str, datetime, dict[str, int]]]  # (locality, received, file-rule counts)


def _recorded(engine: Engine, listed: list[_Listed]) -> _Recorded:
    from surgehub.warehouse.submissions import receipts_summary

    def key(locality: str, sha256: str, received: datetime) -> tuple[str, str, datetime]:
        aware = received if received.tzinfo is not None else received.replace(tzinfo=UTC)
        return (locality, sha256, aware.astimezone(UTC))

    rows = {key(r.sub_icb_code, r.sha256, r.received_at): r for r in receipts_summary(engine)}
    outside: dict[str, dict[str, int] | None] = {}
    seen: set[tuple[str, str, datetime]] = set()
    for item in listed:
        k = key(item.locality, item.sha256, item.received_at)
        row = rows.get(k)
        seen.add(k)
        totals = {str(r): int(n) for r, n in (row.totals or {}).items()} if row is not None else {}
        outside[item.return_id] = (
            None if row is None else {r: n for r, n in sorted(totals.items()) if r in RULES_OUTSIDE_GX}
        )
    not_in_gx = [
        (k[0], k[2], {str(r): int(n) for r, n in sorted((row.totals or {}).items())})
        for k, row in rows.items()
        if k not in seen
    ]
    return _Recorded(outside=outside, not_in_gx=not_in_gx)


def _why_not_in_gx(totals: dict[str, int]) -> str:
    """Why a recorded return has no GX result: the file rules it failed, if any (they stop the rows)."""
    failed = [rule for rule in totals if rule.startswith("F")]
    if failed:
        return f"Not run: the file failed {', '.join(failed)}"
    return "No GX result stored (received before results were kept, or its run was not stored)"


def _counts(counts: dict[str, int], unit: str) -> str:
    return ", ".join(f"{rule}: {n} {unit}{'s' if n != 1 else ''}" for rule, n in counts.items())


def _page(listed: list[_Listed], recorded: _Recorded | None) -> str:
    e = html.escape
    outside = None if recorded is None else recorded.outside
    by_day: dict[date, list[_Listed]] = defaultdict(list)
    for item in sorted(listed, key=lambda i: i.received_at):
        by_day[item.received_at.astimezone(LONDON).date()].append(item)
    never: dict[date, list[tuple[str, datetime, dict[str, int]]]] = defaultdict(list)
    for entry in recorded.not_in_gx if recorded is not None else []:
        never[entry[1].astimezone(LONDON).date()].append(entry)
    sections: list[str] = []
    for when in sorted(set(by_day) | set(never), reverse=True):
        rows = []
        for locality, received, totals in never.get(when, []):
            rows.append(
                "<tr>"
                '<th scope="row">Not validated by GX</th>'
                f"<td>{e(locality)}</td>"
                f"<td>{e(received.astimezone(LONDON).strftime('%H:%M:%S'))}</td>"
                f"<td>{e(_why_not_in_gx(totals))}</td>"
                f"<td>{e('Findings: ' + _counts(totals, 'finding') if totals else 'None recorded')}</td>"
                "</tr>"
            )
        for item in by_day.get(when, []):
            gx_text = (
                f"Failed: {_counts(item.gx_failed, 'row')}" if item.gx_failed else "Passed: every expectation"
            )
            if outside is None:
                other = "Not read (built without the warehouse)"
            elif (found := outside.get(item.return_id)) is None:
                other = "Not recorded in the warehouse"
            else:
                other = f"Findings: {_counts(found, 'finding')}" if found else "None"
            rows.append(
                "<tr>"
                f'<th scope="row"><a href="{e(item.link)}">{e(item.return_id)}</a></th>'
                f"<td>{e(item.locality)}</td>"
                f"<td>{e(item.received_at.astimezone(LONDON).strftime('%H:%M:%S'))}</td>"
                f"<td>{e(gx_text)}</td><td>{e(other)}</td>"
                "</tr>"
            )
        sections.append(
            f"<h2>Received {e(when.strftime('%A %d %B %Y'))}</h2>\n<table>\n"
            f"<caption>Returns received {e(when.isoformat())}: GX results beside the rules GX does not run"
            '</caption>\n<thead><tr><th scope="col">Return (its GX validation)</th>'
            '<th scope="col">Locality</th><th scope="col">Received (UK time)</th>'
            f'<th scope="col">GX suite {e(SUITE_NAME)} ({e(", ".join(rules_in_suite()))})</th>'
            '<th scope="col">Rules outside GX</th></tr></thead>\n<tbody>\n'
            + "\n".join(rows)
            + "\n</tbody></table>"
        )
    if not sections:
        sections.append("<p>No validation results are stored yet.</p>")
    rules = "\n".join(
        f'<tr><th scope="row">{e(rule)}</th><td>{e(text)}</td></tr>'
        for rule, text in RULES_OUTSIDE_GX.items()
    )
    title = "surgehub returns in Great Expectations"
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
body {{ font-family: Arial, sans-serif; margin: 1rem; color: #0b0c0c; line-height: 1.4; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 2rem; display: block; overflow-x: auto; }}
th, td {{ border: 1px solid #505a5f; padding: 0.4rem; text-align: left; vertical-align: top; }}
caption {{ text-align: left; font-weight: bold; padding: 0.4rem 0; }}
a {{ color: #1d70b8; }} a:focus {{ outline: 3px solid #fd0; background: #fd0; color: #0b0c0c; }}
</style>
</head>
<body>
<main>
<h1>{e(title)}</h1>
<p>Each return's validation by the Great Expectations suite <code>{e(SUITE_NAME)}</code> (spec
{e(spec.SPEC_VERSION)}) is stored as a GX validation result; a batch of returns validated together is one
result, and its failing rows are listed by <code>return_id</code> and row number. These pages hold counts
and row numbers only, never a value from a return. <a href="index.html">Every stored validation
(GX's index)</a> · <a href="expectations/surgehub/return.html">The suite</a></p>
{chr(10).join(sections)}
<h2>Rules checked outside GX</h2>
<p>These rules of the specification are checked in surgehub's own code (GX cannot express them: file
rules, type checks, the hub register, receipt-time rules, patient identifiers, warnings). Their findings
are in each return's receipt, in <code>surgehub explain</code>, and counted above.</p>
<table>
<caption>Rules outside the GX suite, by rule ID</caption>
<thead><tr><th scope="col">Rule</th><th scope="col">What it checks</th></tr></thead>
<tbody>
{rules}
</tbody></table>
</main>
</body>
</html>
"""
