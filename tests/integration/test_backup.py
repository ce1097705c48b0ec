"""Backup and restore: a warehouse restored into a new database gives the same RAG answers, on
PostgreSQL (pg_dump/pg_restore) and SQLite, with every archived file back byte for byte."""

from __future__ import annotations

import os
import random
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

import pytest

from surgehub import clock, sample
from surgehub.backup import BackupError, backup, restore
from surgehub.config import load_settings
from surgehub.ingest import Channel, IncomingReturn, ingest_returns
from surgehub.rag import compute_rag
from surgehub.resources import Resources
from surgehub.warehouse.db import dispose_engines, get_engine, upgrade
from tests.conftest import port_open, require

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DAY = date(2026, 11, 24)
AS_OF = datetime(2026, 11, 26, 7, 30, tzinfo=clock.LONDON)


def _load_week(tmp: Path) -> None:
    rng = random.Random(3)
    received = datetime(2026, 11, 25, 9, 0, tzinfo=clock.LONDON)
    items = []
    for loc in ("00T", "14L", "01G", "02A"):
        path = tmp / f"{loc}.csv"
        profile = sample.RED if loc == "01G" else sample.GREEN
        path.write_bytes(sample.to_csv(sample.locality_rows(loc, [DAY], rng, profile)))
        items.append(
            IncomingReturn(
                path=path, locality=loc, channel=Channel.CLI, received_at=received, file_name=path.name
            )
        )
    bad = tmp / "00V.csv"
    rows = sample.locality_rows("00V", [DAY], rng)
    rows[0]["appts_booked"] = "9999"
    bad.write_bytes(sample.to_csv(rows))
    items.append(
        IncomingReturn(
            path=bad, locality="00V", channel=Channel.CLI, received_at=received, file_name=bad.name
        )
    )
    outcomes = ingest_returns(items, Resources.of(load_settings()))
    assert [o.status for o in outcomes] == ["accepted"] * 4 + ["rejected"]


def _rag(url: str) -> dict:
    return compute_rag(get_engine(url), DAY, AS_OF, load_settings()).to_json_dict()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def pg_databases() -> Iterator[tuple[str, str]]:
    require(port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    import psycopg

    names = [f"sh_backup_{uuid.uuid4().hex[:8]}", f"sh_restore_{uuid.uuid4().hex[:8]}"]
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="test", autocommit=True) as admin:
        for name in names:
            admin.execute(f'create database "{name}"')
    try:
        yield tuple(f"postgresql+psycopg://postgres@127.0.0.1:5432/{n}" for n in names)  # type: ignore[misc]
    finally:
        dispose_engines()
        with psycopg.connect(host="127.0.0.1", user="postgres", dbname="test", autocommit=True) as admin:
            for name in names:
                admin.execute(f'drop database if exists "{name}" with (force)')


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
