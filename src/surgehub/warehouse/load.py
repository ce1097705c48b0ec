"""Loading returns: the submission record and its rows as new hub-day versions, inside the caller's transaction.

Versions are decided before the rows are written: one query reads, for the hub-days a load touches,
the highest version number so far and the newest version (by receipt time, then arrival). Each new
row is numbered max(version)+1 and is current only when its receipt is newer than that newest one,
so a file with an older receipt time that arrives late (backfill) never displaces a newer revision.
The rows then go straight into ``hub_day_version`` — PostgreSQL: one ``COPY … (FORMAT csv)`` through
psycopg 3; SQLite: executemany — and an ``UPDATE`` by primary key clears ``is_current`` on the
versions displaced.
On PostgreSQL a transaction-scoped advisory lock serialises loaders while they number versions;
SQLite writers are serialised already (``BEGIN IMMEDIATE``).

``hub_day_version`` has no foreign keys (migration 0007): what they checked row by row, the loader
checks once per load, before writing (``references.check``): every row's hub is a hub of the locality
named beside it, and the submission exists.

The rows stay column-wise throughout: ``Rows`` wraps the validated frame without copying it, versions
are numbered with NumPy over the whole batch, and the values are converted a chunk of ``CHUNK_ROWS``
rows at a time (Arrow compute, then Arrow's CSV writer for the COPY), so loading a million rows adds
about two chunks' worth of memory, not a Python object per cell. On PostgreSQL the next chunk is
prepared on a second thread while the server takes the one before (Arrow releases the GIL).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, insert, text

from surgehub import spec
from surgehub.warehouse import references, tables
from surgehub.warehouse.queries import statement_in

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from datetime import datetime

    import numpy as np
    import pandas as pd
    import pyarrow as pa

#: Version ids per UPDATE when clearing displaced versions (well inside SQLite's 32,766 bound parameters).
DISPLACED_CHUNK = 10_000

#: Arbitrary constant key of the PostgreSQL advisory lock taken while numbering versions.
VERSION_LOCK_KEY = 4_104_202_611

#: Rows converted and written at a time (one COPY chunk on PostgreSQL, one executemany on SQLite).
CHUNK_ROWS = 50_000

COUNT_COLUMNS: tuple[str, ...] = tables.COUNT_COLUMNS

#: Text columns that are codes: trimmed and upper-cased on loading.
CODE_COLUMNS: tuple[str, ...] = ("hub_code", "sub_icb_code", "hub_status")

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

#: Columns of the loader's COPY (PostgreSQL): the version ids too, reserved in one block (``_reserve_ids``).
COPY_COLUMNS: tuple[str, ...] = ("version_id", *VERSION_COLUMNS)


# -- columns of a chunk --------------------------------------------------------------------------


def _arrow(series: pd.Series) -> pa.Array:
    """A text column as one Arrow string array, null where missing: object (None/NaN), Arrow or pandas str."""
    import pyarrow as pa

    if series.dtype == object:
        array = pa.array(series.to_numpy(), type=pa.string(), from_pandas=True)
    else:
        array = pa.array(series)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.string())
    return array


def _codes(series: pd.Series) -> pa.Array:
    import pyarrow.compute as pc

    return pc.utf8_upper(pc.utf8_trim_whitespace(_arrow(series)))


def _comments(series: pd.Series) -> pa.Array:
    """Comments as given, null when missing or blank (COPY csv: null is an unquoted empty field)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = _arrow(series)
    blank = pc.equal(pc.utf8_trim_whitespace(array), pa.scalar(""))
    return pc.if_else(blank, pa.scalar(None, array.type), array)


def _days(series: pd.Series) -> np.ndarray:
    """Activity dates as datetime64[D] (from datetime64, Arrow dates or date objects)."""
    import pandas as pd

    return pd.to_datetime(series).to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def _cents(series: pd.Series) -> np.ndarray:
    """Hours (float64 rounded to 2 places by the validator) as exact int64 hundredths."""
    import numpy as np

    values = series.to_numpy(dtype="float64")
    if not np.isfinite(values).all():
        raise ValueError(f"{series.name}: a value is missing or not finite")
    return np.rint(values * 100).astype(np.int64)


