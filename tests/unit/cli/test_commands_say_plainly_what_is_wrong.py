"""Commands that cannot do their work say so in one plain line, with the README's exit code, and change nothing.

Read-only commands never create or migrate a warehouse; a date outside every configured season is a
usage error; a database error is one line, never a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from surgehub.cli import cli
from surgehub.warehouse import db

if TYPE_CHECKING:
    from pathlib import Path


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _one_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_rag_on_a_warehouse_that_does_not_exist_creates_nothing(surgehub_home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    missing = surgehub_home / "nonexistent-dir" / "x.sqlite"
    monkeypatch.setenv("SURGEHUB_WAREHOUSE_URL", f"sqlite:///{missing}")
    result = _run("rag", "--date", "2026-11-24")
    assert result.exit_code == 2
    line = _one_line(result)
    assert line == f"surgehub rag: there is no warehouse at {missing}: run `surgehub db upgrade` to create it"
    assert not missing.parent.exists()
    assert result.stdout == ""  # no table of ten PENDING localities


def test_db_current_on_a_missing_warehouse_says_so_without_creating_it(surgehub_home: Path) -> None:
    result = _run("db", "current")
    assert result.exit_code == 1
    assert "there is no warehouse at" in result.stdout
    assert "`surgehub db upgrade` creates it" in result.stdout
    assert not (surgehub_home / "warehouse.sqlite").exists()


def test_rag_on_a_warehouse_behind_its_migrations_says_what_to_run(surgehub_home: Path) -> None:
    db.upgrade(f"sqlite:///{surgehub_home / 'warehouse.sqlite'}", "0001")
    result = _run("rag", "--date", "2026-11-24")
    assert result.exit_code == 2
    line = _one_line(result)
    assert "is not migrated (at 0001; this surgehub needs" in line
    assert line.endswith("run `surgehub db upgrade`")
    assert db.current_revisions(db.get_engine(f"sqlite:///{surgehub_home / 'warehouse.sqlite'}")) == {"0001"}


def test_token_list_does_not_migrate_either(surgehub_home: Path) -> None:
    result = _run("token", "list")
    assert result.exit_code == 2
    assert "run `surgehub db upgrade`" in _one_line(result)
    assert not (surgehub_home / "warehouse.sqlite").exists()


@pytest.mark.parametrize("day", ["2026-10-15", "2027-04-01"])
def test_a_date_outside_every_season_is_a_usage_error_naming_the_seasons(
    surgehub_home: Path, day: str
) -> None:
    result = _run("rag", "--date", day)
    assert result.exit_code == 2
    assert _one_line(result) == (
        f"surgehub rag: --date {day} is outside every season this configuration knows (2026-11-01 to 2027-03-31)"
    )


def test_a_past_season_in_the_configuration_stays_queryable(surgehub_home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = surgehub_home / "surgehub.yaml"
    config.write_text("past_seasons:\n  - {start: 2025-11-01, end: 2026-03-31}\n", encoding="utf-8")
    monkeypatch.setenv("SURGEHUB_CONFIG", str(config))
    assert _run("db", "upgrade").exit_code == 0
    result = _run("rag", "--date", "2026-01-15", "--as-of", "2026-02-01T09:00", "--json")
    assert result.exit_code == 0, result.output
    outside = _run("rag", "--date", "2026-10-15")
    assert "(2026-11-01 to 2027-03-31; 2025-11-01 to 2026-03-31)" in _one_line(outside)


def test_an_unreachable_warehouse_is_one_line_and_hides_the_password(
    surgehub_home: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SURGEHUB_WAREHOUSE_URL", "postgresql://surgehub:s3cret@127.0.0.1:9/nowhere")
    result = _run("rag", "--date", "2026-11-24")
    assert result.exit_code == 2
    line = _one_line(result)
    assert line.startswith(
        "surgehub rag: cannot read the warehouse postgresql+psycopg://surgehub:***@127.0.0.1:9/nowhere"
    )
    assert "s3cret" not in result.output


def test_revoking_an_unknown_token_is_a_usage_error(surgehub_home: Path) -> None:
    assert _run("db", "upgrade").exit_code == 0
    result = _run("token", "revoke", "zzzz")
    assert result.exit_code == 2
    assert (
        _one_line(result) == "surgehub token revoke: no token with prefix 'zzzz' (see `surgehub token list`)"
    )
