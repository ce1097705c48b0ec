"""Cell rules R01 (type) and R02 (blank), and the wording of R03 (range) and R04 (allowed values).

Every spec column is typed here, vectorised (Arrow compute with RE2 patterns for numbers, pandas for
dates): a value that fails R01 or R02 is null in the typed table, so no later rule compares it
(spec §3, the skip rule). R03 and R04 are checked by the GX suite on the typed columns (rules/gx.py);
how their failures read is here, beside the columns' meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from surgehub import spec
from surgehub.returns.findings import Finding, number, shown
from surgehub.returns.rules.checks import (
    BoolArray,
    Check,
    DayArray,
    FloatArray,
    IntArray,
    Wording,
    findings_of,
)

if TYPE_CHECKING:
    from pandas.api.extensions import ExtensionArray

# ASCII digits only: Python's \d would also take other scripts' digits (e.g. fullwidth ９).
_INTEGER = r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
_DECIMAL = r"-?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{0,2})?|\.[0-9]{1,2})"
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_UK_DATE = r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$"
_DATE_WITH_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{1,2}:[0-9]{2}.*")


@dataclass(frozen=True, kw_only=True)
class Typed:
    """Typed columns (null where a value is unusable; ``row_number`` first) and the R01/R02 findings."""

    frame: pd.DataFrame
    findings: list[Finding]


def type_cells(table: pd.DataFrame) -> Typed:
    """Type every spec column of a text table (as read.py builds it), checking R01 and R02."""
    rows: IntArray = table["row_number"].to_numpy().astype(np.int64, copy=False)
    out: dict[str, npt.NDArray[Any] | ExtensionArray] = {"row_number": rows}
    checks: list[Check] = []
    for col in spec.COLUMNS:
        text = _as_arrow_text(table[col.name])
        blank = _blank(text)
        if col.required:
            checks.append(
                Check(rule="R02", column=col.name, failed=blank, message=partial(_blank_message, col))
            )
        if col.kind in ("integer", "decimal"):
            out[col.name], usable = _numbers(text, col)
            message = _integer_message if col.kind == "integer" else _decimal_message
        elif col.kind == "date":
            out[col.name], usable = _dates(text, table[col.name].index)
            message = _date_message
        else:
            out[col.name] = _text(
                text, blank, table[col.name].index, upper=col.kind in ("code", "hub", "status")
            )
            continue
        checks.append(
            Check(
                rule="R01",
                column=col.name,
                failed=~blank & ~usable,
                message=partial(message, col.name),
                quotes=(table[col.name],),
            )
        )
    # copy=False: the columns as typed, not copied into one 2-D block (that copy cost ~160 MB and ~0.5 s
    # on a million rows)
    return Typed(frame=pd.DataFrame(out, copy=False), findings=findings_of(checks, rows))


def _as_arrow_text(column: pd.Series) -> pa.StringArray:
    """The column as one Arrow text array: a pandas "str" column's own buffers when it has them (what
    read.py builds: no copy of a million cells), else converted."""
    if column.dtype == object:
        return pa.array(column.to_numpy(), type=pa.string(), from_pandas=True)  # ~2.5× pandas' astype
    held: Any = getattr(column.array, "_pa_array", None)  # pandas' ArrowStringArray: a ChunkedArray
    if isinstance(held, pa.ChunkedArray) and held.num_chunks == 1:
        only: Any = cast("Any", held).chunk(0)
        if only.type == pa.large_string():
            return only  # large_string: the same kernels apply
    return pa.array(column.astype("str"), type=pa.string(), from_pandas=True)


def _blank(text: pa.StringArray) -> BoolArray:
    # pyarrow-stubs type pc.equal's overloads with Scalar[Unknown]; for an array and a scalar it
    # returns a BooleanArray, which the next call uses.
    equal = pc.equal(text, pa.scalar("", pa.string()))  # pyright: ignore[reportUnknownMemberType]
    return equal.fill_null(True).to_numpy(zero_copy_only=False)


def _numbers(text: pa.StringArray, col: spec.Column) -> tuple[FloatArray, BoolArray]:
    """A number column as float64 (NaN where unusable) or, when every value is a usable whole number, int64;
    and where its value has the column's form."""
    pattern = _INTEGER if col.kind == "integer" else _DECIMAL
    # Plain ASCII digits have either form: a cheap byte test first, the pattern only when some value needs it.
    ok: Any = pc.ascii_is_decimal(text).fill_null(False)  # pyright: ignore[reportUnknownMemberType]
    if not pc.all(ok).as_py():  # pyright: ignore[reportUnknownMemberType]
        ok = pc.match_substring_regex(text, f"^(?:{pattern})$").fill_null(False)
    # The pattern has vetted every kept value, so a plain Arrow cast is safe (and far faster than
    # pd.to_numeric).
    usable = ok.to_numpy(zero_copy_only=False)
    # Copies of the text only where needed: most columns are wholly usable and have no thousands commas.
    blank_text: Any = pa.scalar(None, text.type)
    kept: Any = text if usable.all() else pc.if_else(ok, text, blank_text)
    if pc.any(pc.match_substring(kept, ",")).as_py():  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        kept = pc.replace_substring(kept, ",", "")
    values = kept.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if col.kind == "integer" and usable.all() and (not len(values) or np.abs(values).max() < 2**53):
        # Every value a whole number held exactly: int64 now, so the accepted rows (int64) share this
        # column instead of copying it (~8 MB a column a million rows). Values and comparisons are the
        # same either way; a column with any unusable value stays float64 (NaN marks it).
        return values.astype(np.int64), usable
    return values, usable


