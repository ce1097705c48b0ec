"""The nightly housekeeping: quarantined (R16) files are deleted after the retention period (spec §4)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from surgehub import archive
from surgehub.config import load_settings
from surgehub.orchestration import tasks
from surgehub.resources import Resources
from tests.support.timeline import london

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

RUN_AT = london(2026, 12, 26, 2, 15)


def _quarantine(root: Path, received_days_ago: float, name: str) -> Path:
    data = f"a return refused under R16: {name}".encode()
    receipt = archive.Receipt(
        "14L",
        "folder",
        RUN_AT - timedelta(days=received_days_ago),
        f"{abs(hash(name)):064d}"[:64],
        name,
        len(data),
        "rejected",
    )
    return archive.store(root, receipt, data, private=True).path


def test_files_past_the_retention_are_deleted_and_the_rest_kept(
    surgehub_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings()
    assert settings.limits.quarantine_retention_days == 30
    old = _quarantine(settings.quarantine_dir, 30.01, "old-9434765919.csv")
    recent = _quarantine(settings.quarantine_dir, 29.99, "recent.csv")
    with caplog.at_level(logging.INFO):
        result = tasks.purge_quarantine(RUN_AT, Resources.of(settings))
    assert result == {"deleted": 1, "retention_days": 30}
    assert not old.exists()
    assert not archive.receipt_path(old).exists()
    assert recent.exists()
    assert archive.receipt_path(recent).exists()
    assert "9434765919" not in caplog.text, "file names are never logged"
    assert "old-" not in caplog.text, "file names are never logged"
    assert tasks.purge_quarantine(RUN_AT, Resources.of(settings))["deleted"] == 0  # idempotent


def test_an_empty_or_missing_quarantine_is_fine(surgehub_home: Path) -> None:
    assert tasks.purge_quarantine(RUN_AT, Resources.from_env())["deleted"] == 0
