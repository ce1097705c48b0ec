"""Chasing: who is reminded at 09:30 and chased at 11:00, for which hub-days, and never twice."""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import TYPE_CHECKING

import pytest

from surgehub import clock
from surgehub.chase import chase_mails, days_due_on
from surgehub.config import load_settings
from surgehub.ingest import ingest_returns
from surgehub.mail.send import send_all
from surgehub.mail.server import LoopbackSmtpServer
from surgehub.resources import Resources
from surgehub.warehouse.db import get_engine, upgrade
from tests.support.returns import locality_rows, sent_return

if TYPE_CHECKING:
    from pathlib import Path

MONDAY = date(2026, 11, 30)
WEDNESDAY = date(2026, 11, 25)


def test_monday_owes_friday_saturday_and_sunday() -> None:
    settings = load_settings()
    assert days_due_on(MONDAY, settings) == [date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29)]
    assert days_due_on(date(2026, 11, 28), settings) == []  # Saturday: nothing is due


def test_after_christmas_the_bank_holidays_roll_onto_the_next_working_day() -> None:
    settings = load_settings()
    # Thu 24 Dec is due on Tue 29 Dec (25, 26/28 bank holidays, weekend between)
    assert days_due_on(date(2026, 12, 29), settings) == [date(2026, 12, d) for d in (24, 25, 26, 27, 28)]
    assert days_due_on(date(2026, 12, 28), settings) == []


@pytest.fixture
def wednesday_returns(surgehub_home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Everyone but Wigan and Bury sent Wednesday 25th's return before 09:30 on Thursday; Bury (one hub)
    sent nothing, and Wigan one hub of its two."""
    settings = load_settings()
    upgrade(settings.warehouse_url)
    engine = get_engine(settings.warehouse_url)
    rng = random.Random(5)
    sent_at = datetime(2026, 11, 26, 9, 0, tzinfo=clock.LONDON)
    items = [
        sent_return(tmp_path, loc, locality_rows(loc, [WEDNESDAY], rng), sent_at)
        for loc in ("00T", "01D", "14L", "00Y", "01G", "01W", "01Y", "02A")
    ]
    items.append(sent_return(tmp_path, "02H", locality_rows("02H", [WEDNESDAY], rng)[:1], sent_at))
    assert all(o.status == "accepted" for o in ingest_returns(items, Resources.of(settings)))
    return settings, engine


def test_reminder_names_each_locality_and_hub_still_owed(wednesday_returns) -> None:  # type: ignore[no-untyped-def]
    settings, engine = wednesday_returns
    kind, mails = chase_mails(engine, datetime(2026, 11, 26, 9, 30, tzinfo=clock.LONDON), settings)
    assert kind == "reminder"
    by_locality = {m.period_key.rsplit(":", 1)[1]: m for m in mails}
    assert set(by_locality) == {"00V", "02H"}
    assert "02H-H2" in by_locality["02H"].text
    assert "02H-H1" not in by_locality["02H"].text
    assert "00V-H1" in by_locality["00V"].text
    assert "due by 11:00" in by_locality["00V"].text
    assert by_locality["00V"].recipient == "bury-gp-board@gm-surgehub.example.nhs.uk"


def test_chaser_at_the_deadline_and_nothing_for_a_locality_that_has_since_sent(
    wednesday_returns, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings, engine = wednesday_returns
    late = datetime(2026, 11, 26, 10, 15, tzinfo=clock.LONDON)
    ingest_returns(
        [sent_return(tmp_path, "00V", locality_rows("00V", [WEDNESDAY], 9), late)], Resources.of(settings)
    )
    kind, mails = chase_mails(engine, datetime(2026, 11, 26, 11, 0, tzinfo=clock.LONDON), settings)
    assert kind == "chaser"
    assert [m.period_key for m in mails] == ["chaser:2026-11-26:02H"]
    assert "Overdue" in mails[0].subject
    assert "13:30" in mails[0].text


def test_no_chasing_on_a_bank_holiday(wednesday_returns) -> None:  # type: ignore[no-untyped-def]
    settings, engine = wednesday_returns
    assert chase_mails(engine, datetime(2026, 12, 25, 9, 30, tzinfo=clock.LONDON), settings) == ("none", [])


@pytest.mark.smtp
def test_a_rerun_sends_no_reminder_twice(
    wednesday_returns, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    settings, engine = wednesday_returns
    with LoopbackSmtpServer(tmp_path / "outbox") as server:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", server.connection_json("surgehub@localhost"))
        run_at = datetime(2026, 11, 26, 9, 30, tzinfo=clock.LONDON)
        for _ in range(2):
            _, mails = chase_mails(engine, run_at, settings)
            send_all(engine, mails, smtp_conn_id=settings.email.smtp_conn_id, clock=clock.SystemClock())
        received = server.messages()
    assert sorted(str(m["To"]) for m in received) == [
        "bury-gp-board@gm-surgehub.example.nhs.uk",
        "wigan-gp-board@gm-surgehub.example.nhs.uk",
    ]
    assert all(m["X-Surgehub-Kind"] == "reminder" for m in received)
