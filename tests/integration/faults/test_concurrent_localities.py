"""Ten localities submit twenty returns each, all at once: every return is loaded once, none is lost.

Ten processes (one per locality, released together by a barrier) each ingest their twenty returns
through ``ingest_returns`` into the same warehouse: ten activity days, each sent and then revised.
Afterwards there are exactly 200 accepted submissions, every hub-day has versions 1 and 2 and nothing
else, exactly one of them current — the revision, received later.
Run on the embedded SQLite warehouse (writers serialised by ``BEGIN IMMEDIATE``) and on PostgreSQL
(the advisory lock).
"""

from __future__ import annotations

import multiprocessing
import os
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from surgehub import reference
from surgehub.config import load_settings
from surgehub.resources import Resources
from surgehub.warehouse import db
from tests.support.returns import hub_days, write_return
from tests.support.timeline import later
from tests.support.warehouse import count, doubled_hub_days

if TYPE_CHECKING:
    from sqlalchemy import Engine

DAYS = [date(2026, 11, 15) + timedelta(days=n) for n in range(10)]  # all within the 14-day window
RETURNS_PER_LOCALITY = 2 * len(DAYS)


def _submit(code: str, folder: str, url: str, barrier: Any, queue: Any) -> None:
    """One locality's twenty returns, one ingest run each, in the order it sends them."""
    from surgehub.ingest import Channel, IncomingReturn, ingest_returns

    try:
        os.environ["SURGEHUB_WAREHOUSE_URL"] = url
        settings = load_settings()
        engine = db.get_engine(url)
        items = []
        for n, day in enumerate(DAYS):
            sent = later(n)
            original = write_return(Path(folder), code, day, seed=n)
            revised = write_return(
                Path(folder), code, day, seed=n, name=f"{code}-{day}-rev.csv", signed_off_by="Revised: lead"
            )
            items += [
                IncomingReturn(path=original, locality=code, channel=Channel.FOLDER, received_at=sent),
                IncomingReturn(
                    path=revised, locality=code, channel=Channel.FOLDER, received_at=sent + timedelta(hours=2)
                ),
            ]
        barrier.wait(timeout=60)
        statuses = [ingest_returns([item], Resources.of(settings, engine=engine))[0].status for item in items]
        queue.put((code, statuses, None))
    except Exception as exc:  # reported to the test, which fails with it
        queue.put((code, [], f"{type(exc).__name__}: {exc}"))


def test_ten_localities_twenty_returns_each_at_once(surgehub_home: Path, warehouse: Engine) -> None:
    from surgehub.returns.gx_runtime import _runtime

    warehouse_url = load_settings().warehouse_url  # SQLite or PostgreSQL, as the fixture chose
    db.dispose_engines()  # no connection crosses the fork
    _runtime()  # GX imported once, before the fork, rather than in each child
    codes = [loc.sub_icb_code for loc in reference.localities()]
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(len(codes)), context.Queue()
    workers = [
        context.Process(
            target=_submit, args=(code, str(surgehub_home / "in" / code), warehouse_url, barrier, queue)
        )
        for code in codes
    ]
    for worker in workers:
        worker.start()
    reports = [queue.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert [error for _, _, error in reports if error] == []
    assert all(statuses == ["accepted"] * RETURNS_PER_LOCALITY for _, statuses, _ in reports), reports

    engine = db.get_engine(warehouse_url)
    expected_hub_days = sum(hub_days(code, day) for code in codes for day in DAYS)
    assert count(engine, "select count(*) from submission") == len(codes) * RETURNS_PER_LOCALITY
    assert count(engine, "select count(*) from submission where outcome <> 'accepted'") == 0
    assert count(engine, "select count(*) from hub_day_version") == 2 * expected_hub_days
    assert count(engine, "select count(*) from hub_day_version where version not in (1, 2)") == 0
    assert count(engine, "select count(*) from hub_day_version where is_current") == expected_hub_days
    assert (
        count(
            engine,
            "select count(*) from hub_day_version where is_current and signed_off_by = 'Revised: lead'",
        )
        == expected_hub_days
    )
    assert doubled_hub_days(engine) == []
    archived = list(load_settings().archive_dir.rglob("*.csv"))
    assert len(archived) == len(codes) * RETURNS_PER_LOCALITY
