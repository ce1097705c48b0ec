"""`surgehub gx-docs build`: the Great Expectations Data Docs, built on demand from the stored results."""

from __future__ import annotations

import json
from datetime import date

import click

from surgehub.cli import common
from surgehub.cli.common import fail


@click.group("gx-docs")
def gx_docs() -> None:
    """Great Expectations Data Docs of every return's validation (stored by ingest under the data folder).

    The site is a static folder, <data folder>/gx/uncommitted/data_docs/local_site/: open index.html
    (GX's own) or surgehub.html (each return by day of receipt, with the rules GX does not run).
    """


@gx_docs.command("build")
@click.option(
    "--date",
    "day",
    default=None,
    metavar="YYYY-MM-DD",
    help="Render only the runs holding returns received that day (UK time); default: every stored run.",
)
@click.option(
    "--no-warehouse",
    is_flag=True,
    help="Do not read each return's findings under the rules outside GX from the warehouse.",
)
@common.json_option("one JSON object: the index, surgehub's page, runs and returns shown")
def build(day: str | None, no_warehouse: bool, as_json: bool) -> None:
    """Build (or rebuild) the Data Docs from the validation results ingest stored.

    Exit codes: 0 built (also when nothing is stored yet: the pages say so), 2 usage error.
    """
    when = None
    if day is not None:
        try:
            when = date.fromisoformat(day)
        except ValueError:
            fail(f"--date must be a date like 2026-11-24, not {day!r}")
    resources = common.resources()
    engine = None if no_warehouse else common.warehouse(read_only=True)

    from surgehub.gx.docs import build as build_docs

    built = build_docs(resources.settings.home, day=when, engine=engine)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "index": str(built.index),
                    "page": str(built.page),
                    "runs": built.runs,
                    "returns": built.returns,
                }
            )
        )
    else:
        click.echo(f"Data Docs: {built.runs} stored run(s), {built.returns} return(s)")
        click.echo(f"  GX index:        {built.index}")
        click.echo(f"  surgehub's page: {built.page}")
