"""The shared warehouse cases (warehouse_cases.py) on a fresh SQLite warehouse per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from surgehub.warehouse import db
from tests.unit.warehouse.warehouse_cases import *  # noqa: F403 - the shared cases are the tests here


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Engine]:
    engine = db.upgrade(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    yield engine
    engine.dispose()
