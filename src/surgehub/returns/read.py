"""Reading a return's bytes into a table of trimmed strings (spec §1); the file rules are in rules/file.py.

The format is told from the content, never from the file name: a ZIP holding ``xl/workbook.xml`` is
an XLSX workbook, anything else must be comma-separated text in UTF-8 (with or without a BOM) or,
failing that, Windows-1252 as Excel saves it. Bytes that cannot be decoded or parsed are F01, raised
here as `Unreadable` with what was found; the header and the row count are judged by rules/file.py.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from surgehub import spec
from surgehub.returns import bounds
from surgehub.returns.rules.file import (
    EMPTY_FILE,
    HOW_TO_SAVE,
    Format,
    Unreadable,
    check_workbook,
    count_findings,
    file_error,
    file_format,
    judge_header,
    separator_problem,
    size_problem,
)

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from surgehub.returns.findings import Finding
    from surgehub.returns.guard import GuardFailure, ParseGuard
    from surgehub.returns.rows import RowContext


@dataclass(frozen=True, kw_only=True)
class RawReturn:
    """A return as read: one row per non-empty data row, every spec column as trimmed text.

    ``errors`` holds every file-rule failure (F01–F06). ``table`` has the spec's columns (in spec
    order, values ``str``, blanks ``""``; a ``missing`` column is all blanks, and the rules that need
    it are not checked) plus ``row_number`` (spec §3: the N-th row under the header, empty rows
    counted). It is None when the row rules cannot run (F01, F04, F05, F06,
    or "not a surge-hub return"). ``patient`` holds R16 in any cell of the file (header, unknown
    columns and all), judged whenever the file could be read into cells; ``context`` says where each
    data row is and how it names itself.
    """

    format: Format | None
    rows: int
    errors: list[Finding] = field(default_factory=list)
    table: pd.DataFrame | None = None
    missing: tuple[str, ...] = ()
    patient: list[Finding] = field(default_factory=list)
    context: RowContext | None = None


def _cell_text(value: Any) -> str:
    """An XLSX cell's value as the text a CSV would have held (spec §1: cells read as the values held)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        # Excel keeps 15 significant digits; 7.1000000000000005 from a formula is the 7.1 it shows.
        return format(value, ".15g")
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        # A time of day in a date cell is R01; keep it visible so the message can say so.
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    return str(value).strip()