def _hours_text(cents: np.ndarray) -> pa.Array:
    """Hundredths as exact two-place decimal text ("20.00", "1.10"): never a float's repr."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    magnitude = np.abs(cents)
    whole = pc.cast(pa.array(magnitude // 100), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(magnitude % 100), pa.string()), width=2, padding="0")
    # Arrow broadcasts a scalar separator; pyarrow-stubs accept only arrays here, hence the cast.
    join = cast("Callable[..., pa.Array[Any]]", pc.binary_join_element_wise)
    text_ = join(whole, fraction, pa.scalar("."))
    negative = cents < 0
    if negative.any():
        signed = join(pa.scalar("-"), text_, pa.scalar(""))
        text_ = pc.if_else(pa.array(negative), signed, text_)
    return text_


def _rule_lists(part: pd.DataFrame) -> list[list[str]]:
    """The W-rules that fired on each row (a list of rule ids; empty when none or no column)."""
    if "warnings" not in part:
        return [[] for _ in range(len(part))]
    return [
        [str(rule) for rule in value] if isinstance(value, list | tuple) or hasattr(value, "tolist") else []
        for value in part["warnings"].tolist()
    ]


def _rules_json_python(part: pd.DataFrame) -> list[str]:
    """Each row's rule ids as JSON text (``["W01", "W03"]``), a row at a time; most rows share a few values."""
    known: dict[tuple[str, ...], str] = {}
    out: list[str] = []
    for rules in _rule_lists(part):
        key = tuple(rules)
        found = known.get(key)
        if found is None:
            found = known[key] = json.dumps(rules)
        out.append(found)
    return out


#: A rule id that JSON text holds as it is (printable ASCII, no quote or backslash): json.dumps adds nothing.
_PLAIN_JSON_TEXT = r"^[ !#-\[\]-~]*$"


def _rules_json(part: pd.DataFrame) -> pa.Array:
    """Each row's rule ids as JSON text, the same text as ``json.dumps`` (``["W01", "W03"]``), by Arrow.

    Lists of plain ids (the validator's) are joined column-wise; anything else (an id needing escapes,
    a value that is not a list of strings) takes the row-at-a-time path.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if "warnings" not in part:
        return pa.repeat(pa.scalar("[]"), len(part))
    values = part["warnings"].to_numpy(dtype=object)
    # a list of ids, or none (None, NaN); anything else (a string, which Arrow takes for a list) row by row
    if not set(map(type, values)) <= {list, tuple, np.ndarray, type(None), float}:
        return pa.array(_rules_json_python(part), pa.string())
    try:  # typed Any: the stubs type list arrays poorly
        lists: Any = pa.array(values, pa.list_(pa.string()), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(_rules_json_python(part), pa.string())
    ids = pc.list_flatten(lists)
    if len(ids) and not pc.all(pc.match_substring_regex(ids, _PLAIN_JSON_TEXT)).as_py():
        return pa.array(_rules_json_python(part), pa.string())
    join = cast("Callable[..., pa.Array[Any]]", pc.binary_join_element_wise)
    inner = pc.binary_join(lists, pa.scalar('", "'))
    listed = join(pa.scalar('["'), inner, pa.scalar('"]'), pa.scalar(""))
    empty = pc.fill_null(pc.equal(pc.list_value_length(lists), pa.scalar(0)), pa.scalar(True))  # null: none
    return pc.if_else(empty, pa.scalar("[]"), listed)


def _arrow_columns(part: pd.DataFrame) -> dict[str, pa.Array]:
    """A chunk's ROW_COLUMNS (warnings aside) as Arrow arrays of the values stored."""
    import pyarrow as pa

    return {
        "row_number": pa.array(part["row_number"].to_numpy(dtype="int64")),
        "activity_date": pa.array(_days(part["activity_date"])),
        **{name: _codes(part[name]) for name in CODE_COLUMNS},
        **{name: pa.array(part[name].to_numpy(dtype="int64")) for name in COUNT_COLUMNS},
        **{name: _hours_text(_cents(part[name])) for name in spec.DECIMAL_COLUMNS},
        "comments": _comments(part["comments"]),
        "signed_off_by": _arrow(part["signed_off_by"]),
    }


