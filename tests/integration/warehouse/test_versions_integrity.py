"""hub_day_version without foreign keys (migration 0007): what they guaranteed still holds.

The loader checks a load's submission and hubs once (every row's hub a hub of the locality named beside
it) and writes nothing otherwise; triggers on ``hub`` and ``submission`` refuse to delete or re-key one
that versions name. And migration 0007 goes down and up again on both backends, keeping the versions.
Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from surgehub.warehouse import db, load, tables
from surgehub.warehouse.db import writer
from tests.support.postgres import ON_POSTGRES_ONLY, throwaway_database
from tests.support.returns import hub_row
from tests.support.timeline import DAY, RECEIVED_AT
from tests.support.warehouse import accepted_frame, record_submission, submit

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Connection


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"select count(*) from {table}")).scalar_one())


def _forget_register_of(connection: Connection, hub_code: str) -> None:
    """The register's and plan's rows of a hub deleted (each test rolls this back): they name it too."""
    for table in ("hub_version", "commissioned_plan"):
        connection.execute(text(f"delete from {table} where hub_code = :code"), {"code": hub_code})


def _change_with_the_register_gone(engine: Engine, statement: str) -> None:
    """``statement`` run after the register's rows of 00V-H1 are deleted, in one writer transaction."""
    with writer(engine).begin() as connection:
        _forget_register_of(connection, "00V-H1")
        connection.execute(text(statement))


def _load(engine: Engine, rows: list[dict], *, submission_id: int | None = None) -> None:
    """Rows loaded under a new accepted submission of 00V (or ``submission_id``), in one transaction."""
    with writer(engine).begin() as connection:
        if submission_id is None:
            submission_id = record_submission(
                connection, sub_icb_code="00V", received_at=RECEIVED_AT, data_rows=len(rows)
            )
        load.load_versions(
            connection,
            submission_id=submission_id,
            received_at=RECEIVED_AT,
            arrival_seq=1,
            rows=load.rows_from_frame(accepted_frame(rows)),
        )


@pytest.mark.parametrize(
    ("row", "named"),
    [
        (hub_row("00V-H9", DAY), "00V-H9 (not a hub)"),
        (hub_row("00V-H1", DAY, sub_icb_code="14L"), "00V-H1 (a hub of 00V, not 14L)"),
    ],
    ids=["unknown-hub", "hub-of-another-locality"],
)
def test_a_load_naming_a_hub_not_of_its_locality_writes_nothing(
    warehouse: Engine, row: dict, named: str
) -> None:
    with pytest.raises(ValueError, match=r"1 hub\(s\) not hubs of the locality named beside them") as raised:
        _load(warehouse, [hub_row("00V-H1", DAY), row])
    assert named in str(raised.value)
    assert _count(warehouse, "hub_day_version") == 0
    assert _count(warehouse, "submission") == 0  # the caller's transaction, rolled back


def test_a_load_under_an_unknown_submission_writes_nothing(warehouse: Engine) -> None:
    with pytest.raises(ValueError, match="submission 4242 does not exist"):
        _load(warehouse, [hub_row("00V-H1", DAY)], submission_id=4242)
    assert _count(warehouse, "hub_day_version") == 0


