"""Backup and restore: a warehouse restored into a new database gives the same RAG answers, on
PostgreSQL (pg_dump/pg_restore) and SQLite, with every archived file back byte for byte; and it carries
everything issue 19 added: the register's and the commissioned plan's whole history, the audit trail
and the message archive (counted in the manifest)."""

from __future__ import annotations

import os
import random
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError

from surgehub import sample
from surgehub.backup import BackupError, backup, restore
from surgehub.config import load_settings
from surgehub.ingest import ingest_returns
from surgehub.rag import compute_rag
from surgehub.register import WEEKDAYS, Hub, Offer
from surgehub.resources import Resources
from surgehub.warehouse import audit, email_log
from surgehub.warehouse.db import get_engine, upgrade
from surgehub.warehouse.register import PlanInput, add_hub, read_register, set_plan
from tests.support.postgres import throwaway_database
from tests.support.returns import locality_rows, sent_return
from tests.support.timeline import BOARD_AT, DAY, RECEIVED_AT

if TYPE_CHECKING:
    from collections.abc import Iterator

    from surgehub.config import Settings


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


@pytest.mark.parametrize("python", ["with filter='data'", "without it (Debian bookworm's 3.11.2)"])
def test_restore_on_a_python_without_tar_filters_checks_every_member_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, python: str
) -> None:
    """The production image's Python has no ``filter=`` on extractall: restore makes the same checks."""
    import hashlib
    import io
    import json
    import tarfile

    if python.startswith("without"):
        monkeypatch.delattr(tarfile, "data_filter")
    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "source"))
    monkeypatch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
    settings = load_settings()
    upgrade(settings.warehouse_url)
    _load_week(tmp_path)
    backup(tmp_path / "backup", Resources.of(settings))
    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "restored"))
    restored = load_settings()
    restore(tmp_path / "backup", Resources.of(restored))
    assert _files(restored.archive_dir) == _files(settings.archive_dir)

    # A backup whose archive holds a member that climbs out, and one holding a link: refused, nothing written.
    for bad in ("archive/../../escaped.txt", "archive/link"):
        hostile = tmp_path / f"hostile-{bad.rsplit('/', 1)[-1]}"
        hostile.mkdir()
        for part in ("warehouse.sqlite", "gx-results.tar.gz"):
            (hostile / part).write_bytes((tmp_path / "backup" / part).read_bytes())
        with tarfile.open(hostile / "archive.tar.gz", "w:gz") as tar:
            info = tarfile.TarInfo(bad)
            if bad.endswith("link"):
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                info.size = 4
                tar.addfile(info, io.BytesIO(b"evil"))
        manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
        manifest["files"]["archive.tar.gz"] = hashlib.sha256(
            (hostile / "archive.tar.gz").read_bytes()
        ).hexdigest()
        (hostile / "manifest.json").write_text(json.dumps(manifest))
        monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / f"target-{hostile.name}"))
        with pytest.raises((BackupError, tarfile.TarError)):
            restore(hostile, Resources.of(load_settings()))
        assert not (tmp_path / "escaped.txt").exists()
        assert not list((tmp_path / f"target-{hostile.name}").rglob("link"))


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


# -- what issue 19 added ---------------------------------------------------------------------------

AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
MIME = b"From: surgehub@example.nhs.uk\r\nSubject: Board digest\r\n\r\nas sent\r\n"


def _changes(url: str) -> None:
    engine = get_engine(url)
    add_hub(
        engine,
        Hub("01W-H2", "01W", "Stockport East", date(2026, 11, 23), date(2027, 3, 31)),
        actor="ops",
        at=AT,
    )
    set_plan(
        engine,
        PlanInput(
            hub_code="01W-H2",
            valid_from=date(2026, 11, 23),
            valid_to=date(2027, 3, 31),
            offers=dict.fromkeys(WEEKDAYS, Offer(5, 90)),
        ),
        actor="ops",
        at=AT,
    )
    email_log.record_attempt(
        engine,
        kind="board",
        period_key="board:2026-11-26T07:30",
        recipient="board@example.nhs.uk",
        message_id="<m1@example>",
        subject="Board digest",
        status="sent",
        error=None,
        now=AT,
        mime=MIME,
    )


def _state(url: str) -> tuple:
    engine = get_engine(url)
    register = read_register(engine)
    return (
        register,
        [e.to_json_dict() for e in audit.events(engine)],
        [m.mime for m in email_log.archived_messages(engine, "board:2026-11-26T07:30")],
    )


def _check(manifest_counts: dict[str, int], counts: dict[str, int]) -> None:
    assert counts == manifest_counts
    assert manifest_counts["hub_version"] == 17
    assert manifest_counts["commissioned_plan"] == 17
    assert manifest_counts["audit_event"] == 2
    assert manifest_counts["email_message"] == 1


def test_sqlite_backup_restores_the_register_plan_audit_and_message_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "source"))
    monkeypatch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
    settings = load_settings()
    upgrade(settings.warehouse_url)
    _load_week(tmp_path)
    _changes(settings.warehouse_url)
    before = _state(settings.warehouse_url)
    from surgehub.gx.docs import build

    built = build(settings.home, engine=get_engine(settings.warehouse_url))
    assert built.page.exists()
    manifest = backup(tmp_path / "backup", Resources.of(settings))
    results = _gx_results(settings.home)
    assert results, "the week's ingest stored no GX validation result"
    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "restored"))
    restored = load_settings()
    counts = restore(tmp_path / "backup", Resources.of(restored))
    _check(manifest.counts, counts)
    assert _state(restored.warehouse_url) == before
    assert _gx_results(restored.home) == results  # every stored GX result, byte for byte
    assert not (restored.home / "gx" / "uncommitted" / "data_docs").exists()  # rebuilt, never backed up
    with pytest.raises(BackupError, match=r"GX results folder .* is not empty"):
        restore(tmp_path / "backup", Resources.of(_emptied_warehouse(restored)))


def _gx_results(home: Path) -> dict[str, bytes]:
    from surgehub.gx.store import results_dir

    return _files(results_dir(home))


def _emptied_warehouse(settings: Settings) -> Settings:
    """The same data folder with its warehouse and archive gone, so only the GX results are in the way."""
    import shutil

    get_engine(settings.warehouse_url).dispose()
    Path(str(make_url(settings.warehouse_url).database)).unlink()
    shutil.rmtree(settings.archive_dir)
    return settings


@pytest.mark.postgres
def test_postgres_backup_restores_the_register_plan_audit_and_message_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_databases: tuple[str, str]
) -> None:
    source_url, target_url = pg_databases
    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "source"))
    monkeypatch.setenv("SURGEHUB_WAREHOUSE_URL", source_url)
    upgrade(source_url)
    _load_week(tmp_path)
    _changes(source_url)
    before = _state(source_url)
    manifest = backup(tmp_path / "backup", Resources.of(load_settings()))
    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "restored"))
    monkeypatch.setenv("SURGEHUB_WAREHOUSE_URL", target_url)
    counts = restore(tmp_path / "backup", Resources.of(load_settings()))
    _check(manifest.counts, counts)
    assert _state(target_url) == before
    delete = text("delete from audit_event")
    with pytest.raises(DBAPIError, match="append-only"), get_engine(target_url).begin() as connection:
        connection.execute(delete)  # the trigger came back with the restore