def _python_values(part: pd.DataFrame) -> dict[str, list[Any]]:
    """A chunk's ROW_COLUMNS but warnings as plain Python values (int, date, str, Decimal, None)."""
    columns: dict[str, list[Any]] = {name: array.to_pylist() for name, array in _arrow_columns(part).items()}
    for name in spec.DECIMAL_COLUMNS:
        columns[name] = [Decimal(value) for value in columns[name]]
    return columns


def _python_columns(
    part: pd.DataFrame, values: Mapping[str, list[Any]] | None = None
) -> dict[str, list[Any]]:
    """A chunk's ROW_COLUMNS as plain Python values (int, date, str, Decimal, None, list); with ``values``
    (its SHARED_COLUMNS, converted already with other returns' rows: `Converted`), only the row number
    and the warnings are its own."""
    if values is None:
        columns = _python_values(part)
    else:
        columns = {**values, "row_number": part["row_number"].to_numpy(dtype="int64").tolist()}
    columns["warnings"] = _rule_lists(part)
    return {name: columns[name] for name in ROW_COLUMNS}


#: The columns `Converted` converts for several returns at once: all but each return's own row number
#: and warnings (W05, judged just before its load, may add to a return's warnings).
SHARED_COLUMNS: tuple[str, ...] = tuple(
    name for name in ROW_COLUMNS if name not in {"row_number", "warnings"}
)


class Converted:
    """The rows of several returns stacked in one frame (a validation batch's accepted rows), as plain
    Python values, converted in one pass the first time any of them is asked for.

    Arrow's cost is mostly per call: converting a backfill chunk's ~400 rows at once instead of each
    return's 1–3 rows apart saves ~1 ms a return. The conversion is element-wise (trimming and
    upper-casing codes, blank comments to null, hours to exact decimals), so a return's slice of it
    is exactly what converting its own rows gives. If the joint conversion fails (a value one return's
    load would refuse), ``values`` answers None and each return converts its own rows, so that failure
    stays that return's alone; so it does for more than CHUNK_ROWS rows in all (large returns: their
    Python values are held only a chunk at a time, as ever).
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._values: dict[str, list[Any]] | None = None
        self._failed = len(frame) > CHUNK_ROWS

    def values(self, start: int, stop: int) -> dict[str, list[Any]] | None:
        """SHARED_COLUMNS of the frame's rows ``start:stop`` (None: convert them apart)."""
        if self._values is None and not self._failed:
            try:
                converted = _python_values(self.frame)
            except Exception:
                self._failed = True
                return None
            self._values = {name: converted[name] for name in SHARED_COLUMNS}
        if self._values is None:
            return None
        return {name: column[start:stop] for name, column in self._values.items()}


# -- rows ----------------------------------------------------------------------------------------


@dataclass
class Rows:
    """Rows to load, kept column-wise: the validated frame itself (not copied), converted chunk by chunk."""

    frame: pd.DataFrame
    #: SHARED_COLUMNS of the frame's rows as Python values, when converted already (`Converted`)
    values: Mapping[str, list[Any]] | None = None

    def __post_init__(self) -> None:
        if self.values is not None and any(len(column) != len(self.frame) for column in self.values.values()):
            raise ValueError("the converted values are not the frame's rows")

    def __len__(self) -> int:
        return len(self.frame)

    def chunks(self, size: int | None = None) -> Iterator[tuple[int, pd.DataFrame]]:
        """(first position, rows) for consecutive slices of at most ``size`` (CHUNK_ROWS) rows."""
        size = size or CHUNK_ROWS
        if len(self.frame) <= size:  # a return's few rows: the frame itself, no slice built
            yield 0, self.frame
            return
        for start in range(0, len(self.frame), size):
            yield start, self.frame.iloc[start : start + size]

    def values_of(self, start: int, stop: int) -> dict[str, list[Any]] | None:
        """SHARED_COLUMNS of rows ``start:stop`` when converted already, else None."""
        if self.values is None:
            return None
        return {name: column[start:stop] for name, column in self.values.items()}


