"""The hostile-file corpus (issue 15): files built to hurt a parser, each with its expected outcome.

Generated here rather than committed: each file is a few lines of code and most are megabytes once
built. ``python -m tests.hostile.corpus OUT`` writes every file and ``expected.json`` into OUT.

Every case is for locality 14L, received 2026-11-25 09:00 (the test timeline). ``rule`` is the file
rule the return must fail with (a clean rejection: nothing loaded, nothing echoed); ``None`` means
it is a valid return and must be accepted (a check that the bounds refuse nothing real).
"""

from __future__ import annotations

import io
import json
import random
import sys
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from surgehub import sample, spec

if TYPE_CHECKING:
    from collections.abc import Callable

DAY = date(2026, 11, 24)
LOCALITY = "14L"


def valid_rows(seed: int = 0) -> list[dict[str, str]]:
    return sample.locality_rows(LOCALITY, [DAY], random.Random(seed))


def valid_csv(seed: int = 0) -> bytes:
    return sample.to_csv(valid_rows(seed))


# -- a workbook written by hand, so every byte of the sheet is ours --------------------------------

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b"</Types>"
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="Return" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_OPEN = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def workbook(
    sheet_data: bytes, *, prolog: bytes = b"", extra: dict[str, bytes] | None = None, dimension: bytes = b""
) -> bytes:
    """A minimal XLSX whose one sheet, ``Return``, holds ``<sheetData>`` ``sheet_data``."""
    sheet = (prolog or _SHEET_OPEN) + dimension + b"<sheetData>" + sheet_data + b"</sheetData></worksheet>"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _cell(ref: str, text: str) -> bytes:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{ref}" t="inlineStr"><is><t>{escaped}</t></is></c>'.encode()


def _letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def valid_sheet_rows(rows: list[dict[str, str]]) -> bytes:
    lines = [list(spec.COLUMN_NAMES)] + [[r[c] for c in spec.COLUMN_NAMES] for r in rows]
    out = []
    for n, values in enumerate(lines, start=1):
        cells = b"".join(_cell(f"{_letters(i + 1)}{n}", v) for i, v in enumerate(values))
        out.append(f'<row r="{n}">'.encode() + cells + b"</row>")
    return b"".join(out)


# -- the cases ------------------------------------------------------------------------------------


def xlsx_xfd_rows() -> bytes:
    """The review's 25 KB workbook: 5,000 rows, each with one cell at column XFD (16,384)."""
    rows = b"".join(f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>'.encode() for n in range(1, 5001))
    return workbook(rows)


def xlsx_empty_rows() -> bytes:
    """The review's 74 KB workbook: 50 MB of ``<row/>`` (a ZIP bomb by ratio)."""
    return workbook(b"<row/>" * (50_000_000 // 6))


def xlsx_many_physical_rows() -> bytes:
    """20,000 empty but present rows above a valid return: far past any return's length (F06)."""
    empty = b"".join(f'<row r="{n}"/>'.encode() for n in range(1, 20_001))
    return workbook(empty)


def xlsx_cells_without_references() -> bytes:
    """One row of 300 cells with no ``r`` attribute: columns counted by position (F03)."""
    return workbook(b"<row>" + b"<c><v>1</v></c>" * 300 + b"</row>")


def xlsx_billion_laughs() -> bytes:
    """Entity expansion in the sheet's XML (billion laughs): refused before expansion."""
    entities = b'<!ENTITY a0 "lol">' + b"".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">'.encode() for i in range(1, 10)
    )
    prolog = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet ['
        + entities
        + b"]>"
        + _SHEET_OPEN[_SHEET_OPEN.index(b"<worksheet") :]
    )
    return workbook(b'<row r="1"><c r="A1" t="inlineStr"><is><t>&a9;</t></is></c></row>', prolog=prolog)


def xlsx_external_entity() -> bytes:
    """XXE: an external entity naming /etc/passwd; never resolved, never echoed."""
    prolog = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + _SHEET_OPEN[_SHEET_OPEN.index(b"<worksheet") :]
    )
    return workbook(b'<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>', prolog=prolog)


def xlsx_many_members() -> bytes:
    """2,000 tiny members: a central directory far larger than a workbook's."""
    return workbook(valid_sheet_rows(valid_rows()), extra={f"xl/media/p{i}.bin": b"x" for i in range(2000)})


def xlsx_shared_strings_bomb() -> bytes:
    """40 MB of one shared string, compressed to a few kilobytes."""
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
        + b"A" * 40_000_000
        + b"</t></si></sst>"
    )
    return workbook(valid_sheet_rows(valid_rows()), extra={"xl/sharedStrings.xml": strings})


