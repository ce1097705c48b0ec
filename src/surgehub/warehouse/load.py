"""Loading returns: the submission record and its rows as new hub-day versions, inside the caller's transaction.

Rows go first into a temporary staging table (PostgreSQL: ``COPY`` through psycopg 3; SQLite: one
executemany), then one ``INSERT … SELECT`` assigns each row version max(version)+1 of its hub-day,
and one ``UPDATE`` makes the newest version by receipt time (then arrival) current, so a file with an
older receipt time that arrives late (backfill) never displaces a newer revision. On PostgreSQL a
transaction-scoped advisory lock serialises version assignment between concurrent loaders; SQLite
writers are already serialised (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Date,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    bindparam,
    insert,
    text,
    update,
)

from surgehub import spec
from surgehub.warehouse import tables
from surgehub.warehouse.queries import statement

if TYPE_CHECKING:
    import pandas as pd

#: Arbitrary constant key of the PostgreSQL advisory lock taken while assigning versions.
VERSION_LOCK_KEY = 4_104_202_611

#: Columns of a row as staged, in COPY order.
STAGE_COLUMNS: tuple[str, ...] = (
    "row_number",
    "activity_date",
    "hub_code",
    "sub_icb_code",
    "hub_status",
    *tables._COUNT_COLUMNS,
    "gp_hours",
    "other_clinician_hours",
    "comments",
    "signed_off_by",
    "warnings",
)

_stage_metadata = MetaData()
stage_hub_day = Table(
    "stage_hub_day",
    _stage_metadata,
    Column("row_number", Integer, nullable=False),
    Column("activity_date", Date, nullable=False),
    Column("hub_code", String(20), nullable=False),
    Column("sub_icb_code", String(3), nullable=False),
    Column("hub_status", String(20), nullable=False),
    *(Column(name, Integer, nullable=False) for name in tables._COUNT_COLUMNS),
    Column("gp_hours", Numeric(7, 2), nullable=False),
    Column("other_clinician_hours", Numeric(7, 2), nullable=False),
    Column("comments", Text),
    Column("signed_off_by", String(100), nullable=False),
    Column("warnings", JSON, nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


# -- rows from a validated frame -----------------------------------------------------------------


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if hasattr(value, "date"):  # pandas Timestamp
        return value.date()
    return date.fromisoformat(str(value)[:10])


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return True
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return isinstance(value, str) and not value.strip()


def _hours(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def rows_from_frame(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain Python rows (date, int, Decimal, str, list) from validate_return's accepted frame."""
    records = frame.to_dict(orient="records")
    rows: list[dict[str, Any]] = []
    for record in records:
        warnings = record.get("warnings")
        rows.append(
            {
                "row_number": int(record["row_number"]),
                "activity_date": _day(record["activity_date"]),
                "hub_code": str(record["hub_code"]).strip().upper(),
                "sub_icb_code": str(record["sub_icb_code"]).strip().upper(),
                "hub_status": str(record["hub_status"]).strip().upper(),
                **{name: int(record[name]) for name in tables._COUNT_COLUMNS},
                **{name: _hours(record[name]) for name in spec.DECIMAL_COLUMNS},
                "comments": None if _blank(record.get("comments")) else str(record["comments"]),
                "signed_off_by": str(record["signed_off_by"]),
                "warnings": [] if warnings is None or _blank(warnings) else [str(w) for w in warnings],
            }
        )
    return rows


# -- submissions ---------------------------------------------------------------------------------


def insert_submission(connection: Connection, **values: Any) -> int:
    """Record one submission; its arrival_seq is its id (the order rows were recorded in)."""
    values.setdefault("arrival_seq", 0)
    result = connection.execute(
        insert(tables.submission).values(**values).returning(tables.submission.c.submission_id)
    )
    submission_id = int(result.scalar_one())
    connection.execute(
        update(tables.submission)
        .where(tables.submission.c.submission_id == submission_id)
        .values(arrival_seq=submission_id)
    )
    return submission_id


# -- versions ------------------------------------------------------------------------------------


def _stage_rows_postgresql(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    driver_connection = connection.connection.driver_connection
    columns = ", ".join(STAGE_COLUMNS)
    with (
        driver_connection.cursor() as cursor,  # type: ignore[union-attr]
        cursor.copy(f"copy stage_hub_day ({columns}) from stdin") as copy,
    ):
        for row in rows:
            copy.write_row(tuple(json.dumps(row[c]) if c == "warnings" else row[c] for c in STAGE_COLUMNS))


def load_versions(
    connection: Connection,
    *,
    submission_id: int,
    received_at: datetime,
    arrival_seq: int,
    rows: Sequence[dict[str, Any]],
) -> int:
    """Insert ``rows`` as new versions of their hub-days and flip ``is_current``; returns rows loaded."""
    if not rows:
        return 0
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": VERSION_LOCK_KEY})
    # Temporary and inside the transaction: a failure rolls the staging table back with the rest.
    stage_hub_day.create(connection)
    if postgresql:
        _stage_rows_postgresql(connection, rows)
    else:
        connection.execute(insert(stage_hub_day), list(rows))
    params = {"submission_id": submission_id, "received_at": received_at, "arrival_seq": arrival_seq}
    loaded = connection.execute(statement("load/insert_hub_day_versions.sql"), params).rowcount
    connection.execute(statement("load/update_current_versions.sql"))
    if not postgresql:  # PostgreSQL drops it at commit
        stage_hub_day.drop(connection)
    return int(loaded)


def current_open_rows(
    engine: Engine, hub_codes: Sequence[str], first_day: date, last_day: date, as_of: datetime
) -> pd.DataFrame:
    """hub_code, activity_date, appts_offered of the hub-days whose newest version as of T is OPEN."""
    import pandas as pd

    columns = ["hub_code", "activity_date", "appts_offered"]
    if not hub_codes:
        return pd.DataFrame(columns=columns)
    query = statement("load/select_open_history.sql").bindparams(bindparam("hub_codes", expanding=True))
    with engine.connect() as connection:
        result = connection.execute(
            query,
            {
                "hub_codes": [code.upper() for code in hub_codes],
                "first_day": first_day,
                "last_day": last_day,
                "as_of": as_of,
            },
        )
        rows = [(r.hub_code, _day(r.activity_date), int(r.appts_offered)) for r in result]
    return pd.DataFrame(rows, columns=columns)


def history_lookup(engine: Engine, as_of: datetime) -> Any:
    """A validate_return ``history`` (W05) reading the warehouse as it stood at ``as_of``."""

    def lookup(hub_codes: Sequence[str], first_day: date, last_day: date) -> pd.DataFrame:
        return current_open_rows(engine, hub_codes, first_day, last_day, as_of)

    return lookup


def versions_of(connection: Connection, hub_code: str, activity_date: date) -> list[dict[str, Any]]:
    """Every version of one hub-day, oldest version number first (tests, diagnostics)."""
    v = tables.hub_day_version
    rows = connection.execute(
        v.select().where(v.c.hub_code == hub_code, v.c.activity_date == activity_date).order_by(v.c.version)
    )
    return [dict(r._mapping) for r in rows]
