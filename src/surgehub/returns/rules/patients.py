"""R16 (spec 2026.2): no cell of the file, whatever its column, and not the file's name, holds an NHS number.

Every cell is scanned as the file is read (`returns/read.py`): the header row, columns outside the
specification, values beyond the header and numeric columns included, so R16 is judged whatever else
the file fails (docs/decisions/0052). What a run of digits is, and which runs are NHS numbers, is
`surgehub.identifiers` (one definition for validation and every mask).

Fast: a vectorised pre-filter (NumPy over the Arrow buffers: each cell's count of bytes that can be
part of a digit, ASCII digits or anything outside ASCII) lets only cells with at least 10 possible
digits reach the scan in Python; a return's numbers, codes and dates never do. R16 never enters GX, and its
finding never holds the number: it names the cell (row, spreadsheet row, column) and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from surgehub import identifiers, spec
from surgehub.returns.findings import Finding, column_letter, shown

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from surgehub.returns.rules.checks import IntArray

#: Cells scanned per vectorised call: many short columns are joined, a long one goes alone.
_CHUNK_CELLS = 1 << 16

_NEVER = "never put patient identifiers in a return"


@dataclass(frozen=True, kw_only=True)
class Grid:
    """Where the cells of a file sit: what each column is, and each row's number and spreadsheet row.

    A cell is found by (column j, position p). ``header`` is each column's header cell as written
    (trimmed; "" where empty, and for a table of spec columns, their names); ``names`` the spec column
    it is, or None. ``rows[p]`` is the data row number of position p (spec §3), 0 for the header row;
    ``lines[p]`` its spreadsheet row (None: not known).
    """

    header: Sequence[str]
    names: Sequence[str | None]
    rows: IntArray
    lines: IntArray | None


def maybe_numbers(cells: pa.LargeStringArray) -> IntArray:
    """Positions of the cells that may hold an NHS number: at least 10 bytes that can be part of a digit.

    Read straight from the Arrow buffers with NumPy (no regex, no Python per cell): cells shorter than
    10 bytes are dropped first; the others' digit-like bytes are counted. A non-ASCII character counts
    once per byte, so the count never falls short of the digits a cell can hold after NFKC.
    """
    if len(cells) == 0:
        return np.zeros(0, dtype=np.int64)
    _validity, offsets_buffer, data_buffer = cells.buffers()
    if offsets_buffer is None:
        return np.zeros(0, dtype=np.int64)
    offsets: IntArray = _view(offsets_buffer).view(np.int64)[cells.offset : cells.offset + len(cells) + 1]
    long = np.flatnonzero(np.diff(offsets) >= identifiers.NHS_NUMBER_DIGITS).astype(np.int64)
    if data_buffer is None or not len(long):
        return long
    data = _view(data_buffer)[offsets[0] : offsets[-1]]
    # A byte is digit-like when it is non-ASCII (negative as int8) or "0"-"9" (uint8 wraps below "0").
    digit_like = (data.view(np.int8) < 0) | ((data - np.uint8(48)) < 10)
    if np.count_nonzero(digit_like) < identifiers.NHS_NUMBER_DIGITS:  # e.g. a column of roles or statuses
        return np.zeros(0, dtype=np.int64)
    running = np.zeros(len(data) + 1, dtype=np.int32)  # digit-like bytes before each position
    np.cumsum(digit_like, dtype=np.int32, out=running[1:])
    counts = running[offsets[long + 1] - offsets[0]] - running[offsets[long] - offsets[0]]
    return long[counts >= identifiers.NHS_NUMBER_DIGITS]


def _view(buffer: pa.Buffer) -> npt.NDArray[np.uint8]:
    """An Arrow buffer's bytes, not copied (pyarrow-stubs do not declare its buffer protocol; it has one)."""
    found: Any = np.frombuffer(buffer, dtype=np.uint8)  # pyright: ignore[reportCallIssue, reportArgumentType, reportUnknownVariableType]
    return cast("npt.NDArray[np.uint8]", found)


def holding_numbers(cells: pa.LargeStringArray) -> IntArray:
    """Positions of the cells that hold an NHS number (R16)."""
    positions = maybe_numbers(cells)
    if not len(positions):
        return positions
    texts = cells.take(positions).to_pylist()
    found = [text is not None and identifiers.contains_nhs_number(text) for text in texts]
    return positions[np.array(found, dtype=bool)]


