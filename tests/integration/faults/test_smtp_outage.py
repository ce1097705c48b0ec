"""The mail server is down, then refusing, then back: every receipt and digest is delivered exactly once.

Drives the Airflow task bodies (``send_receipts``, the ingest task's ``send_receipts_from_ingest``,
``send_digest``) against a real SMTP server on loopback: first nothing listens on the port, then the
server answers 421 to everything, then it accepts. Every failed attempt is in the email log as failed; once the server is back, the receipt
sweep and the digest re-run deliver what is missing; running them again sends nothing.
"""

from __future__ import annotations

from collections import Counter
from email.utils import parseaddr
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from surgehub.config import load_settings
from surgehub.ingest import ingest_returns
from surgehub.mail.send import MailDeliveryError
from surgehub.mail.server import LoopbackSmtpServer
from surgehub.orchestration import tasks
from surgehub.resources import Resources
from surgehub.warehouse.db import get_engine
from surgehub.warehouse.tables import email_log
from tests.support.returns import incoming_returns
from tests.support.timeline import BOARD_AT, DAILY_AT

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.smtp

CODES = ("00V", "02A", "01W")  # Bury, Trafford, Stockport


def _send_everything(result: dict | None, settings) -> list[str]:  # type: ignore[no-untyped-def]
    """Each send as its own task would run it; the names of those that raised."""
    failed = []
    for name, send in (
        ("receipts", lambda: tasks.send_receipts(result, Resources.of(settings))),
        ("daily", lambda: tasks.send_digest("daily", DAILY_AT, Resources.of(settings))),  # after DAY's close
        ("board", lambda: tasks.send_digest("board", BOARD_AT, Resources.of(settings))),  # Thursday's
    ):
        try:
            send()
        except MailDeliveryError:
            failed.append(name)
    return failed


def test_smtp_down_then_back_delivers_each_message_once(surgehub_home: Path, smtp_port: int) -> None:
    settings = load_settings()
    engine = get_engine(settings.warehouse_url)
    outcomes = ingest_returns(
        incoming_returns(surgehub_home / "in", CODES), Resources.of(settings, engine=engine)
    )
    assert [o.status for o in outcomes] == ["accepted"] * 3
    result = {"submissions": [{"submission_id": o.submission_id, "duplicate": False} for o in outcomes]}

    # 1. Nothing listens on the port: every send fails, and is logged as failed. The ingest task's
    #    own attempt (it gives up at the first refusal) never fails the ingest: it leaves it to the sweep.
    assert tasks.send_receipts_from_ingest(result, Resources.of(settings)) == 0
    assert _send_everything(result, settings) == ["receipts", "daily", "board"]
    with engine.connect() as connection:
        statuses = connection.execute(select(email_log.c.status)).scalars().all()
    assert statuses
    assert set(statuses) == {"failed"}

    server = LoopbackSmtpServer(surgehub_home / "outbox-smtp", port=smtp_port).start()
    try:
        # 2. The server is up but refuses (421 on every transaction).
        server.handler.refuse = True
        assert tasks.send_receipts_from_ingest(result, Resources.of(settings)) == 0
        assert _send_everything(result, settings) == ["receipts", "daily", "board"]
        assert server.messages() == []

        # 3. Back: the receipt sweep (no result: a later run) and the digest re-runs deliver everything.
        server.handler.refuse = False
        assert _send_everything(None, settings) == []
        delivered = server.messages()

        # 4. Everything again, as retries and later runs would: nothing is sent twice.
        assert tasks.send_receipts_from_ingest(result, Resources.of(settings)) == 0
        assert _send_everything(result, settings) == []
        assert _send_everything(None, settings) == []
        assert len(server.messages()) == len(delivered)
    finally:
        server.stop()

    keys = Counter(
        (m["X-Surgehub-Kind"], m["X-Surgehub-Period"], parseaddr(str(m["To"]))[1].lower()) for m in delivered
    )
    assert max(keys.values()) == 1, keys
    kinds = Counter(kind for kind, _, _ in keys)
    receipt_periods = {period for kind, period, _ in keys if kind == "receipt"}
    assert receipt_periods == {f"submission:{o.submission_id}" for o in outcomes}
    assert kinds["receipt"] == sum(len(settings.email.contacts_of(code)) for code in CODES)
    assert kinds["daily"] == len(list(settings.email.operations))
    assert kinds["board"] == len(list(settings.email.board))
    with engine.connect() as connection:
        log = connection.execute(select(email_log.c.status, email_log.c.attempts)).all()
    assert len(log) == len(keys)
    assert {status for status, _ in log} == {"sent"}
    assert min(attempts for _, attempts in log) == 3  # refused, refused, sent: each attempt on record
