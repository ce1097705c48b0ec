"""The PostgreSQL connection is dropped mid-load: that return is not acknowledged and nothing of it stays;
the others in the same run are loaded once; a retry of the whole run loads the missing one, doubles none."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from surgehub.config import load_settings
from surgehub.ingest import ingest_returns
from surgehub.resources import Resources
from surgehub.warehouse import load
from tests.support.postgres import ON_POSTGRES_ONLY, terminate_backend
from tests.support.returns import hub_days, incoming_returns
from tests.support.warehouse import count, doubled_hub_days

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from sqlalchemy import Connection, Engine

CODES = ("14L", "00T", "01G")  # Manchester, Bolton, Salford


@ON_POSTGRES_ONLY
def test_connection_dropped_during_the_copy_loses_nothing_and_doubles_nothing(
    surgehub_home: Path, warehouse: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    engine = warehouse
    items = incoming_returns(surgehub_home / "in", CODES)
    expected_rows = sum(hub_days(code) for code in CODES)

    # The second return's connection dies while its versions are being copied in: its submission row
    # is already written inside the same transaction.
    original = load._copy_versions
    calls = {"n": 0}

    def copy_then_drop(connection: Connection, columns: dict[str, list[Any]]) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            terminate_backend(connection)
        original(connection, columns)

    monkeypatch.setattr(load, "_copy_versions", copy_then_drop)
    first = ingest_returns(items, Resources.of(settings, engine=engine))
    assert [o.status for o in first] == ["accepted", "error", "accepted"], [o.error for o in first]
    assert first[1].submission_id is None  # not acknowledged
    assert count(engine, "select count(*) from submission") == 2
    assert count(engine, "select count(*) from hub_day_version where sub_icb_code = '00T'") == 0
    archived = sorted(p.name for p in settings.archive_dir.rglob("*.csv"))
    assert len(archived) == 2
    assert not any("00T" in name for name in archived)

    monkeypatch.setattr(load, "_copy_versions", original)
    retry = ingest_returns(
        items, Resources.of(settings, engine=engine)
    )  # the whole run again, as Airflow retries
    assert [o.status for o in retry] == ["accepted"] * 3
    assert [o.replayed for o in retry] == [True, False, True]  # the two loaded before are recognised
    assert count(engine, "select count(*) from submission") == 3
    assert count(engine, "select count(*) from hub_day_version") == expected_rows
    assert count(engine, "select count(*) from hub_day_version where version <> 1") == 0
    assert doubled_hub_days(engine) == []
    assert len(list(settings.archive_dir.rglob("*.csv"))) == 3
