"""Backup and restore: a warehouse restored into a new database gives the same RAG answers, on
PostgreSQL (pg_dump/pg_restore) and SQLite, with every archived file back byte for byte."""

from __future__ import annotations

import os
import random
from contextlib import ExitStack
from typing import TYPE_CHECKING

import pytest

from surgehub import sample
from surgehub.backup import BackupError, backup, restore
from surgehub.config import load_settings
from surgehub.ingest import ingest_returns
from surgehub.rag import compute_rag
from surgehub.resources import Resources
from surgehub.warehouse.db import get_engine, upgrade
from tests.support.postgres import throwaway_database
from tests.support.returns import locality_rows, sent_return
from tests.support.timeline import BOARD_AT, DAY, RECEIVED_AT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def _load_week(tmp: Path) -> None:
    rng = random.Random(3)
    items = []
    for loc in ("00T", "14L", "01G", "02A"):
        profile = sample.RED if loc == "01G" else sample.GREEN
        items.append(sent_return(tmp, loc, locality_rows(loc, [DAY], rng, profile), RECEIVED_AT))
    rows = locality_rows("00V", [DAY], rng)
    rows[0]["appts_booked"] = "9999"
    items.append(sent_return(tmp, "00V", rows, RECEIVED_AT))
    outcomes = ingest_returns(items, Resources.of(load_settings()))
    assert [o.status for o in outcomes] == ["accepted"] * 4 + ["rejected"]


def _rag(url: str) -> dict:
    return compute_rag(get_engine(url), DAY, BOARD_AT, load_settings()).to_json_dict()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def pg_databases() -> Iterator[tuple[str, str]]:
    """Two empty databases, not migrated: the backup's source and the restore's target."""
    with ExitStack() as stack:
        yield tuple(  # type: ignore[misc]
            stack.enter_context(throwaway_database(prefix, migrate=False))
            for prefix in ("sh_backup", "sh_restore")
        )


@pytest.mark.postgres
def test_postgres_backup_restores_into_a_new_database_with_the_same_rag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_databases: tuple[str, str]
) -> None:
    source_url, target_url = pg_databases
    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "source"))
    monkeypatch.setenv("SURGEHUB_WAREHOUSE_URL", source_url)
    upgrade(source_url)
    _load_week(tmp_path)
    before = _rag(source_url)
    manifest = backup(tmp_path / "backup", Resources.of(load_settings()))
    assert manifest.dialect == "postgresql"
    assert manifest.counts["submission"] == 5

    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "restored"))
    monkeypatch.setenv("SURGEHUB_WAREHOUSE_URL", target_url)
    counts = restore(tmp_path / "backup", Resources.of(load_settings()))
    assert counts == manifest.counts
    assert _rag(target_url) == before
    assert _files(tmp_path / "restored" / "archive") == _files(tmp_path / "source" / "archive")


def test_sqlite_backup_restores_and_refuses_to_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "source"))
    monkeypatch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
    settings = load_settings()
    upgrade(settings.warehouse_url)
    _load_week(tmp_path)
    before = _rag(settings.warehouse_url)
    backup(tmp_path / "backup", Resources.of(settings))

    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "restored"))
    restored = load_settings()
    restore(tmp_path / "backup", Resources.of(restored))
    assert _rag(restored.warehouse_url) == before
    assert _files(restored.archive_dir) == _files(settings.archive_dir)

    with pytest.raises(BackupError, match="not empty"):
        restore(tmp_path / "backup", Resources.of(restored))  # nothing already stored is overwritten


def test_a_tampered_backup_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "source"))
    monkeypatch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
    settings = load_settings()
    upgrade(settings.warehouse_url)
    _load_week(tmp_path)
    backup(tmp_path / "backup", Resources.of(settings))
    with open(tmp_path / "backup" / "archive.tar.gz", "ab") as handle:
        handle.write(b"tampered")
    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "restored"))
    with pytest.raises(BackupError, match="checksum"):
        restore(tmp_path / "backup", Resources.of(load_settings()))
    assert (
        not (tmp_path / "restored" / "warehouse.sqlite").exists()
        or os.path.getsize(tmp_path / "restored" / "warehouse.sqlite") == 0
    )
