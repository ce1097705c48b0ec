"""Test builders: hub rows and submissions loaded straight into a warehouse (no file, no validator).

Shared by the SQLite unit tests and the PostgreSQL integration tests so both run the same cases.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from surgehub import reference
from surgehub.clock import LONDON
from surgehub.warehouse import load, submissions, tables
from surgehub.warehouse.db import writer

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def hub_row(hub_code: str, day: date, **values: Any) -> dict[str, Any]:
    """A consistent OPEN row (green on every parameter) for one hub-day; override any figure."""
    hub = next(h for h in reference.shipped_hubs() if h.hub_code == hub_code)
    row: dict[str, Any] = {
        "row_number": 1,
        "activity_date": day,
        "hub_code": hub_code,
        "sub_icb_code": hub.sub_icb_code,
        "hub_status": "OPEN",
        "sessions_planned": 10,
        "sessions_delivered": 10,
        "appts_offered": 100,
        "appts_booked": 80,
        "appts_attended": 78,
        "appts_dna": 2,
        "attended_f2f": 60,
        "attended_remote": 18,
        "src_practice": 50,
        "src_nhs111": 20,
        "src_ed_streaming": 5,
        "src_other": 5,
        "onward_ed": 2,
        "patients_turned_away": 0,
        "gp_hours": Decimal("20.00"),
        "other_clinician_hours": Decimal("10.50"),
        "comments": None,
        "signed_off_by": "Locality urgent care lead",
        "warnings": [],
    }
    row.update(values)
    return row


#: Text dtypes the validator's accepted frame may use: Python objects (None for blank), Arrow strings.
TEXT_DTYPES: tuple[str, ...] = ("object", "arrow", "str")


def accepted_frame(rows: list[dict[str, Any]], text_dtype: str = "object") -> Any:
    """``rows`` (as built by hub_row) as a frame typed like validate_return's accepted frame.

    int64 row numbers and counts, datetime64[ns] dates, float64 hours rounded to 2 places, a list of
    rule ids per row in ``warnings``, and text columns as ``text_dtype`` (one of TEXT_DTYPES), blank
    cells missing.
    """
    import pandas as pd
    import pyarrow as pa

    from surgehub import spec

    dtype: Any = {"object": object, "arrow": pd.ArrowDtype(pa.string()), "str": "str"}[text_dtype]
    frame = pd.DataFrame({"row_number": pd.Series([r["row_number"] for r in rows], dtype="int64")})
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


def submit(
    engine: Engine,
    received_at: datetime,
    rows: list[dict[str, Any]],
    channel: str = "cli",
    text_dtype: str = "object",
) -> int:
    """Record an accepted submission holding ``rows`` and load them as versions; returns its id.

    The rows are loaded the way ingest loads them: as an accepted frame (``accepted_frame``, its text
    columns of ``text_dtype``) through ``load.rows_from_frame``.
    """
    locality = rows[0]["sub_icb_code"]
    for number, row in enumerate(rows, start=1):
        row["row_number"] = number
    digest = hashlib.sha256(repr((received_at, rows)).encode()).hexdigest()
    with writer(engine).begin() as connection:
        submission_id = submissions.insert_submission(
            connection,
            sub_icb_code=locality,
            channel=channel,
            received_at=received_at,
            sha256=digest,
            file_name="test.csv",
            size_bytes=1,
            outcome="accepted",
            quarantined=False,
            spec_version="2026.1",
            data_rows=len(rows),
            errors=[],
            warnings=[],
            archive_path=None,
            processed_at=received_at,
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


def return_csv(rows: list[dict[str, Any]]) -> bytes:
    """A return file (CSV, spec column order) holding ``rows`` as built by hub_row."""
    from surgehub import spec

    lines = [",".join(spec.COLUMN_NAMES)]
    for row in rows:
        cells = []
        for name in spec.COLUMN_NAMES:
            value = row.get(name)
            text = "" if value is None else (value.isoformat() if isinstance(value, date) else str(value))
            cells.append(f'"{text}"' if "," in text else text)
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def versions_of(connection: Connection, hub_code: str, activity_date: date) -> list[dict[str, Any]]:
    """Every version of one hub-day as stored, oldest version number first."""
    v = tables.hub_day_version
    rows = connection.execute(
        v.select().where(v.c.hub_code == hub_code, v.c.activity_date == activity_date).order_by(v.c.version)
    )
    return [dict(r._mapping) for r in rows]
