"""`surgehub health`'s checks on a real SQLite warehouse: each one passes, and each one fails for its reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from surgehub.config import load_settings
from surgehub.health import check_health
from surgehub.resources import Resources
from surgehub.warehouse import db
from surgehub.warehouse.db import writer
from tests.support.timeline import london
from tests.support.warehouse import record_submission

if TYPE_CHECKING:
    from pathlib import Path


def _resources(surgehub_home: Path) -> Resources:
    return Resources.of(load_settings())


def test_a_migrated_warehouse_and_a_writable_landing_zone_are_healthy(surgehub_home: Path) -> None:
    resources = _resources(surgehub_home)
    db.upgrade(resources.engine)
    health = check_health(resources)
    assert health.ok, health.to_json_dict()
    assert list(health.checks) == ["warehouse", "migrations", "activity", "landing", "landing_root"]
    assert health.checks["activity"]["detail"] == "last ingest never, last digest never"
    assert health.to_json_dict()["ok"] is True


def test_the_last_ingest_is_reported_in_utc(surgehub_home: Path) -> None:
    resources = _resources(surgehub_home)
    db.upgrade(resources.engine)
    processed = london(2026, 11, 25, 9, 0, 5)
    with writer(resources.engine).begin() as connection:
        record_submission(
            connection, sub_icb_code="14L", received_at=processed, outcome="rejected", file_name="a.csv"
        )
    health = check_health(resources)
    assert health.checks["activity"]["last_ingest"] == "2026-11-25T09:00:05Z"


def test_a_warehouse_behind_its_migrations_says_what_to_run(surgehub_home: Path) -> None:
    resources = _resources(surgehub_home)
    db.upgrade(resources.engine, "0001")
    health = check_health(resources)
    assert not health.ok
    assert health.checks["migrations"]["ok"] is False
    assert "run `surgehub db upgrade`" in health.checks["migrations"]["detail"]
    assert "activity" not in health.checks  # not read from a schema that is not current


def test_an_unreachable_warehouse_is_reported_not_raised(surgehub_home: Path) -> None:
    settings = load_settings()
    resources = Resources.of(settings, engine=db.get_engine("postgresql+psycopg://nobody@127.0.0.1:9/none"))
    health = check_health(resources)
    assert not health.ok
    assert health.checks["warehouse"]["ok"] is False
    assert health.checks["warehouse"]["detail"].startswith("not reachable:")
    assert health.checks["landing"]["ok"] is True  # the other checks still run


def test_a_landing_zone_that_cannot_be_written_fails_its_check(surgehub_home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    blocker = surgehub_home / "not-a-folder"
    blocker.write_text("a file where the landing folder should be")
    monkeypatch.setenv("SURGEHUB_LANDING_DIR", str(blocker))
    resources = _resources(surgehub_home)
    db.upgrade(resources.engine)
    health = check_health(resources)
    assert health.checks["landing"]["ok"] is False
    assert "is not writable" in health.checks["landing"]["detail"]


def test_files_in_the_landing_root_are_reported_never_ok(surgehub_home: Path) -> None:
    from click.testing import CliRunner

    from surgehub.cli import cli

    resources = _resources(surgehub_home)
    db.upgrade(resources.engine)
    landing = resources.settings.landing_dir
    (landing / "14L").mkdir(parents=True, exist_ok=True)  # a locality folder is not unfiled
    (landing / "manchester-24nov.csv").write_bytes(b"activity_date\n")
    (landing / "Patient 943 476 5919.csv").write_bytes(b"x")
    (landing / ".partial.csv").write_bytes(b"x")  # hidden: still being written, not reported
    health = check_health(resources)
    assert not health.ok
    check = health.checks["landing_root"]
    assert check["ok"] is False
    assert check["unfiled"] == ["Patient [NHS number removed].csv", "manchester-24nov.csv"]
    assert "2 entries in the landing root" in check["detail"]
    assert "move each return into its locality's folder" in check["detail"]
    result = CliRunner().invoke(cli, ["health"])
    assert result.exit_code == 1, result.output
    assert "manchester-24nov.csv" in result.output
    assert "943 476 5919" not in result.output
