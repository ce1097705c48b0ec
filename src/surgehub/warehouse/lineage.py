"""Named query for lineage (``surgehub explain``): every version of a locality's hub-days on one day that
had been received by a time, with the submission (file, receipt, hash, archive path) it came in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from surgehub.warehouse.tables import hub_day_version, submission

if TYPE_CHECKING:
    from datetime import date, datetime

    from sqlalchemy import Engine


def versions_of_day(engine: Engine, sub_icb_code: str, day: date, as_of: datetime) -> list[dict[str, Any]]:
    """Versions of the locality's hub-days dated ``day`` received by ``as_of``, by hub then newest first
    (newest receipt, then newest arrival: the first of each hub is its current version then)."""
    v, s = hub_day_version, submission
    query = (
        select(
            v.c.hub_code,
            v.c.version,
            v.c.received_at,
            v.c.arrival_seq,
            v.c.row_number,
            v.c.hub_status,
            v.c.sessions_delivered,
            v.c.appts_offered,
            v.c.submission_id,
            s.c.file_name,
            s.c.channel,
            s.c.sha256,
            s.c.archive_path,
            s.c.size_bytes,
        )
        .join(s, s.c.submission_id == v.c.submission_id)
        .where(v.c.sub_icb_code == sub_icb_code, v.c.activity_date == day, v.c.received_at <= as_of)
        .order_by(v.c.hub_code, v.c.received_at.desc(), v.c.arrival_seq.desc())
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]
