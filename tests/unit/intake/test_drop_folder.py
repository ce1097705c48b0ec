"""The drop folder (spec §4, issue 15): regular files only, complete files only, nothing leaked.

Each test drops something into ``landing/14L/`` and runs an ingest as a manual run does
(``files_from_context({})`` then ``ingest_files``), or drives the landing watcher itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import stat
import time
from typing import TYPE_CHECKING

import pytest
from landing_trigger import LandingZoneTrigger
from sqlalchemy import select

from surgehub import sample
from surgehub.config import load_settings
from surgehub.landing import NotTaken, Refusal, Skip, ensure_landing, read_landed, survey
from surgehub.mail.refusals import notice_mails
from surgehub.orchestration import tasks
from surgehub.orchestration.intake import take
from surgehub.resources import Resources
from surgehub.warehouse import tables
from surgehub.warehouse.db import ensure_warehouse, get_engine
from tests.hostile.corpus import DAY

if TYPE_CHECKING:
    from pathlib import Path

NHS_NUMBER = "943 476 5919"  # passes the modulus-11 check


def valid(seed: int = 1, **edit: str) -> bytes:
    rows = sample.locality_rows("14L", [DAY], random.Random(seed))
    for r in rows:
        r.update(edit)
    return sample.to_csv(rows)


@pytest.fixture
def landing(surgehub_home: Path) -> Path:
    settings = load_settings()
    ensure_landing(settings.landing_dir)
    ensure_warehouse(get_engine(settings.warehouse_url))
    return settings.landing_dir


def old(path: Path) -> Path:
    """Make a file look written long ago (a complete file a manual run takes at once)."""
    then = time.time() - 60
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def manual_run() -> dict[str, object]:
    resources = Resources.from_env()
    return tasks.ingest_files(tasks.files_from_context({}, resources), resources)


def submissions() -> list[object]:
    engine = get_engine(load_settings().warehouse_url)
    with engine.connect() as connection:
        return list(connection.execute(select(tables.submission)).all())


def everything_written(home: Path) -> bytes:
    """Every byte the system wrote under its home, but the landing originals (what could leak)."""
    found = b""
    for path in home.rglob("*"):
        if path.is_file() and not path.is_symlink() and "landing" not in path.parts:
            found += path.read_bytes()
    return found


@pytest.mark.parametrize("target", ["/etc/passwd", "secret"])
def test_a_link_is_refused_unread_moved_aside_and_the_locality_told(
    landing: Path, surgehub_home: Path, tmp_path: Path, target: str
) -> None:
    if target == "secret":
        secret = tmp_path / "secret.txt"
        secret.write_text("password=SuperSecret123\n")
        target = str(secret)
    link = landing / "14L" / "passwd.csv"
    link.symlink_to(target)
    result = manual_run()
    assert submissions() == []
    assert result["submissions"] == []
    [notice] = result["refused"]  # type: ignore[misc]
    assert (notice["locality"], notice["reason"], notice["name"]) == ("14L", "link", "passwd.csv")
    moved = landing / "14L" / "rejected" / "passwd.csv"
    assert moved.is_symlink()
    assert os.readlink(moved) == target
    assert not os.path.lexists(link)
    written = everything_written(surgehub_home)
    assert b"root:x:0:0" not in written
    assert b"SuperSecret123" not in written
    settings = load_settings().overridden({"email": {"locality_contacts": {"14L": ["data@example.nhs.uk"]}}})
    [mail] = notice_mails([notice], settings)
    assert "passwd.csv" in mail.subject
    assert "is a link" in mail.text
    assert mail.period_key == f"not_taken:{notice['key']}"
    assert manual_run()["refused"] == []  # reported once: it has left the folder


def test_a_fifo_a_folder_and_in_progress_names_are_never_opened(landing: Path) -> None:
    folder = landing / "14L"
    os.mkfifo(folder / "pipe.csv")  # opening it for reading would block forever
    (folder / "a-folder").mkdir()
    for name in (".hidden.csv", "upload.csv.part", "upload.csv.partial", "x.tmp", "y.csv.filepart"):
        (folder / name).write_bytes(valid())
        old(folder / name)
    result = manual_run()
    assert sorted((n["name"], n["reason"]) for n in result["refused"]) == [  # type: ignore[union-attr]
        ("a-folder", "not_regular"),
        ("pipe.csv", "not_regular"),
    ]
    assert stat.S_ISFIFO(os.lstat(folder / "rejected" / "pipe.csv").st_mode)
    assert submissions() == []
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted(
        [".hidden.csv", "upload.csv.part", "upload.csv.partial", "x.tmp", "y.csv.filepart"]
    )  # simply waited for


def test_a_file_swapped_for_a_link_after_it_was_seen_is_refused(landing: Path) -> None:
    path = landing / "14L" / "r.csv"
    path.write_bytes(valid())
    [seen] = survey(landing).files
    path.unlink()
    path.symlink_to("/etc/passwd")
    with pytest.raises(NotTaken) as refused:
        read_landed(path, landing_dir=landing, max_bytes=5 << 20, expected=(seen.size, seen.mtime_ns))
    assert refused.value.reason is Refusal.LINK


def test_a_path_outside_the_locality_folders_is_never_read(landing: Path) -> None:
    resources = Resources.from_env()
    intake = take(
        [{"path": "/etc/passwd", "locality": "14L", "received_at": "2026-11-25T09:00:00Z"}], resources
    )
    assert intake.items == []
    assert intake.left == ["/etc/passwd"]
    with pytest.raises(NotTaken) as outside:
        read_landed(landing / "14L" / "processed" / "x.csv", landing_dir=landing, max_bytes=10)
    assert outside.value.reason is Skip.OUTSIDE


def test_an_oversized_file_is_hashed_unread_refused_f01_and_never_archived(
    landing: Path, surgehub_home: Path
) -> None:
    big = landing / "14L" / "big.csv"
    with big.open("wb") as handle:  # 100 MB, sparse: the test machine's disk is spared
        handle.truncate(100 * 1024 * 1024)
    old(big)
    taken = read_landed(big, landing_dir=landing, max_bytes=5 << 20)
    assert taken.data is None
    assert taken.size == 100 * 1024 * 1024
    result = manual_run()
    [row] = submissions()
    assert (row.outcome, row.size_bytes, row.sha256, row.archive_path) == (
        "rejected",
        taken.size,
        taken.sha256,
        None,
    )
    assert [e["rule"] for e in row.errors] == ["F01"]
    assert (landing / "14L" / "rejected" / "big.csv").exists()
    assert not (surgehub_home / "archive").exists() or not any((surgehub_home / "archive").rglob("*big*"))
    assert result["submissions"][0]["status"] == "rejected"  # type: ignore[index]


def test_an_r16_original_goes_to_the_quarantine_only(landing: Path, surgehub_home: Path) -> None:
    path = landing / "14L" / "r16.csv"
    path.write_bytes(valid(comments=f"patient {NHS_NUMBER} seen"))
    old(path)
    result = manual_run()
    assert result["submissions"][0]["quarantined"]  # type: ignore[index]
    assert not path.exists()
    for folder in ("processed", "rejected"):
        assert list((landing / "14L" / folder).iterdir()) == []
    [kept] = [p for p in (surgehub_home / "quarantine").rglob("*.csv")]
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert NHS_NUMBER.encode() not in everything_written(surgehub_home).replace(kept.read_bytes(), b"")


def test_a_patient_number_in_a_file_name_is_never_repeated(
    landing: Path, surgehub_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = landing / "14L" / f"Patient {NHS_NUMBER}.csv"
    path.write_bytes(valid())
    old(path)
    caplog.set_level(logging.INFO)
    result = manual_run()
    digits = NHS_NUMBER.replace(" ", "")
    stored = [row.file_name for row in submissions()]
    assert stored
    assert all(NHS_NUMBER not in name for name in stored)
    names = " ".join(str(p) for p in surgehub_home.rglob("*"))
    assert NHS_NUMBER not in names
    assert digits not in names
    assert NHS_NUMBER not in caplog.text
    assert NHS_NUMBER not in str(result)


def test_a_manual_run_waits_for_a_file_still_being_written_and_leaves_it(landing: Path) -> None:
    path = landing / "14L" / "slow.csv"
    data = valid()
    path.write_bytes(data[:200])  # half written, just now
    resources = Resources.from_env()

    def writer_goes_on(_seconds: float) -> None:
        with path.open("ab") as handle:
            handle.write(data[200:300])

    files = tasks.files_from_context({}, resources)
    intake = take(files, resources, sleep=writer_goes_on)
    assert intake.items == []
    assert intake.left == [str(path)]

    def writer_done(_seconds: float) -> None:
        path.write_bytes(data)
        old(path)

    intake = take(files, resources, sleep=writer_done)
    assert intake.items == []  # changed since it was first seen: left for the watcher, never half-read

    intake = take(tasks.files_from_context({}, resources), resources, sleep=lambda _s: None)
    [item] = intake.items
    assert item.content is not None
    assert item.content.data == data


def test_the_watcher_never_announces_a_slow_writer_half_written(landing: Path) -> None:
    """A writer pausing for longer than a poll (as the review's 8 s pause) but less than the quiet period."""
    target = landing / "14L" / "slow-writer.csv"
    data = valid()
    poll, quiet = 0.1, 1.0

    async def scenario() -> dict:
        events = LandingZoneTrigger(str(landing), poll_interval=poll, quiet_seconds=quiet).run()
        target.write_bytes(data[:100])

        async def writer() -> None:
            await asyncio.sleep(quiet * 0.7)  # a pause of many polls
            with target.open("ab") as handle:
                handle.write(data[100:])

        writing = asyncio.create_task(writer())
        event = await asyncio.wait_for(anext(events), timeout=20)
        await writing
        await events.aclose()
        return event.payload

    payload = asyncio.run(scenario())
    assert payload["size"] == len(data) == target.stat().st_size
    assert payload["renamed"] is False


def test_the_watcher_takes_a_renamed_in_file_at_once(landing: Path, tmp_path: Path) -> None:
    staged = tmp_path / "staged.csv"
    staged.write_bytes(valid())

    async def scenario() -> tuple[dict, float]:
        events = LandingZoneTrigger(str(landing), poll_interval=0.2, quiet_seconds=60).run()
        first = asyncio.ensure_future(anext(events))
        await asyncio.sleep(1.0)  # the watcher is up and its inotify observer running
        started = time.monotonic()
        os.rename(staged, landing / "14L" / "renamed.csv")
        event = await asyncio.wait_for(first, timeout=20)
        await events.aclose()
        return event.payload, time.monotonic() - started

    payload, waited = asyncio.run(scenario())
    assert payload["renamed"] is True
    assert payload["path"].endswith("renamed.csv")
    assert waited < 30  # far less than the 60 s quiet period: taken on the rename itself
    result = tasks.ingest_files([{**payload, "received_at": payload["first_seen"]}], Resources.from_env())
    assert result["submissions"][0]["status"] == "accepted"  # type: ignore[index]


def test_an_oversized_file_named_with_a_patient_number_goes_to_the_quarantine(
    landing: Path, surgehub_home: Path
) -> None:
    big = landing / "14L" / f"{NHS_NUMBER}.csv"
    with big.open("wb") as handle:
        handle.truncate(6 * 1024 * 1024)
    old(big)
    result = manual_run()
    [row] = submissions()
    assert row.quarantined
    assert [e["rule"] for e in row.errors] == ["R16", "F01"]
    assert NHS_NUMBER not in row.file_name
    assert not os.path.lexists(big)
    assert list((landing / "14L" / "rejected").iterdir()) == []
    [kept] = [p for p in (surgehub_home / "quarantine").rglob("*.csv")]
    assert kept.stat().st_size == 6 * 1024 * 1024
    assert NHS_NUMBER not in str(result)


def test_a_name_with_line_breaks_and_a_bidi_override_is_written_plain(
    landing: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = landing / "14L" / "evil\nINFO forged line\u202ecsv.csv"
    path.write_bytes(valid(seed=2))
    old(path)
    caplog.set_level(logging.INFO)
    manual_run()
    [row] = submissions()
    assert "\n" not in row.file_name
    assert "\u202e" not in row.file_name
    assert "forged line" in row.file_name  # the words stay, shown plain
    assert not [r for r in caplog.records if "\n" in r.getMessage()]
