"""Overlapping ingest runs (the warehouse pool has several slots on PostgreSQL) may take the same file.

The run that loses the race must not fail (and alert operations) for a file the other run acknowledged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

import surgehub.ingest
from surgehub.config import Settings, load_settings
from surgehub.landing import ensure_landing, move_done
from surgehub.orchestration import tasks
from surgehub.resources import Resources
from tests.support.returns import write_return
from tests.support.timeline import later

if TYPE_CHECKING:
    from pathlib import Path


def _landed(settings: Settings) -> tuple[Path, list[dict[str, Any]]]:
    """Bury's return landed, and the ingest task's list of files naming it."""
    ensure_landing(settings.landing_dir)
    landed = write_return(settings.landing_dir / "00V", "00V")
    return landed, [{"path": str(landed), "locality": "00V", "received_at": later(0).isoformat()}]


def test_a_file_another_run_took_meanwhile_is_not_this_runs_failure(
    surgehub_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    landed, files = _landed(settings)
    real = surgehub.ingest.ingest_returns

    def the_other_run_moves_it_first(items, resources):  # type: ignore[no-untyped-def]
        move_done(landed, True)
        return real(items, resources)

    monkeypatch.setattr(surgehub.ingest, "ingest_returns", the_other_run_moves_it_first)
    result = tasks.ingest_files(files, Resources.of(settings))
    # Read whole and unchanged before the other run moved it (spec §4: read once, safely): recorded.
    assert [s["status"] for s in result["submissions"]] == ["accepted"]
    assert result["failures"] == []
    tasks.raise_for_unacknowledged(result)  # does not raise


def test_a_file_still_in_landing_that_was_not_acknowledged_is_a_failure(
    surgehub_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landed, files = _landed(load_settings())
    blocker = surgehub_home / "not-a-folder"
    blocker.write_text("a file where the archive folder should be")
    monkeypatch.setenv("SURGEHUB_ARCHIVE_DIR", str(blocker))
    result = tasks.ingest_files(files, Resources.of(load_settings()))
    assert len(result["failures"]) == 1
    assert landed.exists()
    with pytest.raises(RuntimeError, match="not acknowledged"):
        tasks.raise_for_unacknowledged(result)


def test_a_retried_run_recomputes_rag_for_returns_an_earlier_attempt_loaded(surgehub_home: Path) -> None:
    """An attempt killed after loading but before RAG (scheduler killed): the retry's replay names the days."""
    settings = load_settings()
    landed, files = _landed(settings)
    data = landed.read_bytes()
    first = tasks.ingest_files(files, Resources.of(settings))
    assert first["days"] == ["2026-11-24"]
    assert not landed.exists()
    landed.write_bytes(data)  # the killed attempt had not moved it yet: the retry finds it again
    again = tasks.ingest_files(files, Resources.of(settings))
    assert [s["status"] for s in again["submissions"]] == ["accepted"]
    assert again["days"] == ["2026-11-24"]
    # The same receipt, not a resend: no "already received" notice goes to the locality for it.
    assert [s["duplicate"] for s in again["submissions"]] == [False]
