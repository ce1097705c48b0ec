"""Named queries on the `email_log` table: one row per message (kind, period key, recipient) and its fate,
and on the message archive (`email_message`): each message exactly as it was sent, whole MIME bytes.

The key makes sending idempotent: a message logged as sent is never sent again (`surgehub.mail.send`).
A message is logged *sending*, with its Message-ID and its bytes in the archive, before it goes to
the relay, and marked *sent* (or *failed*) after: a retry of a message not marked sent resends the
archived bytes, so the same Message-ID; the log never says "sent" without the archive holding what
went (verify-digest and re-sends read it back).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Engine, String, cast, func, literal, select

from surgehub.warehouse.db import writer
from surgehub.warehouse.tables import email_log, email_message, submission

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime


def status_of(engine: Engine, kind: str, period_key: str, recipient: str) -> str | None:
    """The logged status of one message (sending, sent, failed), or None when it was never tried."""
    with engine.connect() as conn:
        return conn.execute(
            select(email_log.c.status).where(
                email_log.c.kind == kind,
                email_log.c.period_key == period_key,
                email_log.c.recipient == recipient,
            )
        ).scalar_one_or_none()


@dataclass(frozen=True, kw_only=True)
class LoggedMessage:
    """One message as the log holds it: its state, its Message-ID and (once tried) its bytes."""

    email_id: int
    status: str
    message_id: str
    attempts: int
    mime: bytes | None


def _key(kind: str, period_key: str, recipient: str) -> ColumnElement[bool]:
    return (
        (email_log.c.kind == kind)
        & (email_log.c.period_key == period_key)
        & (email_log.c.recipient == recipient)
    )


def logged(engine: Engine, kind: str, period_key: str, recipient: str) -> LoggedMessage | None:
    """The log's row for one message, with the archived bytes when there are any; None if never tried."""
    query = (
        select(
            email_log.c.email_id,
            email_log.c.status,
            email_log.c.message_id,
            email_log.c.attempts,
            email_message.c.mime,
        )
        .outerjoin(email_message, email_message.c.email_id == email_log.c.email_id)
        .where(_key(kind, period_key, recipient))
    )
    with engine.connect() as conn:
        row = conn.execute(query).one_or_none()
    if row is None:
        return None
    return LoggedMessage(
        email_id=int(row.email_id),
        status=str(row.status),
        message_id=str(row.message_id),
        attempts=int(row.attempts),
        mime=bytes(row.mime) if row.mime is not None else None,
    )


def begin_send(
    engine: Engine,
    *,
    kind: str,
    period_key: str,
    recipient: str,
    message_id: str,
    subject: str,
    mime: bytes,
    now: datetime,
) -> int:
    """Before a message goes to the relay: log it as *sending* (attempts + 1) with its Message-ID, and
    archive the bytes about to go, in one transaction. A row already there keeps its Message-ID."""
    key = _key(kind, period_key, recipient)
    with writer(engine).begin() as conn:
        row = conn.execute(select(email_log.c.email_id, email_log.c.attempts).where(key)).one_or_none()
        if row is None:
            result = conn.execute(
                email_log.insert().values(
                    kind=kind,
                    period_key=period_key,
                    recipient=recipient,
                    message_id=message_id,
                    subject=subject,
                    status="sending",
                    attempts=1,
                    created_at=now,
                )
            )
            email_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        else:
            email_id = int(row.email_id)
            conn.execute(
                email_log.update()
                .where(key)
                .values(status="sending", attempts=row.attempts + 1, subject=subject)
            )
        stored = conn.execute(
            select(email_message.c.sha256).where(email_message.c.email_id == email_id)
        ).scalar_one_or_none()
        digest = hashlib.sha256(mime).hexdigest()
        if stored != digest:
            conn.execute(email_message.delete().where(email_message.c.email_id == email_id))
            conn.execute(
                email_message.insert().values(
                    email_id=email_id, mime=mime, sha256=digest, size_bytes=len(mime), stored_at=now
                )
            )
    return email_id


