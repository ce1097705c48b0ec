"""`surgehub validate FILE --locality CODE [--received-at] [--json]`: output and exit codes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from click.testing import CliRunner

from surgehub.cli import cli
from tests.support.corpus import CORPUS
from tests.support.returns import corpus_row, csv_bytes

if TYPE_CHECKING:
    from pathlib import Path

EXAMPLE = str(CORPUS / "example-return.csv")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_accepted_return_exits_0_with_the_json_shape() -> None:
    code, out, _ = run(EXAMPLE, "--locality", "14L", "--received-at", "2026-11-25T09:00", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["status"] == "accepted"
    assert payload["rows"] == 3
    assert payload["warnings"][0]["rule"] == "W01"


def test_rejected_return_exits_1_and_lists_errors_for_people(tmp_path: Path) -> None:
    path = tmp_path / "return.csv"
    path.write_bytes(csv_bytes([corpus_row(appts_offered="80")]))
    code, out, _ = run(str(path), "--locality", "14l", "--received-at", "2026-11-25T09:00")
    assert code == 1
    assert "REJECTED" in out
    assert "R09" in out
    assert "appts_booked" in out
    assert "more than appts_offered 80" in out


def test_received_at_defaults_to_the_injected_clock() -> None:
    # The test timeline's now is 2026-11-25 09:00 London, so the example's 2026-11-24 is in time.
    code, out, _ = run(EXAMPLE, "--locality", "14L", "--json")
    assert code == 0, out


def test_received_at_decides_r07() -> None:
    code, out, _ = run(EXAMPLE, "--locality", "14L", "--received-at", "2026-12-09T09:00", "--json")
    assert code == 1
    assert {e["rule"] for e in json.loads(out)["errors"]} == {"R07"}


def test_unknown_locality_is_a_usage_error() -> None:
    code, out, err = run(EXAMPLE, "--locality", "XYZ")
    assert code == 2
    assert out == ""
    assert "unknown locality" in err


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "nope.csv"), "--locality", "14L")
    assert code == 2
    assert "not found" in err


def test_bad_received_at_is_a_usage_error() -> None:
    code, _, err = run(EXAMPLE, "--locality", "14L", "--received-at", "yesterday")
    assert code == 2
    assert "ISO 8601" in err
