"""The shared ingest cases (ingest_cases.py) on a fresh SQLite warehouse per test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from surgehub.warehouse import db
from tests.unit.warehouse.ingest_cases import *  # noqa: F403 - the shared cases are the tests here

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from sqlalchemy import Connection, Engine


@pytest.fixture
def warehouse(surgehub_home: Path) -> Iterator[Engine]:
    engine = db.upgrade(f"sqlite:///{surgehub_home / 'warehouse.sqlite'}")
    yield engine
    engine.dispose()


@pytest.fixture
def breaker() -> Callable[[Connection], None]:
    """Break the connection under a transaction: close SQLite's DBAPI connection mid-load."""

    def close(connection: Connection) -> None:
        connection.connection.dbapi_connection.close()  # type: ignore[union-attr]

    return close
