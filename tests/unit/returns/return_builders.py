"""Builders for test returns: valid rows on the test timeline, and their CSV/XLSX bytes with every quirk."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from surgehub import spec
from surgehub.clock import LONDON
from surgehub.config import Settings, load_settings

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

CORPUS = Path(__file__).resolve().parents[2] / "corpus"

#: Receipt time of the test timeline: Wednesday 2026-11-25 09:00 Europe/London.
RECEIVED_AT = datetime(2026, 11, 25, 9, 0, tzinfo=LONDON)

HEADER: tuple[str, ...] = spec.COLUMN_NAMES

#: The project's settings as configured: the season, the R07 window and the file limits validation reads.
SETTINGS: Settings = load_settings()


def row(**overrides: Any) -> dict[str, str]:
    """A valid 14L row for 2026-11-24 (hub 14L-H1, no warnings); overrides given as values."""
    base: dict[str, Any] = {
        "activity_date": "2026-11-24",
        "sub_icb_code": "14L",
        "hub_code": "14L-H1",
        "hub_status": "OPEN",
        "sessions_planned": 6,
        "sessions_delivered": 6,
        "gp_hours": 18,
        "other_clinician_hours": 12,
        "appts_offered": 120,
        "appts_booked": 96,
        "appts_attended": 90,
        "appts_dna": 4,
        "attended_f2f": 70,
        "attended_remote": 20,
        "src_practice": 50,
        "src_nhs111": 30,
        "src_ed_streaming": 10,
        "src_other": 6,
        "onward_ed": 3,
        "patients_turned_away": 0,
        "comments": "",
        "signed_off_by": "Locality urgent care lead",
    }
    base.update(overrides)
    return {k: "" if v is None else str(v) for k, v in base.items()}


def three_hubs(**overrides: Any) -> list[dict[str, str]]:
    """One valid row for each of Manchester's three hubs on 2026-11-24."""
    return [row(hub_code=h, **overrides) for h in ("14L-H1", "14L-H2", "14L-H3")]


def csv_bytes(
    rows: Iterable[dict[str, str] | Sequence[str]],
    *,
    header: Sequence[str] = HEADER,
    encoding: str = "utf-8",
    bom: bool = False,
    newline: str = "\n",
) -> bytes:
    """Rows (dicts keyed by column, or raw cell lists) as CSV bytes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    for r in rows:
        if isinstance(r, dict):
            writer.writerow([r.get(h.strip().lower(), "") for h in header])
        else:
            writer.writerow(r)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(
    rows: Iterable[Sequence[Any]],
    *,
    header: Sequence[str] = HEADER,
    sheet: str = "Return",
    extra_first_sheet: bool = False,
    leading_blank_rows: int = 0,
) -> bytes:
    """A workbook made with openpyxl; rows are cell values (dates, floats and all) in header order."""
    import openpyxl

    workbook = openpyxl.Workbook()
    first = workbook.active
    if extra_first_sheet:
        first.title = "Notes"
        first.append(["This sheet is notes, not the return"])
        target = workbook.create_sheet(sheet)
    else:
        first.title = sheet
        target = first
    for _ in range(leading_blank_rows):
        target.append([])
    target.append(list(header))
    for r in rows:
        target.append(list(r))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def typed_cells(r: dict[str, str]) -> list[Any]:
    """A row's values as an Excel user would have them: numbers as numbers, the date as a date cell."""
    from datetime import date

    cells: list[Any] = []
    for name in HEADER:
        value = r[name]
        column = spec.COLUMN_BY_NAME[name]
        if name == "activity_date":
            cells.append(date.fromisoformat(value))
        elif column.kind in ("integer", "decimal") and value:
            cells.append(float(value))
        else:
            cells.append(value or None)
    return cells


def corpus_file(name: str) -> bytes:
    return (CORPUS / name).read_bytes()
