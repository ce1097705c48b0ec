"""The scheduler is killed mid-run and restarted: every landed return is loaded once and acknowledged once.

The live system runs as separate Airflow processes (scheduler, triggerer, DAG processor, API server,
as in production) plus the loopback SMTP server. Ten returns land at once; as soon as the first is
in the warehouse — the ingest task is running — the scheduler's process group (the scheduler and the
LocalExecutor's task processes it started) is killed with SIGKILL, like a crashed host, and a new
scheduler is started. The new scheduler finds the orphaned task (heartbeat timeout shortened to 20 s
here), the task is retried, and the retry picks up where the killed one stopped: files already
loaded are recognised (same receipt), files not yet loaded are loaded. Nothing is lost or doubled.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, select

from surgehub import reference
from tests.support.live import Live, drop, live_system, receipts, wait_for
from tests.support.returns import exported_csv, hub_days, locality_rows
from tests.support.timeline import DAY
from tests.support.warehouse import count, doubled_hub_days

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.airflow, pytest.mark.smtp]

COMPONENTS = ("scheduler", "triggerer", "dag-processor", "api-server")
FAST_RECOVERY = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "10",
}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_system(tmp_path / "var", components=COMPONENTS, extra_env=FAST_RECOVERY) as system:
        yield system


def _submissions(engine: Engine) -> list[tuple[str, str]]:
    from surgehub.warehouse.tables import submission

    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(select(submission.c.file_name, submission.c.outcome))]


def _receipts(outbox: Path) -> Counter:
    return Counter((str(m["X-Surgehub-Period"]), str(m["To"])) for m in receipts(outbox))


def test_scheduler_killed_mid_run_loses_and_doubles_nothing(live: Live) -> None:
    settings, engine, system = live.settings, live.engine, live.system
    codes = [loc.sub_icb_code for loc in reference.localities()]
    landed = {}
    rng = random.Random(11)
    for code in codes:
        name = f"{code.lower()}-{DAY.isoformat()}.csv"
        landed[name] = drop(settings.landing_dir, code, name, exported_csv(locality_rows(code, [DAY], rng)))

    wait_for(lambda: len(_submissions(engine)) >= 1, 150, "the ingest task to start loading", every=0.1)
    pid_file = system.home / "run" / "airflow_scheduler.pid"
    os.killpg(int(pid_file.read_text()), signal.SIGKILL)
    loaded_when_killed = len(_submissions(engine))

    time.sleep(2)
    logs = system.home / "logs"
    with open(logs / "airflow_scheduler.restarted.log", "ab") as log:
        restarted = subprocess.Popen(
            [str(Path(sys.executable).parent / "airflow"), "scheduler"],
            env=system.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file.write_text(str(restarted.pid))  # so stop() ends the new one

    wait_for(lambda: len(_submissions(engine)) >= len(codes), 240, "every return in the warehouse", every=0.5)
    contacts = {code: settings.email.contacts_of(code) for code in codes}
    wanted_receipts = sum(len(c) for c in contacts.values())
    wait_for(
        lambda: sum(_receipts(settings.outbox_dir).values()) >= wanted_receipts, 180, "every receipt", every=1
    )
    wait_for(
        lambda: all((p.parent / "processed" / p.name).exists() for p in landed.values()),
        120,
        "every file moved to processed/",
        every=0.5,
    )
    time.sleep(5)  # anything still queued would double now

    submissions = _submissions(engine)
    assert sorted(name for name, _ in submissions) == sorted(landed), (loaded_when_killed, submissions)
    assert {outcome for _, outcome in submissions} == {"accepted"}
    assert count(engine, "select count(*) from hub_day_version") == sum(hub_days(c) for c in codes)
    assert doubled_hub_days(engine) == []
    receipts = _receipts(settings.outbox_dir)
    assert max(receipts.values()) == 1, receipts
    assert sum(receipts.values()) == wanted_receipts
    assert not any(p.exists() for p in landed.values())
    assert not any(
        (p.parent / "rejected").exists() and any((p.parent / "rejected").iterdir()) for p in landed.values()
    )
