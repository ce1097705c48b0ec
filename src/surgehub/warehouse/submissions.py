"""Named queries on the `submission` table: one row per return received, accepted or rejected.

The ingest records submissions here and looks up replays and accepted originals; the API, the
receipts and the DAG tasks read them back. Every function takes an engine (it opens its own
connection) or, where it must join the caller's transaction, a connection.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, case, func, insert, select, update

from surgehub.warehouse import tables

_s = tables.submission


#: `insert_submission`'s statements, built once and executed with the values as parameters (building
#: them with the values bound in cost more than running them, once per return).
_INSERT = insert(_s).returning(_s.c.submission_id)
_NUMBER = update(_s).where(_s.c.submission_id == bindparam("id")).values(arrival_seq=bindparam("seq"))


def insert_submission(connection: Connection, **values: Any) -> int:
    """Record one submission in the caller's transaction; its arrival_seq is its id (recording order)."""
    values.setdefault("arrival_seq", 0)
    submission_id = int(connection.execute(_INSERT, values).scalar_one())
    connection.execute(_NUMBER, {"id": submission_id, "seq": submission_id})
    return submission_id


def receipt_of(engine: Engine, locality: str, sha256: str, received_at: datetime) -> Row[Any] | None:
    """The submission recorded for this very receipt (same locality, bytes and receipt time), if any."""
    with engine.connect() as connection:
        return connection.execute(
            select(_s).where(
                _s.c.sub_icb_code == locality, _s.c.sha256 == sha256, _s.c.received_at == received_at
            )
        ).first()


def accepted_original(engine: Engine, locality: str, sha256: str) -> Row[Any] | None:
    """The first accepted submission of these bytes from this locality (a resend is its duplicate)."""
    with engine.connect() as connection:
        return connection.execute(
            select(_s)
            .where(_s.c.sub_icb_code == locality, _s.c.sha256 == sha256, _s.c.outcome == "accepted")
            .order_by(_s.c.received_at, _s.c.arrival_seq)
            .limit(1)
        ).first()


_received_at = bindparam("received_at", type_=_s.c.received_at.type)
_same_receipt = _s.c.received_at == _received_at

#: `receipt_or_original`'s one query, built once: the receipt's own row first, else the first accepted.
_RECEIPT_OR_ORIGINAL = (
    select(_s, case((_same_receipt, 1), else_=0).label("replay"))
    .where(
        _s.c.sub_icb_code == bindparam("locality"),
        _s.c.sha256 == bindparam("sha256"),
        _same_receipt | (_s.c.outcome == "accepted"),
    )
    .order_by(case((_same_receipt, 0), else_=1), _s.c.received_at, _s.c.arrival_seq)
    .limit(1)
)


def receipt_or_original(
    engine: Engine, locality: str, sha256: str, received_at: datetime
) -> tuple[Row[Any] | None, Row[Any] | None]:
    """(`receipt_of`, `accepted_original`) in one query, on one snapshot: the submission recorded for this
    very receipt if any — then the original is not looked for, (row, None) — else (None, the first
    accepted submission of these bytes from this locality, or None)."""
    with engine.connect() as connection:
        found = connection.execute(
            _RECEIPT_OR_ORIGINAL, {"locality": locality, "sha256": sha256, "received_at": received_at}
        ).first()
    if found is None:
        return None, None
    return (found, None) if found.replay else (None, found)


def loaded_days(engine: Engine, submission_id: int) -> set[date]:
    """The activity days a loaded submission has versions for."""
    v = tables.hub_day_version
    with engine.connect() as connection:
        found = connection.execute(
            select(v.c.activity_date).where(v.c.submission_id == submission_id).distinct()
        ).scalars()
        return {day if isinstance(day, date) else date.fromisoformat(str(day)[:10]) for day in found}


def last_processed_at(engine: Engine) -> datetime | None:
    """When the last submission was recorded (health: the last ingest)."""
    with engine.connect() as connection:
        return connection.execute(select(func.max(_s.c.processed_at))).scalar()


# -- what a locality has sent (the Submission API's reads) -------------------------------------------


def submission_of(engine: Engine, locality: str, submission_id: int) -> Row[Any] | None:
    """One submission of this locality (None for an unknown number or another locality's)."""
    with engine.connect() as connection:
        return connection.execute(
            select(_s).where(_s.c.submission_id == submission_id, _s.c.sub_icb_code == locality)
        ).first()


def submissions_of(engine: Engine, locality: str, limit: int) -> list[Row[Any]]:
    """The locality's latest submissions on every channel, newest first (at most ``limit``)."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(_s)
                .where(_s.c.sub_icb_code == locality)
                .order_by(_s.c.received_at.desc(), _s.c.arrival_seq.desc())
                .limit(limit)
            )
        )


def submissions_of_bytes(engine: Engine, locality: str, sha256s: set[str]) -> list[Row[Any]]:
    """Every submission from this locality of any of these files (by sha256), in recording order."""
    if not sha256s:
        return []
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(_s)
                .where(_s.c.sub_icb_code == locality, _s.c.sha256.in_(sorted(sha256s)))
                .order_by(_s.c.received_at, _s.c.arrival_seq)
            )
        )


def receipts_summary(engine: Engine) -> list[Row[Any, Any, Any, Any, Any, Any]]:
    """Every submission's receipt (locality, sha256, received_at), outcome and finding ``totals``, in order
    of receipt: what the GX Data Docs page puts beside each return's GX result (gx/docs.py)."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(
                    _s.c.sub_icb_code,
                    _s.c.sha256,
                    _s.c.received_at,
                    _s.c.outcome,
                    _s.c.quarantined,
                    _s.c.totals,
                ).order_by(_s.c.received_at, _s.c.arrival_seq)
            )
        )
