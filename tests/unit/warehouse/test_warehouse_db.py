"""Engines and migrations to head on an SQLite warehouse: WAL, foreign keys, upgrading twice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text

from surgehub.warehouse import db

if TYPE_CHECKING:
    from pathlib import Path


def test_engine_is_cached_per_url_and_sqlite_is_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'w.sqlite'}"
    engine = db.get_engine(url)
    assert db.get_engine(url) is engine
    assert not (tmp_path / "sub").exists()  # an engine creates nothing: upgrade does
    db.upgrade(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("pragma foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("pragma busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS


def test_postgres_urls_use_psycopg_3() -> None:
    assert db.normalise_url("postgresql://u@h/d").drivername == "postgresql+psycopg"


def test_a_new_file_is_behind_its_migrations_until_upgraded(tmp_path: Path) -> None:
    # The schema upgrade gives, and the register it seeds, are checked on SQLite and PostgreSQL alike
    # in tests/integration/warehouse/test_warehouse.py.
    engine = db.get_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    assert not db.migrations_current(engine)
    db.upgrade(engine)
    assert db.migrations_current(engine)


def test_upgrade_twice_changes_nothing(tmp_path: Path) -> None:
    # Issue 19: the register is data; seeding never overwrites or duplicates a fact recorded since.
    from datetime import UTC, datetime

    from surgehub.warehouse.register import rename_hub

    engine = db.upgrade(f"sqlite:///{tmp_path / 'w.sqlite'}")
    rename_hub(engine, "14L-H1", "renamed", actor="test", at=datetime(2026, 11, 25, tzinfo=UTC))
    db.upgrade(engine)
    with engine.connect() as connection:
        names = connection.execute(
            text("select hub_name from hub_version where hub_code = '14L-H1' order by hub_version_id")
        ).scalars()
        assert list(names) == ["Manchester North Surge Hub", "renamed"]  # the seed did not put it back
        assert connection.execute(text("select count(*) from hub_version")).scalar() == 17
        assert connection.execute(text("select count(*) from locality")).scalar() == 10


def test_ensure_warehouse_migrates_a_fresh_file(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    db.ensure_warehouse(engine)
    assert db.migrations_current(engine)
