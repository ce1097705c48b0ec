"""The register, plan, audit trail and message archive on the real PostgreSQL server (issue 19)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from surgehub.register import Offer
from surgehub.warehouse import audit, email_log
from surgehub.warehouse.register import read_register

pytestmark = pytest.mark.postgres

T1 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_the_seeded_register_reads_back_with_aware_instants(warehouse: Engine) -> None:
    register = read_register(warehouse)
    view = register.as_of(T1)
    assert len(view.hubs) == 16
    assert all(f.recorded_at.tzinfo is not None for f in register.hub_facts)
    assert view.commissioned("01W-H1", date(2026, 11, 28), lambda d: False) == Offer(6, 110)


def test_the_audit_trail_is_append_only_on_postgresql(warehouse: Engine) -> None:
    with warehouse.begin() as connection:
        audit.record(connection, occurred_at=T1, actor="ops", action="test.pg", subject="x", detail={"n": 1})
    for statement in ("update audit_event set actor = 'someone else'", "delete from audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), warehouse.begin() as connection:
            connection.execute(text(statement))
    assert [e.actor for e in audit.events(warehouse, action_prefix="test.pg")] == ["ops"]


def test_a_sent_message_is_archived_whole_with_its_email_log_row(warehouse: Engine) -> None:
    mime = b"From: a@example.nhs.uk\r\nSubject: x\r\n\r\nbody\xe2\x9c\x93\r\n"
    email_log.record_attempt(
        warehouse,
        kind="board",
        period_key="board:2026-11-26T07:30",
        recipient="b@example.nhs.uk",
        message_id="<m@example>",
        subject="x",
        status="sent",
        error=None,
        now=T1,
        mime=mime,
    )
    [found] = email_log.archived_messages(warehouse, "board:2026-11-26T07:30")
    assert found.mime == mime
    assert email_log.sent_digest_keys(warehouse) == ["board:2026-11-26T07:30"]
