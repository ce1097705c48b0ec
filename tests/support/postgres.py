"""PostgreSQL for tests: throwaway databases on the server at 127.0.0.1:5432 (trust auth, user postgres or
root, admin database ``test``), emptied warehouses and dropped connections.

Where the server is missing, ``require_postgres`` skips loudly; with CI=true it fails.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from surgehub.warehouse import db, tables
from tests.support.services import port_open, require

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Connection, Engine

PG_HOST = os.environ.get("SURGEHUB_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SURGEHUB_TEST_PG_PORT", "5432"))

#: The reference data a migration seeds: kept when a warehouse is emptied.
REFERENCE_TABLES = {"locality"}  # the register (hub, hub_version, plan) is seeded again

#: For a test that only means something on PostgreSQL: the ``warehouse`` fixture with its postgres case alone.
ON_POSTGRES_ONLY = pytest.mark.parametrize(
    "warehouse", [pytest.param("postgres", marks=pytest.mark.postgres, id="postgres")], indirect=True
)


def _login() -> str | None:
    import psycopg

    for user in ("postgres", "root"):
        try:
            with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", connect_timeout=3):
                return user
        except psycopg.Error:
            continue
    return None


def require_postgres() -> str:
    """The login to use on the test server; skips loudly (fails when CI=true) where there is none."""
    require(port_open(PG_HOST, PG_PORT), f"PostgreSQL at {PG_HOST}:{PG_PORT}")
    user = _login()
    require(user is not None, f"a PostgreSQL login (postgres or root, trust auth) at {PG_HOST}:{PG_PORT}")
    assert user is not None
    return user


def _admin(user: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as admin:
        admin.execute(sql)  # a database name cannot be a bound parameter


@contextmanager
def throwaway_database(prefix: str, *, migrate: bool = True) -> Iterator[str]:
    """The URL of a new database named ``prefix_<random>`` (migrated unless told), dropped afterwards."""
    user = require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin(user, f'create database "{name}"')
    url = f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    try:
        if migrate:
            db.upgrade(url)
        yield url
    finally:
        db.dispose_engines()
        _admin(user, f'drop database if exists "{name}" with (force)')


def empty_warehouse(engine: Engine) -> None:
    """Everything but the localities and hub codes removed, ids restarted, and the register and plan
    seeded again from the shipped CSVs: as a fresh migration leaves it (a test may have changed them)."""
    from surgehub.warehouse.seed import seed_register

    names = ", ".join(t.name for t in tables.metadata.sorted_tables if t.name not in REFERENCE_TABLES)
    with engine.begin() as connection:
        connection.execute(text(f"truncate {names} restart identity cascade"))
        seed_register(connection)


def terminate_backend(connection: Connection) -> None:
    """Another session kills this connection's server process: the connection really drops."""
    import psycopg

    url = connection.engine.url
    pid = connection.connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as admin:
        admin.execute("select pg_terminate_backend(%s)", (pid,))
