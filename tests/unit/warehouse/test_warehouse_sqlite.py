"""The shared warehouse cases (warehouse_cases.py) on a fresh SQLite warehouse per test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from surgehub.warehouse import db
from tests.unit.warehouse.warehouse_cases import *  # noqa: F403 - the shared cases are the tests here

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Engine


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Engine]:
    engine = db.upgrade(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    yield engine
    engine.dispose()
