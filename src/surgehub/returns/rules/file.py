"""File rules F01–F06 (spec §1, §3): what the bytes are, the header, and the number of data rows.

Judged before there is a table. As spec 2026.2 §3 says, F01, F04, F05 and F06 stop the row rules; F02
and F03 do not (the rules that need a missing column are not checked, and the answer says so), except
for a header holding fewer than 4 spec columns: "not a surge-hub return", F02 once and nothing else.
F01 for bytes that cannot be decoded or parsed is raised by the reading itself (`returns/read.py`) as
`Unreadable`, with what was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from surgehub import spec
from surgehub.identifiers import mask
from surgehub.returns.findings import Finding, column_letter, shown

if TYPE_CHECKING:
    from collections.abc import Callable

Format = Literal["csv", "xlsx"]

#: The fix every F01 message ends with.
HOW_TO_SAVE = "save the return from Excel as 'Excel Workbook (.xlsx)' or 'CSV UTF-8' and send that file"

#: Leading bytes of files people send by mistake, with what to call them in a message.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"{\\rtf", "a Rich Text (RTF) document"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")

#: A ZIP's tell-tale member -> what the file is, for a ZIP that is not an Excel workbook.
_NOT_WORKBOOKS: tuple[tuple[str, str], ...] = (
    ("word/document.xml", "a Word document"),
    ("ppt/presentation.xml", "a PowerPoint presentation"),
    ("content.xml", "an OpenDocument (LibreOffice) file"),
)

EMPTY_FILE = "the file is empty; fill in one row per hub per day"


class Unreadable(Exception):
    """F01: the bytes are not a return we can read; the message says what they look like."""


def file_error(rule: str, message: str, column: str | None = None) -> Finding:
    """A file rule's finding: it names no row."""
    return Finding(rule=rule, row=None, column=column, message=message)


def size_problem(size: int, max_file_bytes: int) -> Finding | None:
    """F01 for a file over the size limit (read no further)."""
    if size <= max_file_bytes:
        return None
    return file_error(
        "F01",
        f"the file is {size:,} bytes, more than the limit of {max_file_bytes:,} bytes "
        f"({max_file_bytes / 1048576:g} MiB); send fewer days in each file",
    )


