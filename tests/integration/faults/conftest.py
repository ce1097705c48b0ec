"""Fault-tolerance tests: a throwaway PostgreSQL database for each test.

Every test here breaks one real component (the PostgreSQL connection, the SMTP server, the
scheduler, the archive folder) or loads the pipeline with concurrent submitters, then checks the
one thing that matters: no return is lost and none is loaded twice. Their helpers are in tests/support/.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.postgres import throwaway_database

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test, dropped afterwards."""
    with throwaway_database("surgehub_faults") as url:
        yield url
