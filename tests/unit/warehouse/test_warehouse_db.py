"""Engines, migrations to head and the reference-data seed on an SQLite warehouse."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from surgehub import reference
from surgehub.warehouse import db, tables

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


def test_upgrade_creates_the_schema_of_tables_py_and_seeds_reference(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    assert not db.migrations_current(engine)
    db.upgrade(engine)
    assert db.migrations_current(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), tables.metadata)
        assert diff == []
        assert connection.execute(select(func.count()).select_from(tables.hub)).scalar() == len(
            reference.shipped_hubs()
        )
        codes = connection.execute(
            select(tables.locality.c.sub_icb_code).order_by(tables.locality.c.sort_order)
        ).scalars()
        assert list(codes) == [loc.sub_icb_code for loc in reference.localities()]


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
