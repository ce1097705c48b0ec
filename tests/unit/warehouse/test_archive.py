"""The archive: receipt-derived paths, atomic and idempotent writes, private quarantine, purge, order."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from surgehub import archive
from surgehub.archive import Receipt


def receipt(received: datetime, name: str = "Bolton return (v2).csv", sha: str = "ab" * 32) -> Receipt:
    return Receipt("00T", "folder", received, sha, name, 10, "accepted")


def test_path_is_locality_london_day_and_utc_stamp() -> None:
    # 23:30 UTC on 29 March 2027 is 00:30 BST on the 30th: the folder is the London day.
    path = archive.relative_path(receipt(datetime(2027, 3, 29, 23, 30, tzinfo=UTC)))
    assert path == Path("00T/2027-03-30/20270329T233000.000000Z_abababab_Bolton_return_v2_.csv")


def test_store_keeps_bytes_and_receipt_and_is_idempotent(tmp_path: Path) -> None:
    r = receipt(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    first = archive.store(tmp_path, r, b"data")
    assert first.created
    assert first.path.read_bytes() == b"data"
    record = json.loads(archive.receipt_path(first.path).read_text())
    assert record["received_at"] == "2026-11-25T09:00:00Z"
    assert Receipt.from_json_dict(record) == r
    again = archive.store(tmp_path, r, b"data")
    assert not again.created
    archive.discard(again)  # never removes what it did not write
    assert first.path.exists()
    archive.discard(first)
    assert not first.path.exists()
    assert not archive.receipt_path(first.path).exists()


def test_store_failure_is_an_archive_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(archive.ArchiveError):
        archive.store(blocker, receipt(datetime(2026, 11, 25, 9, 0, tzinfo=UTC)), b"data")


def test_private_store_is_readable_by_owner_only(tmp_path: Path) -> None:
    stored = archive.store(
        tmp_path / "q", receipt(datetime(2026, 11, 25, 9, 0, tzinfo=UTC)), b"d", private=True
    )
    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "q").stat().st_mode) == 0o700


def test_entries_in_receipt_order_and_purge_by_age(tmp_path: Path) -> None:
    now = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
    old = archive.store(tmp_path, receipt(now - timedelta(days=31), sha="11" * 32), b"old")
    new = archive.store(tmp_path, receipt(now - timedelta(days=2), sha="22" * 32), b"new")
    mid = archive.store(tmp_path, receipt(now - timedelta(days=29), sha="33" * 32), b"mid")
    assert [p for _, p in archive.entries(tmp_path)] == [old.path, mid.path, new.path]
    assert archive.purge(tmp_path, 30, now) == [old.path]
    assert [p for _, p in archive.entries(tmp_path)] == [mid.path, new.path]
