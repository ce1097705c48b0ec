"""The archive: receipt-derived paths, atomic and idempotent writes, private quarantine, purge, order."""

from __future__ import annotations

import json
import os
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


def test_many_files_kept_together_are_flushed_with_one_syncfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = archive._syncfs()
    assert real is not None  # Linux
    calls: list[int] = []
    monkeypatch.setattr(archive, "_syncfs", lambda: lambda fd: (calls.append(fd), real(fd))[1])
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    with archive.KeptTogether(6) as keeper:
        kept = [
            keeper.store(tmp_path / "a", receipt(start + timedelta(minutes=n), sha=f"{n:02d}" * 32), b"d")
            for n in range(6)
        ]
        assert calls == []  # nothing flushed while writing
        keeper.sync()
    assert len(calls) == 1  # one filesystem, one call
    assert all(k.path.read_bytes() == b"d" and archive.receipt_path(k.path).is_file() for k in kept)
    assert keeper.kept == kept


def test_a_few_files_kept_together_are_flushed_one_by_one_with_their_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[str] = []
    real_fsync = archive.os.fsync
    monkeypatch.setattr(
        archive.os,
        "fsync",
        lambda fd: (flushed.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd))[1],
    )
    monkeypatch.setattr(archive, "_syncfs", lambda: pytest.fail("syncfs for two files"))
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    with archive.KeptTogether(2) as keeper:
        first = keeper.store(tmp_path, receipt(start), b"one")
        keeper.store(tmp_path, receipt(start + timedelta(minutes=1), sha="cd" * 32), b"two")
        flushed.clear()  # each file and record was flushed as it was written (files.write_atomically)
        keeper.sync()
    day_folder = first.path.parent
    assert sorted(flushed) == sorted(str(p) for p in (day_folder, day_folder.parent, tmp_path))


def test_files_kept_together_that_cannot_be_flushed_are_an_archive_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "_syncfs", lambda: lambda _fd: -1)
    with archive.KeptTogether(6) as keeper:
        keeper.store(tmp_path, receipt(datetime(2026, 11, 25, 9, 0, tzinfo=UTC)), b"d")
        with pytest.raises(archive.ArchiveError, match="durable"):
            keeper.sync()
