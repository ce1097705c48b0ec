"""Receipts sent from the end of the ingest task, with the ``send_receipts`` sweep as the safety net.

Against a real SMTP server on loopback and a real warehouse: what the ingest task sent the sweep does
not send again; what it could not send (SMTP down, the receipt lock busy) it leaves, without failing,
for the sweep; and tasks racing to send the same receipts send each exactly once.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from surgehub.config import load_settings
from surgehub.ingest import ingest_returns
from surgehub.mail.server import LoopbackSmtpServer
from surgehub.orchestration import outbox, tasks
from surgehub.resources import Resources
from surgehub.warehouse import db
from surgehub.warehouse.tables import email_log
from tests.support.returns import incoming_returns

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

pytestmark = pytest.mark.smtp

CODES = ("00V", "02A", "01W")  # Bury, Trafford, Stockport


def _ingest(surgehub_home: Path) -> dict[str, Any]:
    """Three returns stored as an ingest task would store them; the task's result."""
    settings = load_settings()
    outcomes = ingest_returns(incoming_returns(surgehub_home / "in", CODES), Resources.of(settings))
    assert [o.status for o in outcomes] == ["accepted"] * len(CODES)
    return {"submissions": [{"submission_id": o.submission_id, "duplicate": False} for o in outcomes]}


def _delivered(server: LoopbackSmtpServer) -> Counter:
    return Counter(
        (str(m["X-Surgehub-Period"]), parseaddr(str(m["To"]))[1].lower()) for m in server.messages()
    )


def _wanted() -> int:
    settings = load_settings()
    return sum(len(settings.email.contacts_of(code)) for code in CODES)


def _log() -> list[tuple[str, int]]:
    with db.get_engine(load_settings().warehouse_url).connect() as connection:
        return [tuple(r) for r in connection.execute(select(email_log.c.status, email_log.c.attempts))]


def test_a_receipt_sent_by_the_ingest_task_is_not_sent_again_by_the_sweep(
    surgehub_home: Path, smtp_server: LoopbackSmtpServer
) -> None:
    result = _ingest(surgehub_home)
    assert tasks.send_receipts_from_ingest(result, Resources.from_env()) == _wanted()
    assert sum(_delivered(smtp_server).values()) == _wanted()

    assert (
        tasks.send_receipts(result, Resources.from_env()) == _wanted()
    )  # the sweep: all due, all already sent
    assert tasks.send_receipts(None, Resources.from_env()) == 0  # a later run's sweep: nothing pending
    delivered = _delivered(smtp_server)
    assert sum(delivered.values()) == _wanted()
    assert max(delivered.values()) == 1
    assert _log() == [("sent", 1)] * _wanted()


def test_smtp_down_in_the_ingest_task_is_left_for_the_sweep(surgehub_home: Path, smtp_port: int) -> None:
    result = _ingest(surgehub_home)
    assert (
        tasks.send_receipts_from_ingest(result, Resources.from_env()) == 0
    )  # nothing listens: logged, never raised
    assert _log() == [("failed", 1)]  # it gave up at the first refusal

    server = LoopbackSmtpServer(surgehub_home / "outbox-smtp", port=smtp_port).start()
    try:
        server.handler.refuse = True  # up, but answering 421
        assert tasks.send_receipts_from_ingest(result, Resources.from_env()) == 0
        assert server.messages() == []
        server.handler.refuse = False
        assert (
            tasks.send_receipts(None, Resources.from_env()) == _wanted()
        )  # a later sweep delivers everything
        delivered = _delivered(server)
        assert (
            tasks.send_receipts_from_ingest(result, Resources.from_env()) == 0
        )  # a retried ingest task sends nothing again
        assert _delivered(server) == delivered
    finally:
        server.stop()
    assert sum(delivered.values()) == _wanted()
    assert max(delivered.values()) == 1
    assert {status for status, _ in _log()} == {"sent"}


def test_a_busy_receipt_lock_leaves_the_receipts_for_the_sweep(
    surgehub_home: Path, smtp_server: LoopbackSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _ingest(surgehub_home)
    engine = db.get_engine(load_settings().warehouse_url)
    monkeypatch.setattr(tasks, "INGEST_LOCK_TIMEOUT_S", 0.3)
    with outbox.receipt_lock(engine, timeout=1):  # e.g. another run's sweep, stuck on a slow relay
        assert tasks.send_receipts_from_ingest(result, Resources.from_env()) == 0
        with pytest.raises(outbox.ReceiptLockBusy), outbox.receipt_lock(engine, timeout=0.2):
            pass
    assert smtp_server.messages() == []
    assert tasks.send_receipts(result, Resources.from_env()) == _wanted()
    assert sum(_delivered(smtp_server).values()) == _wanted()


def _race(url: str, own: dict[str, Any] | None, barrier: Any, queue: Any) -> None:
    """One task process sending receipts at the same moment as the others."""
    import os

    try:
        os.environ["SURGEHUB_WAREHOUSE_URL"] = url
        barrier.wait(timeout=60)
        if own is not None:
            tasks.send_receipts_from_ingest(own, Resources.from_env())
        else:
            tasks.send_receipts(None, Resources.from_env())
        queue.put(None)
    except Exception as exc:  # reported to the test, which fails with it
        queue.put(f"{type(exc).__name__}: {exc}")


def test_ingest_tasks_and_sweeps_racing_send_each_receipt_once(
    surgehub_home: Path, warehouse: Engine, smtp_server: LoopbackSmtpServer
) -> None:
    warehouse_url = load_settings().warehouse_url  # SQLite or PostgreSQL, as the fixture chose
    result = _ingest(surgehub_home)
    db.dispose_engines()  # no connection crosses the fork
    context = multiprocessing.get_context("fork")
    jobs = [result, result, None, None, None, None]  # two ingest tasks (a retry) and four sweeps
    barrier, queue = context.Barrier(len(jobs)), context.Queue()
    workers = [context.Process(target=_race, args=(warehouse_url, job, barrier, queue)) for job in jobs]
    for worker in workers:
        worker.start()
    errors = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert [e for e in errors if e] == []
    delivered = _delivered(smtp_server)
    assert sum(delivered.values()) == _wanted(), delivered
    assert max(delivered.values()) == 1, delivered
