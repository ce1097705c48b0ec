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
            reference.hubs()
        )
        codes = connection.execute(
            select(tables.locality.c.sub_icb_code).order_by(tables.locality.c.sort_order)
        ).scalars()
        assert list(codes) == [loc.sub_icb_code for loc in reference.localities()]


def test_upgrade_twice_changes_nothing(tmp_path: Path) -> None:
    engine = db.upgrade(f"sqlite:///{tmp_path / 'w.sqlite'}")
    with engine.begin() as connection:
        connection.execute(text("update hub set hub_name = 'renamed' where hub_code = '14L-H1'"))
    db.upgrade(engine)
    with engine.connect() as connection:
        name = connection.execute(text("select hub_name from hub where hub_code = '14L-H1'")).scalar()
        assert name == "Manchester North Surge Hub"  # the refresh puts the register back
        assert connection.execute(text("select count(*) from locality")).scalar() == 10


def test_ensure_warehouse_migrates_a_fresh_file(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    db.ensure_warehouse(engine)
    assert db.migrations_current(engine)
