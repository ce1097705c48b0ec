"""The shared ingest cases (tests/unit/warehouse/ingest_cases.py) on the real PostgreSQL server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.unit.warehouse.ingest_cases import *  # noqa: F403 - the shared cases are the tests here

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Connection

pytestmark = pytest.mark.postgres


@pytest.fixture
def breaker(postgres_url: str) -> Callable[[Connection], None]:
    """Break the connection for real: another session terminates the loading backend mid-load."""
    import psycopg

    from surgehub.warehouse.db import normalise_url

    url = normalise_url(postgres_url)

    def terminate(connection: Connection) -> None:
        pid = connection.connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
        with psycopg.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
        ) as admin:
            admin.execute("select pg_terminate_backend(%s)", (pid,))

    return terminate
