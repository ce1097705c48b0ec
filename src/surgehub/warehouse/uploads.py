"""Named queries on the `api_submission` table: every return received over HTTP, as the API answered it.

The Submission API records each upload here at receipt (its own id, the request's arrival time, the
bytes' sha256, the submitter's file name, the validate JSON it answered with, and the landing name it
handed the file over under); the ingest task finds an API file's receipt by its landing name. The
state of an upload is never stored: `surgehub.api.states` works it out from these rows and the
`submission` table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Row, and_, or_, select, update

from surgehub.warehouse import audit, tables
from surgehub.warehouse.db import writer

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

_a = tables.api_submission


@dataclass(frozen=True, kw_only=True)
class NewUpload:
    """One `api_submission` row to record (the column names, one for one)."""

    api_submission_id: str
    sub_icb_code: str
    token_id: int | None
    received_at: datetime
    sha256: str
    file_name: str
    landing_name: str | None
    size_bytes: int
    outcome: str  # accepted | rejected | error
    duplicate: bool
    validation: dict[str, Any]
    warehouse_submission_id: int | None = None
    sent_by: str | None = None  # "account:<email>" or "token:<prefix>"


def record_upload(engine: Engine, upload: NewUpload) -> Row[Any]:
    """Record one upload (its own writer transaction, with its ``submission.receive`` audit row when
    who sent it is known) and read the row back as stored."""
    with writer(engine).begin() as connection:
        connection.execute(_a.insert().values(**asdict(upload)))
        if upload.sent_by is not None:
            audit.record(
                connection,
                occurred_at=upload.received_at,
                actor=upload.sent_by.removeprefix("account:"),
                action="submission.receive",
                subject=f"submission:{upload.api_submission_id}",
                detail={
                    "locality": upload.sub_icb_code,
                    "outcome": upload.outcome,
                    "duplicate": upload.duplicate,
                    "sent_by": upload.sent_by,
                },
            )
    with engine.connect() as connection:
        return connection.execute(select(_a).where(_a.c.api_submission_id == upload.api_submission_id)).one()


def set_upload_outcome(engine: Engine, api_submission_id: str, outcome: str) -> None:
    """Change the outcome recorded for an upload (``error``: the hand-off to landing failed)."""
    with writer(engine).begin() as connection:
        connection.execute(
            update(_a).where(_a.c.api_submission_id == api_submission_id).values(outcome=outcome)
        )


def handed_over(engine: Engine, locality: str, sha256: str) -> list[Row[Any]]:
    """The uploads of these bytes from this locality that were handed to landing, oldest first.

    The caller looks in landing for each one's file (``landing_name``).
    """
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(_a)
                .where(
                    _a.c.sub_icb_code == locality,
                    _a.c.sha256 == sha256,
                    _a.c.outcome == "accepted",
                    _a.c.duplicate.is_(False),
                    _a.c.landing_name.is_not(None),
                )
                .order_by(_a.c.received_at)
            )
        )


def upload_of(engine: Engine, locality: str, api_submission_id: str) -> Row[Any] | None:
    """One upload of this locality (None for an unknown id or another locality's)."""
    with engine.connect() as connection:
        return connection.execute(
            select(_a).where(_a.c.api_submission_id == api_submission_id, _a.c.sub_icb_code == locality)
        ).first()


def uploads_of(engine: Engine, locality: str, limit: int) -> list[Row[Any]]:
    """The locality's latest uploads, newest first (at most ``limit``)."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(_a)
                .where(_a.c.sub_icb_code == locality)
                .order_by(_a.c.received_at.desc(), _a.c.api_submission_id)
                .limit(limit)
            )
        )


def upload_landed_as(engine: Engine, landing_name: str, locality: str) -> Row[Any] | None:
    """The upload handed to ``landing/<locality>/`` under ``landing_name``, if any."""
    with engine.connect() as connection:
        return connection.execute(
            select(_a).where(_a.c.landing_name == landing_name, _a.c.sub_icb_code == locality)
        ).first()


def api_ids_of(engine: Engine, submissions: Sequence[Row[Any]]) -> dict[int, str]:
    """The upload id (``api-…``) the submitter was answered with, for each warehouse submission that
    came over HTTP: the one reference shown everywhere (page, JSON, receipt).

    A rejected upload names its warehouse submission; an accepted one was handed to landing and is
    the warehouse submission of the same locality, bytes and receipt time (the ingest keeps the API's).
    """
    wanted = [s for s in submissions if s.channel == "api"]
    if not wanted:
        return {}
    ids = [int(s.submission_id) for s in wanted]
    hashes = sorted({s.sha256 for s in wanted})
    with engine.connect() as connection:
        found = list(
            connection.execute(
                select(_a).where(
                    or_(
                        _a.c.warehouse_submission_id.in_(ids),
                        and_(_a.c.sha256.in_(hashes), _a.c.duplicate.is_(False)),
                    )
                )
            )
        )
    out: dict[int, str] = {}
    for s in wanted:
        linked = next((u for u in found if u.warehouse_submission_id == s.submission_id), None)
        same = next(
            (
                u
                for u in found
                if u.sub_icb_code == s.sub_icb_code
                and u.sha256 == s.sha256
                and u.received_at == s.received_at
                and not u.duplicate
            ),
            None,
        )
        chosen = linked or same
        if chosen is not None:
            out[int(s.submission_id)] = str(chosen.api_submission_id)
    return out
