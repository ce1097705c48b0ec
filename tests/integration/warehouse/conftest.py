"""A throwaway PostgreSQL database for this test session (created, migrated, dropped at the end).

PostgreSQL at 127.0.0.1:5432 (trust auth, user postgres or root, database ``test``) is required when
CI=true; elsewhere its absence skips these tests loudly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from surgehub.warehouse import db
from tests.support.postgres import empty_warehouse, throwaway_database

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, migrated database that lives for the session."""
    with throwaway_database("surgehub_test") as url:
        yield url


@pytest.fixture
def warehouse(postgres_url: str) -> Engine:
    """The session database, emptied of returns and results before each test (reference data kept)."""
    engine = db.get_engine(postgres_url)
    empty_warehouse(engine)
    return engine