def rows_from_frame(frame: pd.DataFrame, values: Mapping[str, list[Any]] | None = None) -> Rows:
    """Rows from validate_return's accepted frame: the frame itself, not copied or exploded into objects;
    with ``values``, its SHARED_COLUMNS converted already (`Converted.values`)."""
    return Rows(frame, values)


# -- versions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Keys:
    """The batch's hub-day keys: each row's hub (index into ``hubs``) and day (days since 1970-01-01)."""

    hubs: list[str]
    hub: np.ndarray  # int64, per row
    day: np.ndarray  # int64, per row

    @classmethod
    def of(cls, rows: Rows) -> _Keys:
        import numpy as np

        if rows.values is not None:  # converted already: the same codes and days, as Python values
            hubs, hub = _encoded_python(rows.values["hub_code"], "hub_code")
            day = np.array(rows.values["activity_date"], dtype="datetime64[D]").astype(np.int64)
            return cls(hubs, hub, day)
        hubs, hub = _encoded_arrow(_codes(rows.frame["hub_code"]), "hub_code")
        day = _days(rows.frame["activity_date"]).astype(np.int64)
        return cls(hubs, hub, day)


def _encoded_arrow(codes: pa.Array, name: str) -> tuple[list[str], np.ndarray]:
    """Codes (as stored) as (distinct codes in order of first appearance, each row's index into them)."""
    import numpy as np
    import pyarrow.compute as pc

    if codes.null_count:
        raise ValueError(f"{name} is missing on a row")
    encoded = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(codes))
    index = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return [str(code) for code in encoded.dictionary.to_pylist()], index


def _encoded_python(codes: Sequence[str | None], name: str) -> tuple[list[str], np.ndarray]:
    """`_encoded_arrow` of codes already converted to Python values: the same answer."""
    import numpy as np

    position: dict[str, int] = {}
    index = []
    for code in codes:
        if code is None:
            raise ValueError(f"{name} is missing on a row")
        index.append(position.setdefault(code, len(position)))
    return list(position), np.array(index, dtype=np.int64)


def _localities(rows: Rows) -> tuple[list[str], np.ndarray]:
    """Each row's sub_icb_code (as stored), encoded as `_encoded_arrow`."""
    if rows.values is not None:
        return _encoded_python(rows.values["sub_icb_code"], "sub_icb_code")
    return _encoded_arrow(_codes(rows.frame["sub_icb_code"]), "sub_icb_code")


@dataclass(frozen=True)
class _Versioned:
    """Rows ready to write: their own columns and the version columns decided for them."""

    rows: Rows
    submission_id: int
    received_at: datetime
    arrival_seq: int
    version: np.ndarray  # int64, per row
    is_current: np.ndarray  # bool, per row


def _newest_versions(connection: Connection, keys: _Keys) -> dict[str, np.ndarray]:
    """For the hub-days of the batch's hubs and date range: key (as in ``_number``), newest version, max version.

    Columns of NumPy arrays (a return has a few rows: a DataFrame would cost more than the numbering).
    """
    import numpy as np
    import pandas as pd

    query = statement_in("load/select_newest_versions.sql", ("hub_codes",), "received_at", "activity_date")
    first, last = (np.datetime64(int(d), "D").item() for d in (keys.day.min(), keys.day.max()))
    result = connection.execute(
        query, {"hub_codes": sorted(keys.hubs), "first_day": first, "last_day": last}
    ).all()
    hub_position = {code: position for position, code in enumerate(keys.hubs)}
    return {
        "hub": np.array([hub_position[r.hub_code] for r in result], dtype=np.int64),
        "day": np.array([r.activity_date for r in result], dtype="datetime64[D]").astype(np.int64),
        "version_id": np.array([int(r.version_id) for r in result], dtype=np.int64),
        "received_at": pd.to_datetime([r.received_at for r in result], utc=True).as_unit("ns").asi8,
        "arrival_seq": np.array([int(r.arrival_seq) for r in result], dtype=np.int64),
        "max_version": np.array([int(r.max_version) for r in result], dtype=np.int64),
    }


