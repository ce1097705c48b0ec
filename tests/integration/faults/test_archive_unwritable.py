"""The archive folder cannot be written: the return is not acknowledged as accepted, nothing is loaded,
no receipt goes out, and once the folder is writable again the same file is ingested exactly once.

The folder is made unwritable for real: ``chattr +i`` (immutable) when the tests run as root, who
ignores permission bits, else ``chmod 0555``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from surgehub.config import load_settings
from surgehub.ingest import Channel, IncomingReturn, ingest_returns
from surgehub.landing import ensure_landing
from surgehub.orchestration import tasks
from surgehub.resources import Resources
from surgehub.warehouse.db import get_engine
from tests.support.returns import hub_days, write_return
from tests.support.timeline import EARLY
from tests.support.warehouse import count

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CODE = "00Y"  # Oldham


def _make_unwritable(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("SKIPPED LOUDLY: running as root without chattr: cannot make a folder unwritable")
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"SKIPPED LOUDLY: chattr +i not supported here: {done.stderr.strip()}")
    else:
        folder.chmod(0o555)
    probe = folder / ".probe"
    try:
        probe.write_text("x")
    except OSError:
        return
    probe.unlink()
    pytest.skip("SKIPPED LOUDLY: the archive folder could not be made unwritable")


def _make_writable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], check=False)
    folder.chmod(0o755)


@pytest.fixture
def unwritable_archive(surgehub_home: Path) -> Iterator[Path]:
    folder = load_settings().archive_dir
    _make_unwritable(folder)
    try:
        yield folder
    finally:
        _make_writable(folder)


def test_ingest_does_not_acknowledge_a_return_it_could_not_keep(
    surgehub_home: Path, unwritable_archive: Path
) -> None:
    settings = load_settings()
    engine = get_engine(settings.warehouse_url)
    path = write_return(surgehub_home / "in", CODE)
    item = IncomingReturn(path=path, locality=CODE, channel=Channel.FOLDER, received_at=EARLY)

    [outcome] = ingest_returns([item], Resources.of(settings, engine=engine))
    assert outcome.status == "error"
    assert outcome.submission_id is None
    assert outcome.to_json_dict()["status"] == "error"  # never "accepted"
    assert (
        count(engine, "select count(*) from submission"),
        count(engine, "select count(*) from hub_day_version"),
    ) == (0, 0)
    assert path.exists()

    _make_writable(unwritable_archive)
    [again] = ingest_returns([item], Resources.of(settings, engine=engine))
    assert (again.status, again.duplicate, again.replayed) == ("accepted", False, False)
    [third] = ingest_returns([item], Resources.of(settings, engine=engine))
    assert third.replayed  # the same receipt: recognised, nothing written
    assert count(engine, "select count(*) from submission") == 1
    assert count(engine, "select count(*) from hub_day_version") == hub_days(CODE)


def test_the_ingest_task_leaves_the_file_in_landing_and_fails_the_run(
    surgehub_home: Path, unwritable_archive: Path
) -> None:
    settings = load_settings()
    ensure_landing(settings.landing_dir)
    landed = write_return(settings.landing_dir / CODE, CODE, name="oldham.csv")
    files = [{"path": str(landed), "locality": CODE, "received_at": EARLY.isoformat()}]

    result = tasks.ingest_files(files, Resources.of(settings))
    assert [s["status"] for s in result["submissions"]] == ["error"]
    assert tasks.send_receipts(result, Resources.of(settings)) == 0  # no receipt for what was not kept
    assert landed.exists(), "an unacknowledged file must stay in landing for the retry"
    with pytest.raises(RuntimeError):
        tasks.raise_for_unacknowledged(result)
