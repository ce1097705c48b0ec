"""`surgehub ingest` then `surgehub rag` on SQLite and on PostgreSQL, through SURGEHUB_WAREHOUSE_URL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from click.testing import CliRunner

from surgehub.cli import cli
from tests.support.returns import csv_bytes, hub_row
from tests.support.timeline import DAY

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine


def test_ingest_then_rag_through_the_cli(surgehub_home: Path, warehouse: Engine) -> None:
    path = surgehub_home / "trafford.csv"
    path.write_bytes(csv_bytes([hub_row("02A-H1", DAY, appts_booked=98, src_other=23)]))
    runner = CliRunner()
    ingested = runner.invoke(cli, ["ingest", str(path), "--locality", "02A", "--json"])
    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.stdout)["status"] == "accepted"

    result = runner.invoke(cli, ["rag", "--date", "2026-11-24", "--as-of", "2026-11-25T14:00", "--json"])
    assert result.exit_code == 0, result.output
    trafford = next(loc for loc in json.loads(result.stdout)["localities"] if loc["sub_icb_code"] == "02A")
    assert (trafford["status"], trafford["points"]) == ("AMBER", 4)  # utilisation 0.98 exactly: Red, 2 × 2
    assert trafford["reasons"] == ["utilisation 0.98 ≥ 0.98"]
