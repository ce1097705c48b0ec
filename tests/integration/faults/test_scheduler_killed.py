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
from email import message_from_bytes, policy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, create_engine, select

from surgehub import reference, sample
from surgehub.config import load_settings
from tests.integration.faults.conftest import DAY, count, doubled_hub_days, hub_days

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = [pytest.mark.airflow, pytest.mark.smtp]

COMPONENTS = ("scheduler", "triggerer", "dag-processor", "api-server")
FAST_RECOVERY = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "10",
}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[dict[str, Any]]:
    from surgehub.orchestration.live import free_port, start, stop

    saved = dict(os.environ)
    os.environ["SURGEHUB_HOME"] = str(tmp_path / "var")
    os.environ.pop("SURGEHUB_WAREHOUSE_URL", None)
    os.environ["SURGEHUB_NOW"] = "2026-11-25T09:00:00+00:00"  # the fixed timeline, for every process
    settings = load_settings()
    try:
        system = start(
            settings,
            api_port=free_port(),
            smtp_port=free_port(),
            log_ports=(free_port(), free_port()),
            components=COMPONENTS,
            extra_env=FAST_RECOVERY,
        )
        yield {"system": system, "settings": settings, "engine": create_engine(settings.warehouse_url)}
    finally:
        stop(settings)
        os.environ.clear()
        os.environ.update(saved)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _submissions(engine: Engine) -> list[tuple[str, str]]:
    from surgehub.warehouse.tables import submission

    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(select(submission.c.file_name, submission.c.outcome))]


def _receipts(outbox: Path) -> Counter:
    found: Counter = Counter()
    for path in outbox.glob("*-receipt-*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        found[(str(message["X-Surgehub-Period"]), str(message["To"]))] += 1
    return found


def test_scheduler_killed_mid_run_loses_and_doubles_nothing(live: dict[str, Any]) -> None:
    settings, engine, system = live["settings"], live["engine"], live["system"]
    codes = [loc.sub_icb_code for loc in reference.localities()]
    landed = {}
    rng = random.Random(11)
    for code in codes:
        name = f"{code.lower()}-{DAY.isoformat()}.csv"
        target = settings.landing_dir / code / name
        partial = target.with_name(f".{name}.part")
        partial.write_bytes(sample.to_csv(sample.locality_rows(code, [DAY], rng)))
        partial.rename(target)
        landed[name] = target

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

    wait_for(lambda: len(_submissions(engine)) >= len(codes), 240, "every return in the warehouse")
    contacts = {code: settings.email.contacts_of(code) for code in codes}
    wanted_receipts = sum(len(c) for c in contacts.values())
    wait_for(
        lambda: sum(_receipts(settings.outbox_dir).values()) >= wanted_receipts, 180, "every receipt", every=1
    )
    wait_for(
        lambda: all((p.parent / "processed" / p.name).exists() for p in landed.values()),
        120,
        "every file moved to processed/",
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