def arrow_hits(columns: Sequence[pa.Array[Any]]) -> list[tuple[int, int]]:
    """(column, position) of every cell holding an NHS number; narrow columns are scanned together."""
    hits: list[tuple[int, int]] = []
    group: list[int] = []
    size = 0

    def scan() -> None:
        if not group:
            return
        texts = [columns[j].cast(pa.large_string()) for j in group]
        joined = cast("pa.LargeStringArray", texts[0] if len(texts) == 1 else pa.concat_arrays(texts))
        starts = np.cumsum([0, *(len(columns[j]) for j in group)])
        found: list[int] = holding_numbers(joined).tolist()
        for position in found:
            k = int(np.searchsorted(starts, position, side="right")) - 1
            hits.append((group[k], position - int(starts[k])))

    for j, column in enumerate(columns):
        group.append(j)
        size += len(column)
        if size >= _CHUNK_CELLS:
            scan()
            group, size = [], 0
    scan()
    return hits


def list_hits(records: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """(column, position) of every cell holding an NHS number, for rows already held as Python lists."""
    return [
        (j, p)
        for p, record in enumerate(records)
        for j, cell in enumerate(record)
        if len(cell) >= identifiers.NHS_NUMBER_DIGITS and identifiers.contains_nhs_number(cell)
    ]


def cell_findings(grid: Grid, hits: list[tuple[int, int]]) -> list[Finding]:
    """One R16 finding per cell holding an NHS number (``hits``: column, position), in row order."""
    out: list[Finding] = []
    for j, position in sorted(hits, key=lambda hit: (hit[1], hit[0])):
        row = int(grid.rows[position])
        out.append(
            Finding(
                rule="R16",
                row=row or None,
                column=_column(grid, j),
                message=_message(grid, j, header=row == 0),
                spreadsheet_row=None if grid.lines is None else int(grid.lines[position]),
            )
        )
    return out


def name_finding(file_name: str | None, *, refused: bool = False) -> Finding | None:
    """R16 on the file's own name (column ``file``); None when the name holds no NHS number.

    ``refused``: a channel already found one in the name as sent and keeps only its masked form.
    """
    if not refused and not (file_name and identifiers.contains_nhs_number(file_name)):
        return None
    return Finding(
        rule="R16",
        row=None,
        column="file",
        message="the file's name appears to contain an NHS number: rename the file without it and send it "
        f"again ({_NEVER}, nor in a file name)",
    )


def _column(grid: Grid, j: int) -> str | None:
    """The column R16 names: the cell's own (the spec's name, else its header as written, masked)."""
    name = grid.names[j]
    if name is not None:
        return name
    return identifiers.mask(grid.header[j]) if grid.header[j] else None


def _message(grid: Grid, j: int, *, header: bool) -> str:
    letter = column_letter(j)
    name, label = grid.names[j], grid.header[j]
    if header:
        return (
            f"the header of column {letter} appears to contain an NHS number: remove it from the header "
            f"row and send the file again ({_NEVER})"
        )
    if name == "comments":
        return f"comments appear to contain an NHS number: remove it and send the file again ({_NEVER})"
    if name is not None:
        return f"{name} appears to contain an NHS number: remove it and send the file again ({_NEVER})"
    where = f"column {letter} ({shown(label, 60)})" if label else f"column {letter}, which has no header name"
    return (
        f"a cell in {where} appears to contain an NHS number: remove it, or delete the column, and send "
        f"the file again ({_NEVER})"
    )


def spec_names(header: Sequence[str]) -> list[str | None]:
    """Each header cell's spec column (matched case-insensitively after trimming), or None."""
    return [cell.lower() if cell.lower() in spec.COLUMN_BY_NAME else None for cell in header]


def table_findings(table: pd.DataFrame) -> list[Finding]:
    """R16 on a text table of spec columns (as read.py builds it): the way in when no file was read."""
    names = list(spec.COLUMN_NAMES)
    grid = Grid(
        header=names,
        names=names,
        rows=table["row_number"].to_numpy().astype(np.int64, copy=False),
        lines=None,
    )
    return cell_findings(grid, arrow_hits([_arrow_text(table[name]) for name in names]))


def _arrow_text(column: pd.Series) -> pa.Array[Any]:
    """A text column as Arrow (a pandas "str" column's own storage; an object column converted)."""
    if column.dtype == object:
        return pa.array(column.to_numpy(), type=pa.large_string(), from_pandas=True)
    # pyarrow-stubs cannot tell the array's type from a Series (they pick a BooleanArray overload).
    found: Any = pa.array(column)
    return cast("pa.Array[Any]", found.combine_chunks() if isinstance(found, pa.ChunkedArray) else found)