def _decode(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (a BOM dropped), else Windows-1252, else F01; a lone quote mark is F01."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            bad = data[exc.start]
            raise Unreadable(
                f"this file is neither UTF-8 nor Windows-1252 text (byte 0x{bad:02X} at position "
                f"{exc.start + 1} has no meaning in either); {HOW_TO_SAVE}"
            ) from None
    if text.count('"') % 2:
        # Properly quoted text always holds quote marks in pairs; an odd one swallows the rest of the
        # file into a single cell, and the errors that would follow would only mislead.
        line = _record_start_of_last(text)
        raise Unreadable(
            f'a quote mark (") on line {line} of the file is opened but never closed, so the rest of '
            "the file cannot be read; remove the stray quote mark or close it"
        )
    return text


def _record_start_of_last(text: str) -> int:
    """The line on which the file's last CSV record starts (where an unclosed quote opened)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    last_start = 1
    try:
        while True:
            start = reader.line_num + 1
            next(reader)
            last_start = start
    except (StopIteration, csv.Error):
        return last_start


def _csv_rows(text: str) -> tuple[list[list[str]], list[int]]:
    """Rows of trimmed cells, with Python's csv module: the careful path for ragged or unusual text.

    Also the line on which each record starts (its spreadsheet row: quoted line breaks counted).
    """
    # A cell may be as long as the file (all but blanks once trimmed); the module's default is 128 KiB.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for record in reader:
            rows.append([cell.strip() for cell in record])
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise Unreadable(f"this CSV text cannot be read ({exc}); {HOW_TO_SAVE}") from None
    return rows, lines


def _csv_arrow_columns(text: str) -> list[Any] | None:
    """The CSV's columns (all text) read by pyarrow, ~30× faster than csv; None when it cannot be used.

    Only for rectangular text whose first record has the width of every other: anything else
    (ragged rows, a leading empty line) goes to the csv module, which reads it the same way.
    """
    try:
        first = next(csv.reader(io.StringIO(text[:65536], newline="")), [])
    except csv.Error:
        return None
    width = len(first)
    if width < 2:
        return None
    import pyarrow as pa
    import pyarrow.csv as pacsv

    encoded = text.encode("utf-8")
    try:
        table = pacsv.read_csv(
            io.BytesIO(encoded),
            # Blocks bigger than any one record: a record may not straddle two blocks. A small file is
            # one block of its own size (a 16 MiB block for each of many small returns costs time).
            read_options=pacsv.ReadOptions(
                autogenerate_column_names=True,
                block_size=max(min(len(encoded) + 1, 1 << 24), len(encoded) // 4),
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.large_string() for i in range(width)},  # pandas "str" storage
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if table.num_columns != width:
        return None
    return list(table.columns)


def _xlsx_rows(data: bytes, row_cap: int) -> list[list[str]]:
    """Rows of the sheet named Return (else the first), stopping once ``row_cap`` non-empty rows are read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise Unreadable(f"this looks like a damaged ZIP or Excel file; {HOW_TO_SAVE}") from None
    check_workbook(names)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken workbook; all mean "cannot read"
        raise Unreadable(f"this Excel workbook cannot be opened (it may be damaged); {HOW_TO_SAVE}") from None
    try:
        sheet = next(
            (ws for ws in workbook.worksheets if ws.title.strip().lower() == "return"),
            workbook.worksheets[0] if workbook.worksheets else None,
        )
        if sheet is None:
            raise Unreadable(f"this Excel workbook has no worksheet; {HOW_TO_SAVE}")
        # Some tools write a wrong <dimension> (e.g. "A1"); read-only openpyxl trusts it unless reset.
        sheet.reset_dimensions()
        rows: list[list[str]] = []
        non_empty = 0
        for values in sheet.iter_rows(values_only=True):
            row = [_cell_text(v) for v in values]
            rows.append(row)
            if any(row):
                non_empty += 1
                if non_empty >= row_cap:
                    break
        return rows
    except Unreadable:
        raise
    except Exception:
        raise Unreadable(f"this Excel workbook cannot be read (it may be damaged); {HOW_TO_SAVE}") from None
    finally:
        workbook.close()


def read_return(
    data: bytes,
    *,
    max_file_bytes: int = spec.MAX_FILE_BYTES,
    max_data_rows: int = spec.MAX_DATA_ROWS,
) -> RawReturn:
    """Read a return's bytes, checking F01–F06; every file-rule failure is listed, not just the first.

    The parse runs under the last guard (`surgehub.returns.guard`): a child process with a memory and
    a time limit, so no file, however it is built, can take down the process that asked.
    """
    if (too_big := size_problem(len(data), max_file_bytes)) is not None:
        return RawReturn(format=None, rows=0, errors=[too_big])
    if not data.strip(b" \t\r\n"):
        return RawReturn(format=None, rows=0, errors=[file_error("F05", EMPTY_FILE)])
    from surgehub.returns.guard import guard

    return read_guarded(guard(), data, max_file_bytes=max_file_bytes, max_data_rows=max_data_rows)


def read_returns(
    datas: list[bytes],
    *,
    max_file_bytes: int = spec.MAX_FILE_BYTES,
    max_data_rows: int = spec.MAX_DATA_ROWS,
) -> list[RawReturn]:
    """`read_return` for many files, in order: the files the guard must parse go to its child in one
    request (`guard.ParseGuard.read_many`); each is still read, limited and judged on its own."""
    from surgehub.returns.guard import GuardFailure, guard

    out: list[RawReturn | None] = [_before_parse(data, max_file_bytes) for data in datas]
    parse = [i for i, known in enumerate(out) if known is None]
    if parse:
        answers = guard().read_many([datas[i] for i in parse], max_file_bytes, max_data_rows)
        for i, answer in zip(parse, answers, strict=True):
            out[i] = _failed_read(answer) if isinstance(answer, GuardFailure) else answer
    return [raw for raw in out if raw is not None]


def _before_parse(data: bytes, max_file_bytes: int) -> RawReturn | None:
    """What a file is without parsing it (too large, empty), else None."""
    if (too_big := size_problem(len(data), max_file_bytes)) is not None:
        return RawReturn(format=None, rows=0, errors=[too_big])
    if not data.strip(b" \t\r\n"):
        return RawReturn(format=None, rows=0, errors=[file_error("F05", EMPTY_FILE)])
    return None


def _failed_read(failure: GuardFailure) -> RawReturn:
    log.warning("a return could not be read within the parse limits (%s)", failure.reason)
    return RawReturn(format=None, rows=0, errors=[file_error("F01", _guard_words(failure.reason))])


def read_guarded(found: ParseGuard, data: bytes, *, max_file_bytes: int, max_data_rows: int) -> RawReturn:
    """``data`` read by ``found``'s child process; F01 when the child fails, dies or runs out of time.

    `guard.GuardUnavailable` (the child cannot start) is raised: it is not the file's doing.
    """
    from surgehub.returns.guard import GuardFailure

    try:
        return found.read(data, max_file_bytes, max_data_rows)
    except GuardFailure as failure:
        return _failed_read(failure)


def _guard_words(reason: str) -> str:
    if reason == "timeout":
        return f"this file takes too long to read, as no return does (it may be damaged); {HOW_TO_SAVE}"
    if reason in ("memory", "died"):
        return f"this file needs far more memory to read than any return (it may be damaged); {HOW_TO_SAVE}"
    return f"this file could not be read (it may be damaged); {HOW_TO_SAVE}"


def read_unguarded(data: bytes, *, max_file_bytes: int, max_data_rows: int) -> RawReturn:
    """`read_return` in this process: the bounded pre-scan (`returns/bounds.py`), then the full parse.

    Only for the guard's child process (and benchmarks comparing with it).
    """
    if (too_big := size_problem(len(data), max_file_bytes)) is not None:
        return RawReturn(format=None, rows=0, errors=[too_big])
    if not data.strip(b" \t\r\n"):
        return RawReturn(format=None, rows=0, errors=[file_error("F05", EMPTY_FILE)])
    try:
        fmt = file_format(data)
        if (problem := _bounds_problem(fmt, data, max_data_rows)) is not None:
            return RawReturn(format=fmt, rows=0, errors=[problem])
        if fmt == "xlsx":
            rows = _xlsx_rows(data, max_data_rows + 2)  # header + one past
            # openpyxl yields every row from the sheet's row 1 (blank ones too): row i is sheet row i + 1.
            return _shape(fmt, rows, list(range(1, len(rows) + 1)), max_data_rows)
        text = _decode(data)
        if (width := bounds.header_width(text)) > bounds.MAX_COLUMNS:
            return RawReturn(format=fmt, rows=0, errors=[bounds.too_wide(width)])
        columns = _csv_arrow_columns(text)
        if columns is not None:
            return _shape_arrow(text, columns, max_data_rows)
        rows, lines = _csv_rows(text)
        if (width := max(map(len, rows), default=0)) > bounds.MAX_COLUMNS:
            return RawReturn(format=fmt, rows=0, errors=[bounds.too_wide(width)])
        return _shape(fmt, rows, lines, max_data_rows)
    except Unreadable as exc:
        return RawReturn(format=None, rows=0, errors=[file_error("F01", str(exc))])


def _bounds_problem(fmt: Format, data: bytes, max_data_rows: int) -> Finding | None:
    """The pre-scan's finding, if the file would cost more to parse than any return could."""
    if fmt == "xlsx":
        return bounds.xlsx_problem(data, max_data_rows)
    return bounds.csv_problem(data, max_data_rows)


def _shape(fmt: Format, rows: list[list[str]], lines: list[int], max_data_rows: int) -> RawReturn:
    """Find the header in rows of cells, check F02–F06, R16 on every cell, and build the table.

    ``lines``: each row's spreadsheet row (CSV: the line its record starts on; XLSX: the sheet's row).
    """
    import numpy as np
    import pandas as pd

    from surgehub.returns.rows import RowContext
    from surgehub.returns.rules.patients import Grid, cell_findings, list_hits, spec_names

    header_at = next((i for i, row in enumerate(rows) if any(row)), None)
    if header_at is None:
        return RawReturn(format=fmt, rows=0, errors=[file_error("F05", EMPTY_FILE)])
    records = rows[header_at:]
    body = records[1:]
    width = max(len(r) for r in records)
    header = rows[header_at] + [""] * (width - len(rows[header_at]))
    grid = Grid(
        header=header,
        names=spec_names(header),
        rows=np.arange(len(records), dtype=np.int64),
        lines=np.asarray(lines[header_at:], dtype=np.int64),
    )
    patient = cell_findings(grid, list_hits(records))
    if fmt == "csv" and (problem := separator_problem(header)) is not None:
        return RawReturn(format=fmt, rows=0, errors=[problem], patient=patient)
    numbered = [(n, r) for n, r in enumerate(body, start=1) if any(r)]

    def has_values(index: int) -> bool:
        return any(index < len(r) and r[index] for r in body)

    head = judge_header(header, has_values)

    def cells(name: str) -> list[str] | None:
        pos = head.positions.get(name)
        return None if pos is None else [r[pos] if pos < len(r) else "" for _, r in numbered]

    numbers = [n for n, _ in numbered]
    sheet_rows = [lines[header_at + n] for n in numbers]
    context = RowContext.of_lists(numbers, sheet_rows, cells("hub_code"), cells("activity_date"))
    errors = head.errors if head.foreign else head.errors + count_findings(fmt, len(numbered), max_data_rows)
    read = RawReturn(
        format=fmt, rows=len(numbered), errors=errors, missing=head.missing, patient=patient, context=context
    )
    if head.foreign or head.stops_rows or any(f.rule in ("F05", "F06") for f in errors):
        return read
    blank = [""] * len(numbered)
    table = pd.DataFrame({name: cells(name) or blank for name in spec.COLUMN_NAMES}, dtype=object)
    table.insert(0, "row_number", numbers)
    return replace(read, table=table)


def _record_lines(text: str, columns: list[Any]) -> Any:
    """The line each CSV record starts on (1-based), counting the line breaks inside quoted values."""
    import numpy as np
    import pyarrow.compute as pc

    size = len(columns[0])
    lines = text.count("\n") + text.count("\r") - text.count("\r\n") + (not text.endswith(("\n", "\r")))
    if lines <= size:  # one line a record: no quoted value spans lines
        return np.arange(1, size + 1, dtype=np.int64)
    inside = np.zeros(size, dtype=np.int64)
    for column in columns:
        if pc.any(pc.match_substring_regex(column, "[\r\n]")).as_py():
            inside += pc.count_substring_regex(column, "\r\n|\r|\n").to_numpy(zero_copy_only=False)
    return np.arange(1, size + 1, dtype=np.int64) + np.concatenate([[0], np.cumsum(inside)[:-1]])


def _shape_arrow(text: str, columns: list[Any], max_data_rows: int) -> RawReturn:
    """As _shape, on the Arrow columns of a CSV read by pyarrow: no Python work per row."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from surgehub.returns.rows import RowContext
    from surgehub.returns.rules.patients import Grid, arrow_hits, cell_findings, spec_names

    cells = [pc.utf8_trim_whitespace(c).combine_chunks() for c in columns]
    empty = pa.scalar("", pa.large_string())
    filled = pc.not_equal(cells[0], empty)
    for c in cells[1:]:
        filled = pc.or_(filled, pc.not_equal(c, empty))
    non_empty = filled.to_numpy(zero_copy_only=False)
    found = np.flatnonzero(non_empty)
    if not len(found):
        return RawReturn(format="csv", rows=0, errors=[file_error("F05", EMPTY_FILE)])
    header_at = int(found[0])
    header = [c[header_at].as_py() for c in cells]
    lines = _record_lines(text, columns)[header_at:]
    records = [c.slice(header_at) for c in cells]
    grid = Grid(
        header=header,
        names=spec_names(header),
        rows=np.arange(len(records[0]), dtype=np.int64),
        lines=lines,
    )
    patient = cell_findings(grid, arrow_hits(records))
    if (problem := separator_problem(header)) is not None:
        return RawReturn(format="csv", rows=0, errors=[problem], patient=patient)
    body = [c.slice(1) for c in records]
    keep = non_empty[header_at + 1 :]
    numbers = np.flatnonzero(keep) + 1
    mask = pa.array(keep)

    def has_values(index: int) -> bool:
        return bool(pc.any(pc.not_equal(body[index], empty)).as_py())

    head = judge_header(header, has_values)

    def kept(name: str) -> Callable[[int], object] | None:
        pos = head.positions.get(name)
        return None if pos is None else body[pos].filter(mask).__getitem__

    context = RowContext(
        row_number=numbers.astype(np.int64),
        spreadsheet_row=lines[numbers],
        hub_code=kept("hub_code"),
        activity_date=kept("activity_date"),
    )
    errors = head.errors if head.foreign else head.errors + count_findings("csv", len(numbers), max_data_rows)
    read = RawReturn(
        format="csv", rows=len(numbers), errors=errors, missing=head.missing, patient=patient, context=context
    )
    if head.foreign or head.stops_rows or any(f.rule in ("F05", "F06") for f in errors):
        return read
    blank = pa.array([""] * len(numbers), type=pa.large_string())
    # One conversion for the whole table (pandas "str" columns), cheaper than one per column.
    table = pa.table(
        {
            "row_number": pa.array(numbers, type=pa.int64()),
            **{
                name: body[head.positions[name]].filter(mask) if name in head.positions else blank
                for name in spec.COLUMN_NAMES
            },
        }
    ).to_pandas()
    return replace(read, table=table)
