"""The live, event-driven system: real scheduler, triggerer, DAG processor and API server (airflow
standalone), the landing-zone watcher and the loopback SMTP server. Files are dropped into landing
folders and must come out loaded, moved and acknowledged, with no DAG run started by hand."""

from __future__ import annotations

import json
import urllib.request
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from surgehub.warehouse.tables import hub_day_version, submission
from tests.support.live import Live, drop, live_system, receipts_to, wait_for
from tests.support.returns import rejected_return, valid_return

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.airflow, pytest.mark.smtp]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_system(tmp_path_factory.mktemp("live")) as system:
        yield system


def test_a_dropped_return_is_loaded_and_acknowledged(live: Live) -> None:
    settings, engine = live.settings, live.engine
    landed = drop(settings.landing_dir, "01W", "stockport.csv", valid_return("01W", seed=7))

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


def test_a_bad_and_a_good_return_landing_together_are_each_handled(live: Live) -> None:
    settings, engine = live.settings, live.engine
    bad = drop(settings.landing_dir, "00V", "bury.csv", rejected_return("00V", seed=9))
    good = drop(settings.landing_dir, "02A", "trafford.csv", valid_return("02A", seed=8))

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


def test_health_is_served_over_http_by_the_airflow_api_server(live: Live) -> None:
    with urllib.request.urlopen(f"{live.system.api_url}/surgehub/health", timeout=10) as response:
        report = json.loads(response.read())
        assert response.status == 200
    assert report["ok"] is True
    assert set(report["checks"]) >= {"warehouse", "migrations", "activity", "landing"}
