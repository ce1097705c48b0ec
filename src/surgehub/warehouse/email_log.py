"""Named queries on the `email_log` table: one row per message (kind, period key, recipient) and its fate.

The key makes sending idempotent: a message logged as sent is never sent again (`surgehub.mail.send`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, String, cast, func, literal, select

from surgehub.warehouse.db import writer
from surgehub.warehouse.tables import email_log, submission

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime


def status_of(engine: Engine, kind: str, period_key: str, recipient: str) -> str | None:
    """The logged status of one message (sent, failed), or None when it was never tried."""
    with engine.connect() as conn:
        return conn.execute(
            select(email_log.c.status).where(
                email_log.c.kind == kind,
                email_log.c.period_key == period_key,
                email_log.c.recipient == recipient,
            )
        ).scalar_one_or_none()


def record_attempt(
    engine: Engine,
    *,
    kind: str,
    period_key: str,
    recipient: str,
    message_id: str,
    subject: str,
    status: str,
    error: str | None,
    now: datetime,
) -> None:
    """Log one attempt at a message: inserted on the first, updated (attempts + 1) on each later one."""
    key = (
        (email_log.c.kind == kind)
        & (email_log.c.period_key == period_key)
        & (email_log.c.recipient == recipient)
    )
    values = {
        "status": status,
        "last_error": error,
        "sent_at": now if status == "sent" else None,
        "subject": subject,
    }
    # A writer transaction (SQLite: BEGIN IMMEDIATE): it waits its turn behind a committing load
    # instead of failing on a read-to-write upgrade, after the message has already gone.
    with writer(engine).begin() as conn:
        row = conn.execute(select(email_log.c.email_id, email_log.c.attempts).where(key)).one_or_none()
        if row is None:
            conn.execute(
                email_log.insert().values(
                    kind=kind,
                    period_key=period_key,
                    recipient=recipient,
                    message_id=message_id,
                    attempts=1,
                    created_at=now,
                    **values,
                )
            )
        else:
            conn.execute(email_log.update().where(key).values(attempts=row.attempts + 1, **values))


def pending_receipt_ids(engine: Engine, since: datetime) -> list[int]:
    """Submissions processed since ``since`` whose receipt is not logged as sent (the outbox sweep)."""
    sent = (
        select(email_log.c.period_key)
        .where(email_log.c.kind == "receipt", email_log.c.status == "sent")
        .scalar_subquery()
    )
    key = literal("submission:") + cast(submission.c.submission_id, String)
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(submission.c.submission_id)
                .where(submission.c.processed_at >= since, key.not_in(sent))
                .order_by(submission.c.submission_id)
            ).scalars()
        )


def last_sent_at(engine: Engine, kinds: Sequence[str]) -> datetime | None:
    """When a message of one of ``kinds`` was last sent (health: the last digest)."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.max(email_log.c.sent_at)).where(
                email_log.c.kind.in_(kinds), email_log.c.status == "sent"
            )
        ).scalar()
