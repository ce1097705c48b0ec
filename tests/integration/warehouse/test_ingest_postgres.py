"""The shared ingest cases (tests/unit/warehouse/ingest_cases.py) on the real PostgreSQL server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.postgres import terminate_backend
from tests.unit.warehouse.ingest_cases import *  # noqa: F403 - the shared cases are the tests here

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Connection

pytestmark = pytest.mark.postgres


@pytest.fixture
def breaker() -> Callable[[Connection], None]:
    """Break the connection for real: another session terminates the loading backend mid-load."""
    return terminate_backend
