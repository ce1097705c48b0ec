"""The bounded pre-scan: what a return's bytes would cost to parse, judged before anything is allocated.

Run on every return before the full parse (`returns/read.py`), with little memory and no parser that
builds a table:

- **XLSX** (a ZIP): from the ZIP's central directory alone, before anything is inflated: the number
  of members, their total uncompressed size and each large member's compression ratio (Apache POI's
  zip-bomb rule: an entry inflating more than 100 times is refused). Then each worksheet is streamed
  through expat in small chunks, counting its physical rows (empty ``<row/>`` elements included), its
  cells and the rightmost column used, stopping at the first bound passed. A document type
  declaration (the door to entity expansion and external entities) is refused outright.
- **CSV**: the number of physical lines (empty ones included), counted on the bytes; the width of the
  header (the first non-empty record), read with the csv module up to that record only.

A file past a bound fails with one finding saying which bound and what to do: the number of rows
(F06: "too long", spec §3), the number of columns (F03, once), and anything else that makes a file
unreadable in practice (F01). The bounds are far above any real return (a return has 22 columns and
at most 500 data rows) and are recorded in docs/decisions/0048-parsing-bounds.md.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import IO, TYPE_CHECKING
from xml.parsers import expat

from surgehub.returns.rules.file import HOW_TO_SAVE, Unreadable, file_error

if TYPE_CHECKING:
    from surgehub.returns.findings import Finding

#: Columns: Excel 2003's sheet width (IV). A return has 22.
MAX_COLUMNS = 256
#: Physical rows or lines, empty ones included: at least this many, or 20 × the data-row limit.
MIN_PHYSICAL_ROWS = 10_000
#: Cells present in a worksheet (empty formatted ones included).
MAX_CELLS = 500_000
#: A workbook's members, and their total size once inflated.
MAX_MEMBERS = 1_000
MAX_UNCOMPRESSED = 32 * 1024 * 1024
#: An entry inflating more than this many times its stored size is refused (Apache POI's default) ...
MAX_RATIO = 100
#: ... once it is this large inflated (a tiny XML part may compress very well).
RATIO_GRACE = 1024 * 1024
_CHUNK = 64 * 1024


def max_physical_rows(max_data_rows: int) -> int:
    return max(MIN_PHYSICAL_ROWS, 20 * max_data_rows)


def too_long(limit: int, max_data_rows: int) -> Finding:
    """F06 for a file with more physical rows than any return needs (empty ones included)."""
    return file_error(
        "F06",
        f"the file has more than {limit:,} rows, empty rows included; a return has at most "
        f"{max_data_rows} data rows. Delete the empty rows below the data (or split the file) and send it again",
    )


def too_wide(columns: int | str) -> Finding:
    """F03 (once) for a file wider than any return (``columns``: a count, or the rightmost column's letters)."""
    what = f"column {columns}" if isinstance(columns, str) else f"{columns:,} columns"
    return file_error(
        "F03",
        f"the file reaches {what}, more than the {MAX_COLUMNS} columns a return could ever need (it has "
        "22); delete every column after comments and signed_off_by (or save only the Return sheet) "
        "and send it again",
    )


# -- CSV --------------------------------------------------------------------------------------------


def physical_lines(data: bytes) -> int:
    """Lines as a text editor counts them: LF, CRLF or a lone CR each end one."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + 1


def csv_problem(data: bytes, max_data_rows: int) -> Finding | None:
    """F06 for too many physical lines (judged on the bytes, before decoding)."""
    limit = max_physical_rows(max_data_rows)
    if physical_lines(data) > limit:
        return too_long(limit, max_data_rows)
    return None


def header_width(text: str) -> int:
    """The number of cells of the first record holding anything (the header, spec §1); 0 when none."""
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    try:
        for record in csv.reader(io.StringIO(text, newline="")):
            if any(cell.strip() for cell in record):
                return len(record)
    except csv.Error:
        return 0  # the full parse says what is wrong
    return 0


# -- XLSX -------------------------------------------------------------------------------------------


def xlsx_problem(data: bytes, max_data_rows: int) -> Finding | None:
    """F01, F03 or F06 when the workbook would cost more to read than any return; else None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if (problem := _directory_problem(members)) is not None:
                return problem
            for info in members:
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    with archive.open(info) as stream:
                        problem = _sheet_problem(stream, max_data_rows)
                    if problem is not None:
                        return problem
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
        return None  # the full parse reports a damaged workbook in its own words
    except Unreadable as exc:
        return file_error("F01", str(exc))
    return None


def _directory_problem(members: list[zipfile.ZipInfo]) -> Finding | None:
    if len(members) > MAX_MEMBERS:
        return file_error(
            "F01", f"this workbook holds {len(members):,} parts, far more than a return; {HOW_TO_SAVE}"
        )
    total = sum(info.file_size for info in members)
    if total > MAX_UNCOMPRESSED:
        return file_error(
            "F01",
            f"this workbook unpacks to {total / 1048576:,.0f} MiB, more than the {MAX_UNCOMPRESSED // 1048576} "
            f"MiB a return could need (it may hold images or other sheets); {HOW_TO_SAVE}",
        )
    for info in members:
        if info.file_size > RATIO_GRACE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            return file_error(
                "F01",
                f"a part of this workbook unpacks to more than {MAX_RATIO} times its stored size, as no "
                f"spreadsheet does (a 'zip bomb'); {HOW_TO_SAVE}",
            )
    return None


class _Stop(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def _column_number(reference: str) -> int:
    """The column number of a cell reference such as ``XFD5000`` (0 when it has no letters)."""
    number = 0
    for char in reference:
        if "A" <= char <= "Z":
            number = number * 26 + ord(char) - 64
        elif "a" <= char <= "z":
            number = number * 26 + ord(char) - 96
        else:
            break
    return number


def _letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_problem(stream: IO[bytes], max_data_rows: int) -> Finding | None:
    """Stream one worksheet's XML: rows, cells and the rightmost column, stopping at the first bound."""
    row_limit = max_physical_rows(max_data_rows)
    counts = {"rows": 0, "cells": 0, "column": 0}

    def start(name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "row":
            counts["rows"] += 1
            counts["column"] = 0
            if counts["rows"] > row_limit:
                raise _Stop(too_long(row_limit, max_data_rows))
        elif local == "c":
            counts["cells"] += 1
            reference = attributes.get("r")
            counts["column"] = _column_number(reference) if reference else counts["column"] + 1
            if counts["column"] > MAX_COLUMNS:
                raise _Stop(too_wide(_letters(counts["column"])))
            if counts["cells"] > MAX_CELLS:
                raise _Stop(
                    file_error(
                        "F01",
                        f"this worksheet has more than {MAX_CELLS:,} cells (empty formatted ones "
                        f"included), far more than a return; {HOW_TO_SAVE}",
                    )
                )

    def no_doctype(*_args: object) -> None:
        raise Unreadable(
            f"this workbook declares XML entities or a document type, which no Excel file does; {HOW_TO_SAVE}"
        )

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Stop as stop:
        return stop.finding
    except expat.ExpatError:
        return None  # malformed XML: the full parse reports it
    return None