def _number(
    keys: _Keys, newest: Mapping[str, Any], received_at: datetime, arrival_seq: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Version numbers and is_current per row, and the version ids of the held versions displaced.

    Each occurrence of a hub-day in the batch takes the next number after the highest so far (a file
    normally holds a hub-day once: R08); only the last occurrence can be current, and only when this
    receipt (received_at, arrival_seq) is newer than the newest version held.
    """
    import numpy as np
    import pandas as pd

    count = len(keys.hub)
    first_day = int(keys.day.min())
    span = int(keys.day.max()) - first_day + 1
    key = keys.hub * span + (keys.day - first_day)

    # Occurrence of each row within its key (0, 1, …, in file order) and whether it is the last one.
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.empty(count, dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    positions = np.arange(count)
    occurrence = np.empty(count, dtype=np.int64)
    occurrence[order] = positions - np.maximum.accumulate(np.where(starts, positions, 0))
    last = np.empty(count, dtype=bool)
    last[order] = np.append(starts[1:], True)
    del ordered, starts, positions

    # The newest version held for each row's key (-1: none), and whether this receipt is newer.
    held_count = len(newest["version_id"])
    held_key = np.asarray(newest["hub"]) * span + (np.asarray(newest["day"]) - first_day)
    found = pd.Index(held_key).get_indexer(pd.Index(key))
    held = found >= 0
    stamp = pd.Timestamp(received_at).as_unit("ns").value  # since the epoch, UTC
    held_stamp, held_seq = np.asarray(newest["received_at"]), np.asarray(newest["arrival_seq"])
    newer = (stamp > held_stamp) | ((stamp == held_stamp) & (arrival_seq > held_seq))
    if held_count:
        at = np.maximum(found, 0)  # any valid position where nothing is held: masked out below
        version = np.where(held, np.asarray(newest["max_version"])[at], 0) + occurrence + 1
        current = last & np.where(held, newer[at], True)
    else:
        version, current = occurrence + 1, last
    displaced = (
        np.asarray(newest["version_id"])[found[current & held]] if held_count else np.empty(0, np.int64)
    )
    return version, current, displaced


def _reserve_ids(connection: Connection, count: int) -> int:
    """PostgreSQL: the first of ``count`` consecutive version ids taken from the table's sequence at once.

    Sent with the rows, so the server does not call ``nextval`` once per row (~0.4 s of a million-row
    COPY). Safe because every loader holds the advisory lock while it does this; nothing else inserts
    versions (an insert elsewhere that took an id from the block meanwhile would fail on the primary
    key, never store a duplicate). Ids not used (a load rolled back) are skipped, as with ``nextval``.
    """
    sequence = "pg_get_serial_sequence('hub_day_version', 'version_id')"
    first = int(connection.execute(text(f"select nextval({sequence})")).scalar_one())
    if count > 1:
        connection.execute(text(f"select setval({sequence}, :last)"), {"last": first + count - 1})
    return first


def _csv_chunks(versioned: _Versioned, first_id: int) -> Iterator[pa.Buffer]:
    """The rows as COPY csv text (COPY_COLUMNS, ids from ``first_id``), a chunk of Arrow-written CSV at a time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    received_at = pa.scalar(versioned.received_at.isoformat())
    submission_id = pa.scalar(versioned.submission_id, pa.int64())
    arrival_seq = pa.scalar(versioned.arrival_seq, pa.int64())
    options = pacsv.WriteOptions(include_header=False)
    for start, part in versioned.rows.chunks():
        size = len(part)
        table = pa.table(
            {
                "version_id": pa.array(np.arange(first_id + start, first_id + start + size, dtype=np.int64)),
                "submission_id": pa.repeat(submission_id, size),
                "version": pa.array(versioned.version[start : start + size]),
                "is_current": pa.array(versioned.is_current[start : start + size]),
                "received_at": pa.repeat(received_at, size),
                "arrival_seq": pa.repeat(arrival_seq, size),
                **_arrow_columns(part),
                "warnings": _rules_json(part),
            }
        ).select(list(COPY_COLUMNS))
        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink, options)
        yield sink.getvalue()


