"""Loading returns: the submission record and its rows as new hub-day versions, inside the caller's transaction.

Versions are decided before the rows are written: one query reads, for the hub-days a load touches,
the highest version number so far and the newest version (by receipt time, then arrival). Each new
row is numbered max(version)+1 and is current only when its receipt is newer than that newest one,
so a file with an older receipt time that arrives late (backfill) never displaces a newer revision.
The rows then go straight into ``hub_day_version`` — PostgreSQL: one ``COPY`` through psycopg 3;
SQLite: one executemany — and one ``UPDATE`` clears ``is_current`` on the versions displaced.
On PostgreSQL a transaction-scoped advisory lock serialises loaders while they number versions;
SQLite writers are serialised already (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, bindparam, insert, text, update

from surgehub import spec
from surgehub.warehouse import tables
from surgehub.warehouse.queries import statement

if TYPE_CHECKING:
    import pandas as pd

#: Arbitrary constant key of the PostgreSQL advisory lock taken while numbering versions.
VERSION_LOCK_KEY = 4_104_202_611

COUNT_COLUMNS: tuple[str, ...] = tables.COUNT_COLUMNS

#: A row's own columns, as read from a validated return.
ROW_COLUMNS: tuple[str, ...] = (
    "row_number",
    "activity_date",
    "hub_code",
    "sub_icb_code",
    "hub_status",
    *COUNT_COLUMNS,
    "gp_hours",
    "other_clinician_hours",
    "comments",
    "signed_off_by",
    "warnings",
)

#: Columns written to hub_day_version, in COPY order.
VERSION_COLUMNS: tuple[str, ...] = (
    "submission_id",
    "version",
    "is_current",
    "received_at",
    "arrival_seq",
    *ROW_COLUMNS,
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
    if isinstance(value, str):
        return not value.strip()
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, list | tuple) else False
    except (ImportError, TypeError, ValueError):
        return False


def _hours(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass
class Rows:
    """Rows to load, column by column (ROW_COLUMNS): cheap to build from a frame, to copy, to scan."""

    columns: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.columns["hub_code"])

    def as_dicts(self) -> list[dict[str, Any]]:
        names = list(self.columns)
        return [dict(zip(names, values, strict=True)) for values in zip(*self.columns.values(), strict=True)]


def rows_from_dicts(rows: Sequence[dict[str, Any]]) -> Rows:
    """Rows from dictionaries (tests, other loaders), normalised like a validated frame."""
    return Rows(
        {
            "row_number": [int(r["row_number"]) for r in rows],
            "activity_date": [_day(r["activity_date"]) for r in rows],
            "hub_code": [str(r["hub_code"]).strip().upper() for r in rows],
            "sub_icb_code": [str(r["sub_icb_code"]).strip().upper() for r in rows],
            "hub_status": [str(r["hub_status"]).strip().upper() for r in rows],
            **{name: [int(r[name]) for r in rows] for name in COUNT_COLUMNS},
            **{name: [_hours(r[name]) for r in rows] for name in spec.DECIMAL_COLUMNS},
            "comments": [None if _blank(r.get("comments")) else str(r["comments"]) for r in rows],
            "signed_off_by": [str(r["signed_off_by"]) for r in rows],
            "warnings": [list(r.get("warnings") or []) for r in rows],
        }
    )


def rows_from_frame(frame: pd.DataFrame) -> Rows:
    """Rows from validate_return's accepted frame, converted a column at a time (no per-row dicts)."""
    import pandas as pd

    def text_column(name: str) -> list[str]:
        return frame[name].astype(str).str.strip().str.upper().tolist()

    comments = frame["comments"].astype(object)
    blank = comments.isna() | comments.astype(str).str.strip().eq("")
    warnings = frame["warnings"] if "warnings" in frame else pd.Series([[]] * len(frame))
    return Rows(
        {
            "row_number": frame["row_number"].astype("int64").tolist(),
            "activity_date": [d.date() for d in pd.to_datetime(frame["activity_date"])],
            "hub_code": text_column("hub_code"),
            "sub_icb_code": text_column("sub_icb_code"),
            "hub_status": text_column("hub_status"),
            **{name: frame[name].astype("int64").tolist() for name in COUNT_COLUMNS},
            **{name: [_hours(v) for v in frame[name].tolist()] for name in spec.DECIMAL_COLUMNS},
            "comments": comments.where(~blank, None).tolist(),
            "signed_off_by": frame["signed_off_by"].astype(str).tolist(),
            "warnings": [list(w) if isinstance(w, list | tuple) else [] for w in warnings.tolist()],
        }
    )


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


@dataclass(frozen=True)
class _Newest:
    version_id: int
    received_at: datetime
    arrival_seq: int
    max_version: int


def _newest_versions(connection: Connection, rows: Rows) -> dict[tuple[str, date], _Newest]:
    query = statement("load/select_newest_versions.sql", "received_at").bindparams(
        bindparam("hub_codes", expanding=True)
    )
    days = rows.columns["activity_date"]
    result = connection.execute(
        query,
        {"hub_codes": sorted(set(rows.columns["hub_code"])), "first_day": min(days), "last_day": max(days)},
    )
    return {
        (r.hub_code, _day(r.activity_date)): _Newest(
            int(r.version_id), r.received_at, int(r.arrival_seq), int(r.max_version)
        )
        for r in result
    }


def _copy_versions(connection: Connection, columns: dict[str, list[Any]]) -> None:
    driver_connection = connection.connection.driver_connection
    names = ", ".join(VERSION_COLUMNS)
    values = [columns[name] for name in VERSION_COLUMNS]
    with (
        driver_connection.cursor() as cursor,  # type: ignore[union-attr]
        cursor.copy(f"copy hub_day_version ({names}) from stdin") as copy,
    ):
        for row in zip(*values, strict=True):
            copy.write_row(row)


def load_versions(
    connection: Connection,
    *,
    submission_id: int,
    received_at: datetime,
    arrival_seq: int,
    rows: Rows | Sequence[dict[str, Any]],
) -> int:
    """Add ``rows`` as new versions of their hub-days, current where newest; returns rows loaded."""
    batch = rows if isinstance(rows, Rows) else rows_from_dicts(rows)
    count = len(batch)
    if count == 0:
        return 0
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": VERSION_LOCK_KEY})
    newest = _newest_versions(connection, batch)

    keys = list(zip(batch.columns["hub_code"], batch.columns["activity_date"], strict=True))
    last_position = {key: position for position, key in enumerate(keys)}  # a file has each key once (R08)
    next_version = {key: found.max_version for key, found in newest.items()}
    versions: list[int] = []
    current: list[bool] = []
    displaced: list[int] = []
    for position, key in enumerate(keys):
        next_version[key] = next_version.get(key, 0) + 1
        versions.append(next_version[key])
        found = newest.get(key)
        is_newest = found is None or (received_at, arrival_seq) > (found.received_at, found.arrival_seq)
        wins = last_position[key] == position and is_newest
        current.append(wins)
        if wins and found is not None:
            displaced.append(found.version_id)

    columns = {
        "submission_id": [submission_id] * count,
        "version": versions,
        "is_current": current,
        "received_at": [received_at] * count,
        "arrival_seq": [arrival_seq] * count,
        **batch.columns,
    }
    if postgresql:
        columns["warnings"] = [json.dumps(w) for w in columns["warnings"]]
        _copy_versions(connection, columns)
    else:
        names = list(columns)
        connection.execute(
            insert(tables.hub_day_version),
            [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)],
        )
    if displaced:
        connection.execute(statement("load/update_displaced_versions.sql"), {"submission_id": submission_id})
    return count


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