def file_format(data: bytes) -> Format:
    """The format told from the bytes, never the name; Unreadable (F01) saying what the file looks like."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise Unreadable(f"this looks like {what}, not a CSV or XLSX file; {HOW_TO_SAVE}")
    if data.startswith(_OLE2):
        raise Unreadable(
            "this looks like an older Excel 97–2003 (.xls) file or a password-protected workbook; "
            f"remove any password and {HOW_TO_SAVE}"
        )
    if data.startswith(_ZIP):
        return "xlsx"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unreadable(
            f"this text is saved as UTF-16 ('Unicode Text'), which is not accepted; {HOW_TO_SAVE}"
        )
    if b"\x00" in data:
        raise Unreadable(
            "this file contains NUL bytes, so it is not CSV text (it may be a binary file or UTF-16 "
            f"text); {HOW_TO_SAVE}"
        )
    return "csv"


def check_workbook(members: set[str]) -> None:
    """F01 for a ZIP that is not an Excel workbook (``members``: the names inside it)."""
    if "xl/workbook.xml" in members:
        return
    what = next(
        (what for member, what in _NOT_WORKBOOKS if member in members),
        "a ZIP archive that is not an Excel workbook",
    )
    raise Unreadable(f"this looks like {what}, not a CSV or XLSX file; {HOW_TO_SAVE}")


def separator_problem(header: list[str]) -> Finding | None:
    """F01 for semicolon- or tab-separated text: one clear message beats 22 "missing column" lines."""
    named = [cell for cell in header if cell]
    if len(named) != 1:
        return None
    for separator, what in ((";", "semicolons"), ("\t", "tabs")):
        parts = {part.strip().lower() for part in named[0].split(separator)}
        if len(parts & set(spec.COLUMN_NAMES)) >= 2:
            return file_error(
                "F01",
                f"the file is separated by {what}, not commas; save it from Excel as "
                "'CSV UTF-8 (Comma delimited)' or as 'Excel Workbook (.xlsx)'",
            )
    return None


#: Fewer spec columns than this in the header: the file is not a return at all (spec 2026.2 §3).
MIN_SPEC_COLUMNS = 4
#: More unknown header cells than this: F03 once, summarised (spec 2026.2 §3).
MAX_UNKNOWN_LISTED = 64
#: How many cells a summarised F02 or F03 names.
CELLS_NAMED = 10


@dataclass(frozen=True, kw_only=True)
class Header:
    """What the header row says: F02–F04 findings, where each spec column sits, and what is missing.

    ``foreign``: fewer than 4 spec columns, so the file is "not a surge-hub return" (F02 once, nothing
    else). ``stops_rows``: F04 failed (a column twice: which one holds the values is ambiguous).
    """

    errors: list[Finding]
    positions: dict[str, int]
    missing: tuple[str, ...]
    foreign: bool
    stops_rows: bool


def judge_header(header: list[str], has_values: Callable[[int], bool]) -> Header:
    """F02, F03 and F04 from the header row as spec 2026.2 §3 says them.

    ``has_values(i)``: whether the i-th column holds any value under the header.
    """
    positions: dict[str, int] = {}  # each spec column's first place
    for index, cell in enumerate(header):
        if cell.lower() in spec.COLUMN_BY_NAME:
            positions.setdefault(cell.lower(), index)
    missing = tuple(name for name in spec.COLUMN_NAMES if name not in positions)
    if len(positions) < MIN_SPEC_COLUMNS:
        return Header(
            errors=[_not_a_return(header, len(positions))],
            positions=positions,
            missing=missing,
            foreign=True,
            stops_rows=True,
        )
    errors = _header_findings(header, has_values)
    errors += [_missing(name) for name in missing]
    return Header(
        errors=errors,
        positions=positions,
        missing=missing,
        foreign=False,
        stops_rows=any(f.rule == "F04" for f in errors),
    )


def count_findings(fmt: Format, count: int, max_data_rows: int) -> list[Finding]:
    """F05 (no data rows) and F06 (too many) from the number of data rows."""
    if count == 0:
        return [file_error("F05", "the file has a header row but no data rows; add one row per hub per day")]
    if count > max_data_rows:
        # An XLSX is read only up to one row past the limit (a small file can hold a huge sheet).
        counted = f"more than {max_data_rows}" if fmt == "xlsx" else str(count)
        return [
            file_error(
                "F06",
                f"the file has {counted} data rows; the limit is {max_data_rows}. Split it into several returns",
            )
        ]
    return []


def _named(cells: list[str]) -> str:
    """At most CELLS_NAMED cells, quoted and masked, and how many more there are."""
    named = ", ".join(shown(cell, 40) for cell in cells[:CELLS_NAMED])
    rest = len(cells) - CELLS_NAMED
    return named + (f" and {rest:,} more" if rest > 0 else "")


def _not_a_return(header: list[str], found: int) -> Finding:
    """F02 once: a header with fewer than 4 spec columns is not a return at all (spec 2026.2 §3)."""
    cells = [cell for cell in header if cell]
    return file_error(
        "F02",
        f"this is not a surge-hub return: its first row ({_named(cells)}) holds {found} of the "
        f"{len(spec.COLUMN_NAMES)} columns of the specification. Check that you sent the right file; a "
        "return starts with the header row of the template (activity_date, sub_icb_code, hub_code, …)",
    )


def _header_findings(header: list[str], has_values: Callable[[int], bool]) -> list[Finding]:
    """F03 (values under no name, names outside the spec) and F04 (a name repeated), in header order.

    More than MAX_UNKNOWN_LISTED unknown cells: one F03 naming at most CELLS_NAMED of them.
    """
    errors: list[Finding] = []
    unknown: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.lower()
        if not key:
            if has_values(index):
                errors.append(
                    file_error(
                        "F03",
                        f"column {column_letter(index)} has values but no header name; give it its "
                        "name from the specification, or delete the column",
                    )
                )
            continue
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            errors.append(
                file_error(
                    "F04",
                    f"the column {shown(name, 60)} appears more than once; keep one and delete the others",
                    column=key if key in spec.COLUMN_BY_NAME else mask(name),
                )
            )
        if key not in spec.COLUMN_BY_NAME:
            unknown.append((index, name))
    if len(unknown) > MAX_UNKNOWN_LISTED:
        errors.append(
            file_error(
                "F03",
                f"{len(unknown):,} columns not in the specification ({_named([n for _, n in unknown])}); "
                "delete them, or start again from the template",
            )
        )
        return errors
    listed: set[str] = set()
    for _, name in unknown:
        if name.lower() in listed:
            continue
        listed.add(name.lower())
        errors.append(
            file_error(
                "F03",
                f"the column {shown(name, 60)} is not in the specification; delete it or use "
                "the column name from the template",
                column=mask(name),
            )
        )
    return errors


def _missing(name: str) -> Finding:
    """F02: a spec column the header lacks (its rules are then not checked; the answer says which)."""
    fill = "(it may be left empty)" if name == "comments" else "and fill it in for every row"
    return file_error("F02", f"the column {name} is missing; add it to the header row {fill}", column=name)
