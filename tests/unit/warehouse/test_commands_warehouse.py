"""`surgehub ingest`, `rag`, `db` and `backfill` on an SQLite warehouse under an isolated SURGEHUB_HOME."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from click.testing import CliRunner

from surgehub.cli import cli
from tests.support.returns import csv_bytes, hub_row
from tests.support.timeline import DAY

if TYPE_CHECKING:
    from pathlib import Path


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_ingest_json_exit_codes_and_duplicate(surgehub_home: Path) -> None:
    good = _write(surgehub_home, "good.csv", csv_bytes([hub_row("00V-H1", DAY)]))
    first = _run("ingest", str(good), "--locality", "00v", "--json")
    assert first.exit_code == 0, first.output
    body = json.loads(first.stdout)
    assert (body["status"], body["duplicate"], body["rows"]) == ("accepted", False, 1)
    assert isinstance(body["submission_id"], int)

    again = _run("ingest", str(good), "--locality", "00V", "--json", "--received-at", "2026-11-25T10:00")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["duplicate"] is True
    assert json.loads(again.stdout)["submission_id"] == body["submission_id"]

    bad = _write(surgehub_home, "bad.csv", csv_bytes([hub_row("00V-H1", DAY, appts_booked=101)]))
    rejected = _run("ingest", str(bad), "--locality", "00V", "--json")
    assert rejected.exit_code == 1
    assert json.loads(rejected.stdout)["status"] == "rejected"


def test_ingest_usage_errors_exit_2(surgehub_home: Path) -> None:
    good = _write(surgehub_home, "good.csv", csv_bytes([hub_row("00V-H1", DAY)]))
    assert _run("ingest", str(good), "--locality", "ZZZ").exit_code == 2
    assert _run("ingest", str(good), "--locality", "00V", "--received-at", "yesterday").exit_code == 2
    assert _run("ingest", str(surgehub_home / "nope.csv"), "--locality", "00V").exit_code == 2
    assert _run("ingest", str(good)).exit_code == 2  # --locality is required


def test_ingest_human_output_names_the_findings(surgehub_home: Path) -> None:
    bad = _write(surgehub_home, "bad.csv", csv_bytes([hub_row("00V-H1", DAY, appts_booked=101)]))
    result = _run("ingest", str(bad), "--locality", "00V")
    assert result.exit_code == 1
    assert "REJECTED" in result.stdout
    assert "R09" in result.stdout


def test_rag_json_lists_all_ten_localities_as_of(surgehub_home: Path) -> None:
    good = _write(surgehub_home, "good.csv", csv_bytes([hub_row("00V-H1", DAY)]))
    assert _run("ingest", str(good), "--locality", "00V").exit_code == 0
    result = _run("rag", "--date", "2026-11-24", "--as-of", "2026-11-25T14:00", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["date"] == "2026-11-24"
    assert [loc["sub_icb_code"] for loc in body["localities"]] == [
        "00T", "00V", "01D", "14L", "00Y", "01G", "01W", "01Y", "02A", "02H",
    ]  # fmt: skip
    bury = body["localities"][1]
    assert (bury["status"], bury["level"], bury["points"], bury["assurance"]) == ("GREEN", 1, 0, "ON_TIME")
    assert body["gm"] == {"GREEN": 1, "AMBER": 0, "RED": 0, "CLOSED": 0, "NO_RETURN": 9, "PENDING": 0}

    # Default as-of is the injected clock (25 Nov 09:00): before the close, the rest are pending.
    pending = json.loads(_run("rag", "--date", "2026-11-24", "--json").stdout)
    assert pending["gm"]["PENDING"] == 9


def test_rag_human_table_and_bad_date(surgehub_home: Path) -> None:
    assert _run("db", "upgrade").exit_code == 0  # rag reads a warehouse; it never creates one
    result = _run("rag", "--date", "2026-11-24", "--as-of", "2026-11-25T14:00")
    assert result.exit_code == 0
    assert "Manchester" in result.stdout
    assert "NO_RETURN" in result.stdout
    assert _run("rag", "--date", "24/11/2026").exit_code == 2


def test_db_upgrade_and_current(surgehub_home: Path) -> None:
    upgraded = _run("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert (surgehub_home / "warehouse.sqlite").exists()
    current = _run("db", "current")
    assert current.exit_code == 0
    assert "current" in current.stdout


def test_backfill_replays_the_archive_and_twice_changes_nothing(surgehub_home: Path) -> None:
    good = _write(surgehub_home, "good.csv", csv_bytes([hub_row("00V-H1", DAY)]))
    bad = _write(surgehub_home, "bad.csv", csv_bytes([hub_row("00V-H1", DAY, appts_booked=101)]))
    assert _run("ingest", str(good), "--locality", "00V").exit_code == 0
    assert _run("ingest", str(bad), "--locality", "00V").exit_code == 1
    (surgehub_home / "warehouse.sqlite").unlink()  # lose the warehouse; keep the archive
    for suffix in ("-wal", "-shm"):
        (surgehub_home / f"warehouse.sqlite{suffix}").unlink(missing_ok=True)
    from surgehub.warehouse.db import dispose_engines

    dispose_engines()

    archive_dir = surgehub_home / "archive"
    first = _run("backfill", str(archive_dir), "--json")
    assert first.exit_code == 0, first.output
    counts = json.loads(first.stdout)
    assert (counts["files"], counts["accepted"], counts["rejected"]) == (2, 1, 1)
    second = _run("backfill", str(archive_dir), "--json")
    assert json.loads(second.stdout)["replayed"] == 2
    rag = json.loads(_run("rag", "--date", "2026-11-24", "--as-of", "2026-11-25T14:00", "--json").stdout)
    assert rag["localities"][1]["status"] == "GREEN"
