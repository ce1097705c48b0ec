"""Backup and restore carry everything issue 19 added: the register's and the commissioned plan's whole
history, the audit trail and the message archive (counted in the manifest), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from surgehub.backup import backup, restore
from surgehub.config import load_settings
from surgehub.register import WEEKDAYS, Hub, Offer
from surgehub.resources import Resources
from surgehub.warehouse import audit, email_log
from surgehub.warehouse.db import get_engine, upgrade
from surgehub.warehouse.register import PlanInput, add_hub, read_register, set_plan
from tests.integration import test_backup

_load_week = test_backup._load_week
pg_databases = test_backup.pg_databases  # the fixture: two fresh PostgreSQL databases

if TYPE_CHECKING:
    from pathlib import Path

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
    manifest = backup(tmp_path / "backup", Resources.of(settings))
    monkeypatch.setenv("SURGEHUB_HOME", str(tmp_path / "restored"))
    restored = load_settings()
    counts = restore(tmp_path / "backup", Resources.of(restored))
    _check(manifest.counts, counts)
    assert _state(restored.warehouse_url) == before


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