def mark(
    engine: Engine, kind: str, period_key: str, recipient: str, status: str, error: str | None, now: datetime
) -> None:
    """After the relay answered: *sent* (with its time) or *failed* (with the error)."""
    values = {"status": status, "last_error": error, "sent_at": now if status == "sent" else None}
    with writer(engine).begin() as conn:
        conn.execute(email_log.update().where(_key(kind, period_key, recipient)).values(**values))


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
    mime: bytes | None = None,
) -> None:
    """Log one attempt at a message in one step: inserted on the first, updated (attempts + 1) on each
    later one (for records made after the fact: restores, tests; sending uses ``begin_send`` and ``mark``).

    ``mime``: the whole message as sent, kept in the archive with the row when ``status`` is sent."""
    key = _key(kind, period_key, recipient)
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
            result = conn.execute(
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
            email_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        else:
            conn.execute(email_log.update().where(key).values(attempts=row.attempts + 1, **values))
            email_id = int(row.email_id)
        if status == "sent" and mime is not None:
            conn.execute(email_message.delete().where(email_message.c.email_id == email_id))
            conn.execute(
                email_message.insert().values(
                    email_id=email_id,
                    mime=mime,
                    sha256=hashlib.sha256(mime).hexdigest(),
                    size_bytes=len(mime),
                    stored_at=now,
                )
            )


@dataclass(frozen=True, kw_only=True)
class ArchivedMessage:
    """A sent message as the archive holds it."""

    email_id: int
    kind: str
    period_key: str
    recipient: str
    message_id: str
    sent_at: datetime | None
    mime: bytes
    sha256: str


def archived_messages(engine: Engine, period_key: str) -> list[ArchivedMessage]:
    """Every sent message of ``period_key`` (e.g. ``board:2026-11-26T07:30``) with its bytes as sent."""
    query = (
        select(email_log, email_message.c.mime, email_message.c.sha256)
        .join(email_message, email_message.c.email_id == email_log.c.email_id)
        .where(email_log.c.period_key == period_key, email_log.c.status == "sent")
        .order_by(email_log.c.email_id)
    )
    with engine.connect() as conn:
        return [
            ArchivedMessage(
                email_id=row.email_id,
                kind=row.kind,
                period_key=row.period_key,
                recipient=row.recipient,
                message_id=row.message_id,
                sent_at=row.sent_at,
                mime=bytes(row.mime),
                sha256=row.sha256,
            )
            for row in conn.execute(query)
        ]


def sent_digest_keys(engine: Engine, since: datetime | None = None) -> list[str]:
    """The period keys of board digests and daily summaries sent (since ``since``), oldest first."""
    query = (
        select(email_log.c.period_key, func.min(email_log.c.sent_at).label("first"))
        .where(email_log.c.kind.in_(("board", "daily")), email_log.c.status == "sent")
        .group_by(email_log.c.period_key)
        .order_by("first")
    )
    if since is not None:
        query = query.where(email_log.c.sent_at >= since)
    with engine.connect() as conn:
        return [row.period_key for row in conn.execute(query)]


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


@dataclass(frozen=True, kw_only=True)
class SentDigest:
    """One board digest or daily summary as the archive holds it: its key, subject and copies sent."""

    period_key: str
    kind: str
    subject: str
    first_sent_at: datetime
    copies: int


def sent_digests(engine: Engine) -> list[SentDigest]:
    """Every board digest and daily summary with at least one copy sent and archived, newest first."""
    query = (
        select(
            email_log.c.period_key,
            email_log.c.kind,
            func.min(email_log.c.subject).label("subject"),
            func.min(email_log.c.sent_at).label("first_sent_at"),
            func.count().label("copies"),
        )
        .join(email_message, email_message.c.email_id == email_log.c.email_id)
        .where(email_log.c.kind.in_(("board", "daily")), email_log.c.status == "sent")
        .group_by(email_log.c.period_key, email_log.c.kind)
        .order_by(func.min(email_log.c.sent_at).desc(), email_log.c.period_key.desc())
    )
    with engine.connect() as conn:
        return [
            SentDigest(
                period_key=row.period_key,
                kind=row.kind,
                subject=row.subject or "",
                first_sent_at=row.first_sent_at,
                copies=int(row.copies),
            )
            for row in conn.execute(query)
        ]


def first_sent_copy(engine: Engine, kind: str, period_key: str) -> tuple[ArchivedMessage, list[str]] | None:
    """The first sent copy of ``period_key`` with its bytes, and every recipient it went to (in order);
    None when nothing of it was sent. Reads one message's bytes, however many copies there are."""
    sent = (
        select(email_log.c.email_id, email_log.c.recipient)
        .join(email_message, email_message.c.email_id == email_log.c.email_id)
        .where(email_log.c.kind == kind, email_log.c.period_key == period_key, email_log.c.status == "sent")
        .order_by(email_log.c.email_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(sent).all()
        if not rows:
            return None
        first = conn.execute(
            select(email_log, email_message.c.mime, email_message.c.sha256)
            .join(email_message, email_message.c.email_id == email_log.c.email_id)
            .where(email_log.c.email_id == rows[0].email_id)
        ).one()
    copy = ArchivedMessage(
        email_id=first.email_id,
        kind=first.kind,
        period_key=first.period_key,
        recipient=first.recipient,
        message_id=first.message_id,
        sent_at=first.sent_at,
        mime=bytes(first.mime),
        sha256=first.sha256,
    )
    return copy, [row.recipient for row in rows]