def test_hubs_and_submissions_that_versions_name_are_kept(warehouse: Engine) -> None:
    submission_id = submit(warehouse, RECEIVED_AT, [hub_row("00V-H1", DAY)])
    refused = [
        f"delete from submission where submission_id = {submission_id}",
        f"update submission set submission_id = 999 where submission_id = {submission_id}",
        "delete from hub where hub_code = '00V-H1'",
        "update hub set hub_code = '00V-HX' where hub_code = '00V-H1'",
    ]
    for statement in refused:
        with pytest.raises(IntegrityError, match="hub_day_version names"):  # not the register's keys
            _change_with_the_register_gone(warehouse, statement)
    with writer(warehouse).begin() as connection:
        # what names nothing may still change: another column of the same rows, a submission without versions
        connection.execute(
            text(f"update submission set file_name = 'x.csv' where submission_id = {submission_id}")
        )
        connection.execute(text("update hub set sub_icb_code = sub_icb_code where hub_code = '00V-H1'"))
        empty = record_submission(connection, sub_icb_code="00V", received_at=RECEIVED_AT, outcome="rejected")
        connection.execute(text(f"delete from submission where submission_id = {empty}"))
    assert _count(warehouse, "hub_day_version") == 1
    assert _count(warehouse, "submission") == 1


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres, id="postgres"),
    ]
)
def fresh_warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A warehouse of its own, migrated to head: this test moves its migrations down and up."""
    if request.param == "postgres":
        with throwaway_database("surgehub_migration") as url:
            yield db.get_engine(url)
        return
    engine = db.upgrade(f"sqlite:///{tmp_path / 'w.sqlite'}")
    yield engine
    engine.dispose()


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    config = db.alembic_config()
    with writer(engine).begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)


def test_migration_0007_goes_down_and_up_keeping_the_versions(fresh_warehouse: Engine) -> None:
    engine = fresh_warehouse
    submit(engine, RECEIVED_AT, [hub_row("00V-H1", DAY), hub_row("00V-H1", DAY - timedelta(days=1))])

    _migrate(engine, "downgrade", "0006")
    found = inspect(engine)
    assert {fk["referred_table"] for fk in found.get_foreign_keys("hub_day_version")} == {
        "submission",
        "hub",
        "locality",
    }
    assert "ix_hub_day_version_day" in {ix["name"] for ix in found.get_indexes("hub_day_version")}
    [key] = found.get_unique_constraints("hub_day_version")
    assert key["column_names"] == ["hub_code", "activity_date", "version"]
    assert _count(engine, "hub_day_version") == 2
    with pytest.raises(IntegrityError) as refused:
        _change_with_the_register_gone(engine, "delete from hub where hub_code = '00V-H1'")
    assert "hub_day_version names" not in str(refused.value)  # no trigger left: a foreign key refuses it

    _migrate(engine, "upgrade", "head")
    found = inspect(engine)
    assert found.get_foreign_keys("hub_day_version") == []
    [key] = found.get_unique_constraints("hub_day_version")
    assert key["column_names"] == ["activity_date", "hub_code", "version"]
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), tables.metadata) == []
    assert _count(engine, "hub_day_version") == 2
    with pytest.raises(IntegrityError, match="hub_day_version names"):  # the trigger again
        _change_with_the_register_gone(engine, "delete from hub where hub_code = '00V-H1'")
    submit(engine, RECEIVED_AT, [hub_row("00V-H1", DAY)])  # and loads number on from what was kept
    with engine.connect() as connection:
        v = tables.hub_day_version
        versions = connection.execute(
            select(v.c.version)
            .where(v.c.hub_code == "00V-H1", v.c.activity_date == DAY)
            .order_by(v.c.version)
        ).scalars()
        assert list(versions) == [1, 2]


@ON_POSTGRES_ONLY
def test_version_ids_are_reserved_in_one_block_and_the_sequence_moves_past_it(warehouse: Engine) -> None:
    # The loader sends the ids (one nextval and one setval a load) instead of a nextval per row.
    first = submit(warehouse, RECEIVED_AT, [hub_row("00V-H1", DAY - timedelta(days=n)) for n in range(3)])
    second = submit(warehouse, RECEIVED_AT, [hub_row("14L-H1", DAY - timedelta(days=n)) for n in range(2)])
    v = tables.hub_day_version
    with warehouse.connect() as connection:
        ids = connection.execute(select(v.c.submission_id, v.c.version_id).order_by(v.c.version_id)).all()
        following = connection.execute(
            text("select nextval(pg_get_serial_sequence('hub_day_version', 'version_id'))")
        ).scalar_one()
    start = ids[0].version_id
    assert [tuple(row) for row in ids] == [
        *((first, start + n) for n in range(3)),
        *((second, start + 3 + n) for n in range(2)),
    ]
    assert following == start + 5
