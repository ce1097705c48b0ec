"""The shared warehouse cases (tests/unit/warehouse/warehouse_cases.py) on the real PostgreSQL server."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from surgehub.warehouse import db, tables
from tests.unit.warehouse.warehouse_cases import *  # noqa: F403 - the shared cases are the tests here

pytestmark = pytest.mark.postgres


def test_migrations_give_the_schema_of_tables_py_on_postgresql(warehouse: Engine) -> None:
    assert db.migrations_current(warehouse)
    with warehouse.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), tables.metadata) == []
        assert connection.execute(text("select count(*) from locality")).scalar() == 10


def test_instants_are_timestamptz(warehouse: Engine) -> None:
    with warehouse.connect() as connection:
        kind = connection.execute(
            text(
                "select data_type from information_schema.columns "
                "where table_name = 'hub_day_version' and column_name = 'received_at'"
            )
        ).scalar()
    assert kind == "timestamp with time zone"
