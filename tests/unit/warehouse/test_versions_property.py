"""Property: whatever order versions arrive in, the current one is the newest receipt (then arrival)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surgehub.warehouse import db
from tests.support.returns import hub_row
from tests.support.timeline import RECEIVED_AT
from tests.support.warehouse import submit, versions_of

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Engine

_days = itertools.count()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("versions") / "warehouse.sqlite"
    engine = db.upgrade(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(receipt_minutes=st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=6))
def test_current_version_is_newest_receipt_then_arrival(engine: Engine, receipt_minutes: list[int]) -> None:
    day = date(2020, 1, 1) + timedelta(days=next(_days))  # a fresh hub-day for every example
    base = RECEIVED_AT
    for arrival, minutes in enumerate(receipt_minutes):
        submit(
            engine, base + timedelta(minutes=minutes), [hub_row("00V-H1", day, appts_offered=100 + arrival)]
        )
    with engine.connect() as connection:
        versions = versions_of(connection, "00V-H1", day)
    assert [v["version"] for v in versions] == list(range(1, len(receipt_minutes) + 1))
    newest_arrival = max(range(len(receipt_minutes)), key=lambda i: (receipt_minutes[i], i))
    assert [v["appts_offered"] - 100 for v in versions if v["is_current"]] == [newest_arrival]
