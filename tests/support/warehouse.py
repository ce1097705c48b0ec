"""The warehouse in tests: submissions loaded without a file or a validator, and what was stored.

``submit`` loads rows (as built by ``tests.support.returns.hub_row``) the way ingest loads them: as an
accepted frame shaped like the validator's (``accepted_frame``) through ``load.rows_from_frame``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from surgehub import reference, spec
from surgehub.warehouse import load, submissions, tables
from surgehub.warehouse.db import writer
from tests.support.returns import hub_row

if TYPE_CHECKING:
    from datetime import date, datetime

    from sqlalchemy import Connection, Engine

#: Text dtypes the validator's accepted frame may use: Python objects (None for blank), Arrow strings.
TEXT_DTYPES: tuple[str, ...] = ("object", "arrow", "str")


def accepted_frame(rows: list[dict[str, Any]], text_dtype: str = "object") -> Any:
    """``rows`` as a frame typed like validate_return's accepted frame.

    int64 row numbers (a row's ``row_number``, else its position from 1) and counts, datetime64[ns]
    dates, float64 hours rounded to 2 places, a list of rule ids per row in ``warnings``, and text
    columns as ``text_dtype`` (one of TEXT_DTYPES), blank cells missing.
    """
    import pandas as pd
    import pyarrow as pa

    dtype: Any = {"object": object, "arrow": pd.ArrowDtype(pa.string()), "str": "str"}[text_dtype]
    numbers = [r.get("row_number", n) for n, r in enumerate(rows, start=1)]
    frame = pd.DataFrame({"row_number": pd.Series(numbers, dtype="int64")})
    for name in spec.COLUMN_NAMES:
        values = [r.get(name) for r in rows]
        if name == "activity_date":
            frame[name] = pd.to_datetime(pd.Series(values)).astype("datetime64[ns]")
        elif name in spec.INTEGER_COLUMNS:
            frame[name] = pd.Series(values, dtype="int64")
        elif name in spec.DECIMAL_COLUMNS:
            frame[name] = pd.Series([float(v) for v in values], dtype="float64").round(2)
        else:
            frame[name] = pd.Series([None if v is None else str(v) for v in values], dtype=dtype)
    frame["warnings"] = pd.Series([list(r.get("warnings") or []) for r in rows], dtype=object)
    return frame


def record_submission(
    connection: Connection,
    *,
    sub_icb_code: str,
    received_at: datetime,
    outcome: str = "accepted",
    data_rows: int = 0,
    channel: str = "cli",
    sha256: str = "0" * 64,
    file_name: str = "test.csv",
) -> int:
    """A submission row written by hand in the caller's transaction (no file kept); its id."""
    return submissions.insert_submission(
        connection,
        sub_icb_code=sub_icb_code,
        channel=channel,
        received_at=received_at,
        sha256=sha256,
        file_name=file_name,
        size_bytes=1,
        outcome=outcome,
        quarantined=False,
        spec_version=spec.SPEC_VERSION,
        data_rows=data_rows,
        errors=[],
        warnings=[],
        archive_path=None,
        processed_at=received_at,
    )


def submit(
    engine: Engine,
    received_at: datetime,
    rows: list[dict[str, Any]],
    channel: str = "cli",
    text_dtype: str = "object",
) -> int:
    """Record an accepted submission holding ``rows`` and load them as versions; returns its id.

    The rows are numbered from 1 in place, and loaded as an accepted frame (text columns of
    ``text_dtype``) through ``load.rows_from_frame``, the same path as ingest.
    """
    for number, row in enumerate(rows, start=1):
        row["row_number"] = number
    with writer(engine).begin() as connection:
        submission_id = record_submission(
            connection,
            sub_icb_code=rows[0]["sub_icb_code"],
            received_at=received_at,
            data_rows=len(rows),
            channel=channel,
            sha256=hashlib.sha256(repr((received_at, rows)).encode()).hexdigest(),
        )
        load.load_versions(
            connection,
            submission_id=submission_id,
            received_at=received_at,
            arrival_seq=submission_id,
            rows=load.rows_from_frame(accepted_frame(rows, text_dtype)),
        )
    return submission_id


def submit_all_green(engine: Engine, day: date, received_at: datetime, skip: tuple[str, ...] = ()) -> None:
    """Every locality sends a green return for all its active hubs (except the localities in ``skip``)."""
    for loc in reference.localities():
        if loc.sub_icb_code in skip:
            continue
        hubs = [
            h for h in reference.shipped_hubs() if h.sub_icb_code == loc.sub_icb_code and h.active_on(day)
        ]
        if hubs:
            submit(engine, received_at, [hub_row(h.hub_code, day) for h in hubs])


def versions_of(connection: Connection, hub_code: str, activity_date: date) -> list[dict[str, Any]]:
    """Every version of one hub-day as stored, oldest version number first."""
    v = tables.hub_day_version
    rows = connection.execute(
        v.select().where(v.c.hub_code == hub_code, v.c.activity_date == activity_date).order_by(v.c.version)
    )
    return [dict(r._mapping) for r in rows]


def scalar(engine: Engine, sql: str) -> Any:
    """The one value a query of one row and one column gives."""
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar_one()


def count(engine: Engine, sql: str) -> int:
    """The number a ``select count(*) …`` gives."""
    return int(scalar(engine, sql))


def doubled_hub_days(engine: Engine) -> list[tuple[Any, ...]]:
    """Hub-days with more than one version from the same submission, or more than one current version."""
    with engine.connect() as connection:
        same_file = connection.execute(
            text(
                "select hub_code, activity_date, submission_id, count(*) from hub_day_version"
                " group by hub_code, activity_date, submission_id having count(*) > 1"
            )
        ).all()
        current = connection.execute(
            text(
                "select hub_code, activity_date, count(*) from hub_day_version where is_current"
                " group by hub_code, activity_date having count(*) > 1"
            )
        ).all()
    return [tuple(r) for r in same_file] + [tuple(r) for r in current]
