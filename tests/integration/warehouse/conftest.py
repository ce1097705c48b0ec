"""A throwaway PostgreSQL database for this test session (created, migrated, dropped at the end).

PostgreSQL at 127.0.0.1:5432 (trust auth, user postgres or root, database ``test``) is required when
CI=true; elsewhere its absence skips these tests loudly.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, text

from surgehub.warehouse import db
from tests.conftest import port_open, require

if TYPE_CHECKING:
    from collections.abc import Iterator

PG_HOST = os.environ.get("SURGEHUB_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SURGEHUB_TEST_PG_PORT", "5432"))


def _admin_url() -> str | None:
    import psycopg

    for user in ("postgres", "root"):
        try:
            with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", connect_timeout=3):
                return f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}"
        except psycopg.Error:
            continue
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, migrated database that lives for the session."""
    import psycopg

    require(port_open(PG_HOST, PG_PORT), f"PostgreSQL at {PG_HOST}:{PG_PORT}")
    base = _admin_url()
    require(base is not None, f"a PostgreSQL login (postgres or root, trust auth) at {PG_HOST}:{PG_PORT}")
    assert base is not None
    user = base.split("//")[1].split("@")[0]
    name = f"surgehub_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = f"{base}/{name}"
    try:
        db.upgrade(url)
        yield url
    finally:
        db.get_engine(url).dispose()
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def warehouse(postgres_url: str) -> Engine:
    """The session database, emptied of returns and results before each test (reference data kept)."""
    engine = db.get_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(
            text("truncate hub_day_version, submission, rag_result, email_log restart identity cascade")
        )
    return engine