def xlsx_huge_dimension_but_valid() -> bytes:
    """A valid return whose sheet claims the whole grid as its dimension: accepted (a false alarm checked)."""
    return workbook(valid_sheet_rows(valid_rows()), dimension=b'<dimension ref="A1:XFD1048576"/>')


def csv_100k_columns() -> bytes:
    """The review's 689 KB header of 100,000 columns."""
    return (
        ",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("1" for _ in range(100_000)) + "\n"
    ).encode()


def csv_480k_columns() -> bytes:
    """The spec's columns then 480,000 empty header cells (pyarrow aborted the process near this width)."""
    header = ",".join(spec.COLUMN_NAMES) + "," * 480_000
    return (header + "\n" + valid_csv().decode().split("\n", 1)[1]).encode()


def csv_newlines() -> bytes:
    """A valid return followed by 5 MB of newlines (took 2 GB)."""
    return valid_csv() + b"\n" * (5 * 1024 * 1024 - len(valid_csv()) - 1)


def csv_carriage_returns() -> bytes:
    """The same with lone carriage returns (old Mac line ends count as lines too)."""
    return valid_csv() + b"\r" * (5 * 1024 * 1024 - len(valid_csv()) - 1)


def csv_ragged_wide_row() -> bytes:
    """A valid header, then one data row 200,000 cells wide."""
    return valid_csv() + b"1," * 200_000 + b"\n"


def csv_one_huge_cell() -> bytes:
    """A 4 MB quoted comment: too long (R03), read and refused cleanly."""
    rows = valid_rows()
    rows[0]["comments"] = "x" * 4_000_000
    return sample.to_csv(rows)


def csv_quote_never_closed() -> bytes:
    """An opening quote that swallows the rest of a 4 MB file (on one line)."""
    return valid_csv() + b'"' + b"a,b " * 1_000_000


@dataclass(frozen=True)
class Case:
    name: str  # also the file name
    build: Callable[[], bytes]
    rule: str | None  # the file rule it fails (None: accepted)
    why: str


CASES: tuple[Case, ...] = (
    Case("xfd-5000-rows.xlsx", xlsx_xfd_rows, "F03", "cells at column XFD: wider than any return"),
    Case("50mb-empty-rows.xlsx", xlsx_empty_rows, "F01", "a sheet inflating over 100 times"),
    Case("20000-rows.xlsx", xlsx_many_physical_rows, "F06", "more physical rows than any return"),
    Case("cells-without-r.xlsx", xlsx_cells_without_references, "F03", "300 columns counted by position"),
    Case("billion-laughs.xlsx", xlsx_billion_laughs, "F01", "entity expansion"),
    Case("xxe.xlsx", xlsx_external_entity, "F01", "an external entity"),
    Case("2000-members.xlsx", xlsx_many_members, "F01", "a central directory of 2,000 members"),
    Case("shared-strings-bomb.xlsx", xlsx_shared_strings_bomb, "F01", "40 MB of one shared string"),
    Case("huge-dimension-valid.xlsx", xlsx_huge_dimension_but_valid, None, "a wrong dimension is not a bomb"),
    Case("100k-columns.csv", csv_100k_columns, "F03", "a 689 KB header of 100,000 columns"),
    Case("480k-columns.csv", csv_480k_columns, "F03", "480,000 empty header cells"),
    Case("5mb-newlines.csv", csv_newlines, "F06", "5 MB of newlines"),
    Case("5mb-carriage-returns.csv", csv_carriage_returns, "F06", "5 MB of lone carriage returns"),
    Case("ragged-200k-row.csv", csv_ragged_wide_row, "F03", "one data row 200,000 cells wide"),
    Case("4mb-comment.csv", csv_one_huge_cell, "R03", "one cell of 4 MB"),
    Case("quote-never-closed.csv", csv_quote_never_closed, "F01", "a quote swallowing 4 MB"),
    Case("valid.csv", valid_csv, None, "the control: a valid return"),
)


def write_corpus(folder: Path) -> Path:
    """Write every case and ``expected.json`` (name → {"rule", "why"}) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for case in CASES:
        (folder / case.name).write_bytes(case.build())
        expected[case.name] = {"rule": case.rule, "why": case.why}
    path = folder / "expected.json"
    path.write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")))
