"""The walking skeleton end to end: the demo's timeline through real Airflow, GX, SQLite and SMTP."""

from __future__ import annotations

import subprocess
import sys
from email import message_from_bytes, policy
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, func, select

from surgehub.warehouse.tables import email_log, hub_day_version, submission

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.airflow, pytest.mark.smtp]


def _run_demo(home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "surgehub.demo", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in __import__("os").environ.items() if not k.startswith(("AIRFLOW", "SURGEHUB"))},
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("demo")
    first = _run_demo(home)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-5000:]
    engine = create_engine(f"sqlite:///{home / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        snapshot = {
            "versions": conn.execute(select(func.count()).select_from(hub_day_version)).scalar_one(),
            "emails": conn.execute(select(func.count()).select_from(email_log)).scalar_one(),
        }
    second = _run_demo(home)
    return {"home": home, "engine": engine, "first": first, "second": second, "snapshot": snapshot}


def test_every_locality_return_reaches_the_warehouse_except_the_missing_and_rejected(demo) -> None:
    with demo["engine"].connect() as conn:
        outcomes = conn.execute(
            select(submission.c.sub_icb_code, submission.c.outcome, submission.c.file_name).order_by(
                submission.c.submission_id
            )
        ).all()
        days = dict(
            conn.execute(
                select(hub_day_version.c.sub_icb_code, func.count())
                .where(hub_day_version.c.activity_date == "2026-11-24", hub_day_version.c.is_current)
                .group_by(hub_day_version.c.sub_icb_code)
            ).all()
        )
    rejected = [(code, name) for code, outcome, name in outcomes if outcome == "rejected"]
    assert ("00Y", "00Y_2026-11-24_v1.csv") in rejected
    assert "02H" not in days  # Wigan sent nothing for Tuesday
    assert days["14L"] == 3
    assert days["00Y"] == 1
    assert days["02A"] == 1


def test_rag_table_shows_the_late_the_missing_and_the_rejected_then_fixed(demo) -> None:
    out = demo["first"].stdout
    lines = {
        line.split()[0]: line
        for line in out.splitlines()
        if line[:3] in {"00T", "00V", "01D", "14L", "00Y", "01G", "01W", "01Y", "02A", "02H"}
    }
    assert len(lines) == 10
    assert "NO_RETURN" in lines["02H"]
    assert "yes" in lines["02H"]
    assert "LATE" in lines["02A"]
    assert "ON_TIME" in lines["00Y"]  # corrected before the deadline
    assert "RED" in lines["01G"]
    assert " 4 " in lines["01G"]
    assert "Warehouse:" in out
    assert "Board digest:" in out


def test_board_digest_reached_the_smtp_server_with_text_and_html(demo) -> None:
    outbox = demo["home"] / "mail"
    boards = sorted(outbox.glob("*-board-*.eml"))
    assert boards, f"no board digest in {sorted(p.name for p in outbox.iterdir())}"
    message = message_from_bytes(boards[0].read_bytes(), policy=policy.default)
    assert message["X-Surgehub-Kind"] == "board"
    assert message.get_body(preferencelist=("plain",)) is not None
    html = message.get_body(preferencelist=("html",)).get_content()
    for name in (
        "Bolton",
        "Bury",
        "Rochdale",
        "Manchester",
        "Oldham",
        "Salford",
        "Stockport",
        "Tameside",
        "Trafford",
        "Wigan",
    ):
        assert name in html


def test_receipts_went_to_each_locality_and_the_rejection_lists_its_rules(demo) -> None:
    outbox = demo["home"] / "mail"
    receipts = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in outbox.glob("*-receipt-*.eml")
    ]
    oldham = [m for m in receipts if "oldham" in str(m["To"])]
    rejected = [m for m in oldham if "reject" in str(m["Subject"]).lower()]
    assert rejected, [str(m["Subject"]) for m in oldham]
    body = rejected[0].get_body(preferencelist=("plain",)).get_content()
    assert "R09" in body
    assert "R13" in body


def test_a_second_demo_adds_nothing_and_sends_no_digest_again(demo) -> None:
    assert demo["second"].returncode == 0, demo["second"].stderr[-3000:]
    with demo["engine"].connect() as conn:
        versions = conn.execute(select(func.count()).select_from(hub_day_version)).scalar_one()
        boards = conn.execute(
            select(func.count()).select_from(email_log).where(email_log.c.kind == "board")
        ).scalar_one()
    assert versions == demo["snapshot"]["versions"]
    assert boards == 1
    assert (
        demo["first"].stdout.split("RAG for")[1].split("Warehouse:")[0]
        == demo["second"].stdout.split("RAG for")[1].split("Warehouse:")[0]
    )


def test_the_demo_leaves_the_weeks_gx_data_docs(demo) -> None:
    """Each ingest run built the Data Docs for its days; the demo says where they are."""
    site = demo["home"] / "gx" / "uncommitted" / "data_docs" / "local_site"
    assert (site / "index.html").is_file()
    assert str(site / "surgehub.html") in demo["first"].stdout
    page = (site / "surgehub.html").read_text(encoding="utf-8")
    for day in ("Thursday 19 November 2026", "Wednesday 25 November 2026"):
        assert f"Received {day}" in page
    assert "R09: " in page  # Oldham's rejected return, as the GX suite saw it
    assert "R13: " in page
    assert page.count('<th scope="row"><a href="validations/') >= 40
    results = list((demo["home"] / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert results, "every ingest run stored its GX result"