def _copy_versions(connection: Connection, versioned: _Versioned) -> None:
    """PostgreSQL: one COPY (FORMAT csv) with reserved ids; each chunk is prepared on a second thread
    while the one before is sent."""
    from concurrent.futures import ThreadPoolExecutor

    driver_connection = connection.connection.driver_connection
    names = ", ".join(COPY_COLUMNS)
    chunks = _csv_chunks(versioned, _reserve_ids(connection, len(versioned.rows)))
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="surgehub-copy") as pool,
        driver_connection.cursor() as cursor,  # type: ignore[union-attr]
        cursor.copy(f"copy hub_day_version ({names}) from stdin (format csv)") as copy,
    ):
        # one chunk ahead at most: the generator is only ever advanced by one call at a time
        ahead = pool.submit(next, chunks, None)
        while (data := ahead.result()) is not None:
            ahead = pool.submit(next, chunks, None)
            copy.write(memoryview(data))


def _insert_versions(connection: Connection, versioned: _Versioned) -> None:
    """SQLite (and any other backend): executemany of plain Python values, a chunk at a time."""
    for start, part in versioned.rows.chunks():
        size = len(part)
        columns: dict[str, list[Any]] = {
            "submission_id": [versioned.submission_id] * size,
            "version": versioned.version[start : start + size].tolist(),
            "is_current": versioned.is_current[start : start + size].tolist(),
            "received_at": [versioned.received_at] * size,
            "arrival_seq": [versioned.arrival_seq] * size,
            **_python_columns(part, versioned.rows.values_of(start, start + size)),
        }
        connection.execute(
            insert(tables.hub_day_version),
            [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)],
        )


def load_versions(
    connection: Connection,
    *,
    submission_id: int,
    received_at: datetime,
    arrival_seq: int,
    rows: Rows,
) -> int:
    """Add ``rows`` as new versions of their hub-days, current where newest; returns rows loaded."""
    batch = rows
    count = len(batch)
    if count == 0:
        return 0
    if received_at.tzinfo is None:
        raise ValueError("received_at must be an aware datetime")
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": VERSION_LOCK_KEY})
    keys = _Keys.of(batch)
    references.check(connection, submission_id, keys.hubs, keys.hub, *_localities(batch))
    newest = _newest_versions(connection, keys)
    version, current, displaced = _number(keys, newest, received_at, arrival_seq)
    del keys, newest
    versioned = _Versioned(batch, submission_id, received_at, arrival_seq, version, current)
    if postgresql:
        _copy_versions(connection, versioned)
    else:
        _insert_versions(connection, versioned)
    _clear_displaced(connection, displaced.tolist())
    return count


def _clear_displaced(connection: Connection, version_ids: list[int]) -> None:
    """The held versions this load displaced are no longer current: by primary key, DISPLACED_CHUNK at a time.

    They are the newest versions held for their hub-days (``_newest_versions``), which are the current
    ones: one current version per hub-day, the newest by receipt, is what every load keeps true.
    """
    query = statement_in("load/update_displaced_versions.sql", ("version_ids",))
    for start in range(0, len(version_ids), DISPLACED_CHUNK):
        connection.execute(query, {"version_ids": version_ids[start : start + DISPLACED_CHUNK]})
