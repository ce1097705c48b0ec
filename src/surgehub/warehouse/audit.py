"""Named queries on ``audit_event``: who did what and when, append-only.

``record`` is the only writer and only ever inserts (the table's triggers refuse an UPDATE or DELETE
on both backends). It takes the caller's connection, so an audited change and its audit row commit
together or not at all. ``detail`` is plain JSON that never holds a secret or a patient number.
Sign-ins, tokens, submissions and digest re-sends (issue 17) use the same table through ``record``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from surgehub.warehouse.tables import audit_event

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from sqlalchemy import Connection, Engine


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    audit_id: int
    occurred_at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "audit_id": self.audit_id,
            "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "detail": self.detail,
        }


def record(
    connection: Connection,
    *,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append one event inside the caller's transaction; its id."""
    result = connection.execute(
        audit_event.insert().values(
            occurred_at=occurred_at,
            actor=actor[:320],
            action=action[:60],
            subject=subject[:200],
            detail=dict(detail or {}),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def events(
    engine: Engine, *, since: datetime | None = None, action_prefix: str | None = None, limit: int = 1000
) -> list[AuditEvent]:
    """Events oldest first (those at or after ``since``; whose action starts with ``action_prefix``)."""
    query = select(audit_event).order_by(audit_event.c.occurred_at, audit_event.c.audit_id).limit(limit)
    if since is not None:
        query = query.where(audit_event.c.occurred_at >= since)
    if action_prefix:
        query = query.where(audit_event.c.action.startswith(action_prefix, autoescape=True))
    with engine.connect() as connection:
        return [
            AuditEvent(
                audit_id=row.audit_id,
                occurred_at=row.occurred_at,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                detail=dict(row.detail or {}),
            )
            for row in connection.execute(query)
        ]


def latest(engine: Engine, *, limit: int = 100) -> list[AuditEvent]:
    """The newest ``limit`` events, newest first (the admin page)."""
    query = select(audit_event).order_by(audit_event.c.occurred_at.desc(), audit_event.c.audit_id.desc())
    with engine.connect() as connection:
        return [
            AuditEvent(
                audit_id=row.audit_id,
                occurred_at=row.occurred_at,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                detail=dict(row.detail or {}),
            )
            for row in connection.execute(query.limit(limit))
        ]