def _as_series(text: pa.StringArray, index: pd.Index) -> pd.Series:
    """Arrow text as a pandas "str" column, sharing its buffers (pandas-stubs do not list Arrow arrays
    among pd.array's inputs, though pandas takes them)."""
    return pd.Series(pd.array(text, dtype="str"), index=index)  # pyright: ignore[reportCallIssue, reportArgumentType, reportUnknownArgumentType]


def _dates(text: pa.StringArray, index: pd.Index) -> tuple[DayArray, BoolArray]:
    """A date column as datetime64[ns] (NaT where unusable), and where its value is a real date."""
    # pandas, not Arrow: Arrow's strptime rolls 2026-11-31 over to 1 December.
    s = _as_series(text, index)
    is_iso = s.str.fullmatch(_ISO_DATE).to_numpy(dtype=bool)
    uk = s[~is_iso].str.extract(_UK_DATE)  # usually no rows: extract is slow on Arrow strings
    uk_iso = uk[2] + "-" + uk[1].str.zfill(2) + "-" + uk[0].str.zfill(2)
    iso = s.where(is_iso)
    iso[~is_iso] = uk_iso
    parsed = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
    return parsed.to_numpy(dtype="datetime64[ns]"), parsed.notna().to_numpy()


def _text(text: pa.StringArray, blank: BoolArray, index: pd.Index, *, upper: bool) -> ExtensionArray:
    """A text column in Arrow (pandas "str"), a blank as missing; codes upper-cased.

    Not Python objects: a million short strings as objects would cost ~65 MB a column.
    """
    if upper and _may_change_case(text):
        # a copy only when some value could change (most files are upper-case ASCII)
        text = pc.utf8_upper(text)  # pyright: ignore[reportUnknownMemberType]
    return _as_series(_blank_as_missing(text, blank) if blank.any() else text, index).array


def _blank_as_missing(text: pa.StringArray | pa.ChunkedArray[Any], blank: BoolArray) -> pa.StringArray:
    """``text`` with every blank cell missing, sharing its characters: only a new validity bitmap (an
    eighth of a byte a cell). ``blank`` includes the cells already missing.

    ``where`` (or Arrow's ``if_else``) would copy every kept character: ~35 MB for a million rows of
    comments, most of them blank, held as long as the typed table."""
    if not isinstance(text, pa.Array) or text.offset:
        # chunks (a batch's returns stacked by pandas) or a slice (its bitmap would start mid-byte): a
        # copy of the kept text; one return as read.py builds it is one array
        return cast("pa.StringArray", pc.if_else(pa.array(~blank), text, pa.scalar(None, text.type)))  # pyright: ignore[reportUnknownMemberType]
    keep: Any = pa.array(~blank)  # a boolean array: bit-packed, as a validity bitmap is
    buffers: Any = text.buffers()
    return cast(
        "pa.StringArray",
        pa.Array.from_buffers(
            text.type, len(text), [keep.buffers()[1], *buffers[1:]], null_count=int(blank.sum())
        ),
    )


def _may_change_case(text: pa.StringArray) -> bool:
    """Whether upper-casing could change any value: a lower-case ASCII letter, or any non-ASCII character."""
    found: Any = pc.any(pc.match_substring_regex(text, "[a-z]|[^\\x00-\\x7f]"))  # pyright: ignore[reportUnknownMemberType]
    return bool(found.as_py())


def _blank_message(col: spec.Column) -> str:
    return f"{col.name} is blank: every row needs it; {_blank_fix(col)}"


def _blank_fix(col: spec.Column) -> str:
    if col.kind == "integer":
        return f"enter the number of {col.meaning} (0 if there were none)"
    if col.kind == "decimal":
        return f"enter the {col.meaning} (0 if there were none)"
    if col.kind == "date":
        return "enter the day of the activity as YYYY-MM-DD (e.g. 2026-11-24) or D/M/YYYY"
    if col.name == "hub_status":
        return "enter OPEN, CLOSED_PLANNED or CLOSED_UNPLANNED"
    return f"enter {col.meaning}"


def _integer_message(name: str, value: object) -> str:
    return (
        f"{name} {shown(value)} is not a whole number: write digits only, e.g. 12 or 1,234 "
        "(no decimal point, units or spaces)"
    )


def _decimal_message(name: str, value: object) -> str:
    return (
        f"{name} {shown(value)} is not a number with at most 2 decimal places: write it like 7.5 or "
        "7.25 (round to 2 places, no units)"
    )


def _date_message(name: str, value: object) -> str:
    if _DATE_WITH_TIME.fullmatch(str(value)):
        return (
            f"{name} {shown(value)} holds a time of day: the cell must hold a date only; "
            "format it as a date or type it as YYYY-MM-DD"
        )
    return (
        f"{name} {shown(value)} is not a valid date: write it as YYYY-MM-DD (e.g. 2026-11-24) "
        "or D/M/YYYY (e.g. 24/11/2026)"
    )


# -- R03 and R04: checked by the GX suite on the typed columns; how a failure reads ---------------


def range_wording(column: str) -> Wording:
    """R03 on ``column``: a number outside its range, or text of the wrong length."""
    return Wording(quotes=(column,), says=partial(_out_of_range, column))


def _not_allowed(status: str) -> str:
    return f"hub_status {shown(status)} is not an allowed value"


#: R04: hub_status not one of the allowed values.
STATUS_WORDING = Wording(quotes=("hub_status",), says=_not_allowed)


def _out_of_range(column: str, value: float | str) -> str:
    if column in spec.NUMERIC_COLUMNS:
        col = spec.COLUMN_BY_NAME[column]
        return f"{column} {number(float(value))} is outside {col.minimum:g}–{col.maximum:g}"
    length = len(str(value))
    if column == "comments":  # never quoted back: it may hold anything
        return f"comments are {length:,} characters long"
    return f"{column} {shown(value)} is {length:,} characters long"
