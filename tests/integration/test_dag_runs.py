"""The scheduled DAGs the demo does not run, each run for real with `dag.test()`: chase, daily summary,
housekeeping. (The demo and tests/integration/test_pipeline.py run ingest, rag and the board digest.)

Each run uses the DAG files as Airflow parses them, the task bodies, a real SQLite warehouse and a
real SMTP server on loopback, on the test timeline.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pytest

from surgehub import archive
from surgehub.clock import LONDON
from surgehub.config import Settings, load_settings
from surgehub.ingest import ingest_returns
from surgehub.mail.server import LoopbackSmtpServer
from surgehub.resources import Resources
from tests.support.returns import locality_rows, sent_return

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [pytest.mark.airflow, pytest.mark.smtp]

WEDNESDAY = date(2026, 11, 25)
THURSDAY_0930 = datetime(2026, 11, 26, 9, 30, tzinfo=LONDON)
THURSDAY_1100 = datetime(2026, 11, 26, 11, 0, tzinfo=LONDON)
THURSDAY_1345 = datetime(2026, 11, 26, 13, 45, tzinfo=LONDON)
FRIDAY_0215 = datetime(2026, 11, 27, 2, 15, tzinfo=LONDON)


@dataclass
class Airflow:
    bag: Any
    server: LoopbackSmtpServer
    home: Path

    def run(self, dag_id: str, at: datetime) -> None:
        from surgehub.orchestration.local_runs import run_dag

        run_dag(self.bag, dag_id, logical_date=at)

    def sent_to(self) -> list[tuple[str, str]]:
        return sorted((str(m["To"]), str(m["Subject"])) for m in self.server.messages())


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Airflow]:
    """A warehouse where every locality but Bury sent Wednesday's return on Thursday at 09:00."""
    home = tmp_path_factory.mktemp("dag-runs")
    with pytest.MonkeyPatch.context() as patch, LoopbackSmtpServer(home / "mail") as server:
        patch.setenv("SURGEHUB_HOME", str(home))
        patch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
        patch.setenv("SURGEHUB_TASK_RETRIES", "0")
        patch.setenv(
            "SURGEHUB_DEADLINE_ALERTS", "off"
        )  # dag.test() skips them (dag_support.late_run_deadline)
        patch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", server.connection_json("surgehub@localhost"))
        resources = Resources.of(load_settings())
        rng = random.Random(11)
        sent_at = datetime(2026, 11, 26, 9, 0, tzinfo=LONDON)
        items = [
            sent_return(home, loc, locality_rows(loc, [WEDNESDAY], rng), sent_at)
            for loc in ("00T", "01D", "14L", "00Y", "01G", "01W", "01Y", "02A", "02H")
        ]
        assert all(o.status == "accepted" for o in ingest_returns(items, resources))

        from surgehub.orchestration.local_runs import dag_bag, prepare_airflow

        prepare_airflow()
        yield Airflow(dag_bag(), server, home)


def test_chase_reminds_then_chases_only_the_locality_that_still_owes(airflow: Airflow) -> None:
    before = len(airflow.sent_to())
    airflow.run("surgehub_chase", THURSDAY_0930)
    airflow.run("surgehub_chase", THURSDAY_1100)
    sent = airflow.sent_to()[before:] if before else airflow.sent_to()
    bury = "bury-gp-board@gm-surgehub.example.nhs.uk"
    assert {to for to, _ in sent} == {bury}
    subjects = sorted(subject for _, subject in sent)
    assert subjects[0].startswith("Overdue: surge hub return missed the 11:00 deadline")
    assert subjects[1].startswith("Reminder: surge hub return due by 11:00 today")


def test_daily_summary_goes_to_the_operations_list_once(airflow: Airflow) -> None:
    airflow.run("surgehub_daily_summary", THURSDAY_1345)
    airflow.run("surgehub_daily_summary", THURSDAY_1345)  # a re-run of the same slot sends nothing
    operations = [s for to, s in airflow.sent_to() if to == "gm-primary-care-ops@gm-surgehub.example.nhs.uk"]
    assert len(operations) == 1
    assert "daily operations summary" in operations[0]


def _quarantined(
    settings: Settings, received_at: datetime, name: str, sha256: str, data: bytes
) -> archive.Stored:
    """A rejected (R16) return kept in quarantine, received at ``received_at``."""
    receipt = archive.Receipt(
        locality="14L",
        channel="folder",
        received_at=received_at,
        sha256=sha256,
        file_name=name,
        size_bytes=len(data),
        outcome="rejected",
    )
    return archive.store(settings.quarantine_dir, receipt, data, private=True)


def test_housekeeping_deletes_quarantined_files_past_their_retention(airflow: Airflow) -> None:
    settings = load_settings()
    old_copy = _quarantined(
        settings, datetime(2026, 10, 20, 9, 0, tzinfo=LONDON), "old.csv", "1" * 64, b"old"
    )
    recent_copy = _quarantined(
        settings, datetime(2026, 11, 20, 9, 0, tzinfo=LONDON), "recent.csv", "2" * 64, b"new"
    )
    airflow.run("surgehub_housekeeping", FRIDAY_0215)
    assert not old_copy.path.exists()
    assert recent_copy.path.exists()
