"""The live, event-driven system: real scheduler, triggerer, DAG processor and API server (airflow
standalone), the landing-zone watcher and the loopback SMTP server. Files are dropped into landing
folders and must come out loaded, moved and acknowledged, with no DAG run started by hand."""

from __future__ import annotations

import time
from email import message_from_bytes, policy
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, func, select

from surgehub import sample
from surgehub.config import load_settings
from surgehub.warehouse.tables import hub_day_version, submission

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [pytest.mark.airflow, pytest.mark.smtp]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    import os

    from surgehub.orchestration.live import free_port, start, stop

    home = tmp_path_factory.mktemp("live")
    saved = dict(os.environ)
    os.environ["SURGEHUB_HOME"] = str(home)
    os.environ.pop("SURGEHUB_WAREHOUSE_URL", None)
    os.environ["SURGEHUB_NOW"] = "2026-11-25T09:00:00+00:00"  # the fixed timeline, for every process
    settings = load_settings()
    try:
        system = start(
            settings, api_port=free_port(), smtp_port=free_port(), log_ports=(free_port(), free_port())
        )
        yield {"system": system, "settings": settings, "engine": create_engine(settings.warehouse_url)}
    finally:
        stop(settings)
        os.environ.clear()
        os.environ.update(saved)


def drop(landing: Path, code: str, name: str, content: bytes) -> Path:
    """Write then rename, as a well-behaved sender does."""
    target = landing / code / name
    partial = target.with_name(f".{name}.part")
    partial.write_bytes(content)
    partial.rename(target)
    return target


def wait_for(predicate, timeout: float = 120, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def receipts_to(outbox: Path, fragment: str) -> list:
    found = []
    for path in sorted(outbox.glob("*-receipt-*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if fragment in str(message["To"]):
            found.append(message)
    return found


def test_a_dropped_return_is_loaded_and_acknowledged(live: dict) -> None:
    settings, engine = live["settings"], live["engine"]
    rows = sample.locality_rows(
        "01W", [__import__("datetime").date(2026, 11, 24)], __import__("random").Random(7)
    )
    landed = drop(settings.landing_dir, "01W", "stockport.csv", sample.to_csv(rows))

    def loaded() -> int:
        with engine.connect() as conn:
            return conn.execute(
                select(func.count())
                .select_from(hub_day_version)
                .where(hub_day_version.c.sub_icb_code == "01W")
            ).scalar_one()

    assert wait_for(loaded, what="Stockport's rows in the warehouse") == 1
    receipts = wait_for(lambda: receipts_to(settings.outbox_dir, "stockport"), what="Stockport's receipt")
    assert "accepted" in str(receipts[0]["Subject"]).lower()
    wait_for(
        lambda: (landed.parent / "processed" / landed.name).exists(), what="the file moved to processed/"
    )
    assert not landed.exists()


def test_a_bad_and_a_good_return_landing_together_are_each_handled(live: dict) -> None:
    settings, engine = live["settings"], live["engine"]
    import random
    from datetime import date

    good_rows = sample.locality_rows("02A", [date(2026, 11, 24)], random.Random(8))
    bad_rows = sample.locality_rows("00V", [date(2026, 11, 24)], random.Random(9))
    bad_rows[0]["appts_booked"] = str(int(bad_rows[0]["appts_offered"]) + 5)
    bad = drop(settings.landing_dir, "00V", "bury.csv", sample.to_csv(bad_rows))
    good = drop(settings.landing_dir, "02A", "trafford.csv", sample.to_csv(good_rows))

    def outcomes() -> dict[str, str]:
        with engine.connect() as conn:
            return dict(
                conn.execute(
                    select(submission.c.sub_icb_code, submission.c.outcome).where(
                        submission.c.sub_icb_code.in_(["00V", "02A"])
                    )
                ).all()
            )

    assert wait_for(lambda: len(outcomes()) == 2 and outcomes(), what="both submissions") == {
        "00V": "rejected",
        "02A": "accepted",
    }
    bury = wait_for(lambda: receipts_to(settings.outbox_dir, "bury"), what="Bury's rejection receipt")
    assert "R09" in bury[0].get_body(preferencelist=("plain",)).get_content()
    wait_for(lambda: receipts_to(settings.outbox_dir, "trafford"), what="Trafford's receipt")
    wait_for(lambda: (bad.parent / "rejected" / bad.name).exists(), what="bad file in rejected/")
    wait_for(lambda: (good.parent / "processed" / good.name).exists(), what="good file in processed/")
    with engine.connect() as conn:
        bury_rows = conn.execute(
            select(func.count()).select_from(hub_day_version).where(hub_day_version.c.sub_icb_code == "00V")
        ).scalar_one()
    assert bury_rows == 0  # nothing of a rejected return is loaded


def test_health_is_served_over_http_by_the_airflow_api_server(live: dict) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{live['system'].api_url}/surgehub/health", timeout=10) as response:
        report = json.loads(response.read())
        assert response.status == 200
    assert report["ok"] is True
    assert set(report["checks"]) >= {"warehouse", "migrations", "activity", "landing"}
