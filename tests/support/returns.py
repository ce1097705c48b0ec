"""Test returns: one valid row builder with one set of defaults, named presets, renderings and files.

- ``hub_row(hub, day, **values)`` is the builder: a valid hub-day as typed values (ints, Decimal hours,
  a date) on DEFAULTS; ``values`` overwrite single columns, ``preset`` swaps in a family's figures.
- Renderings: ``cells`` (the text cells of a CSV or XLSX file), ``typed_cells`` (those cells as an
  Excel user holds them), ``rag_hub_day`` (a RAG ``HubDay``); the warehouse's accepted frame is
  ``tests.support.warehouse.accepted_frame``.
- ``csv_bytes`` and ``xlsx_bytes`` put rows in a file, with any quirk a test asks for.
- A whole locality's realistic return comes from ``surgehub.sample`` (the generator the demo and the
  benchmarks use), always through ``locality_rows`` and the helpers below it.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from surgehub import reference, sample, spec
from surgehub.ingest import Channel, IncomingReturn
from surgehub.rag import HubDay
from surgehub.timeliness import Timeliness
from tests.support.timeline import DAY, later

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime
    from pathlib import Path

#: A valid OPEN hub-day with round figures: green on every RAG parameter, no warning (spec column order).
DEFAULTS: Mapping[str, object] = MappingProxyType(
    {
        "activity_date": DAY,
        "sub_icb_code": "14L",
        "hub_code": "14L-H1",
        "hub_status": "OPEN",
        "sessions_planned": 20,
        "sessions_delivered": 20,
        "gp_hours": Decimal("20.00"),
        "other_clinician_hours": Decimal("10.50"),
        "appts_offered": 100,
        "appts_booked": 80,
        "appts_attended": 78,
        "appts_dna": 2,
        "attended_f2f": 60,
        "attended_remote": 18,
        "src_practice": 50,
        "src_nhs111": 20,
        "src_ed_streaming": 5,
        "src_other": 5,
        "onward_ed": 2,
        "patients_turned_away": 0,
        "comments": None,
        "signed_off_by": "Locality urgent care lead",
    }
)
assert tuple(DEFAULTS) == spec.COLUMN_NAMES, "DEFAULTS must list the spec's columns in its order"

#: The figures the validation tests and the return corpus work their boundaries out from (96 booked of
#: 120 offered, 90 attended, 4 DNA, 3 onward): a preset of its own, so no boundary moves with DEFAULTS.
CORPUS_FIGURES: Mapping[str, object] = MappingProxyType(
    {
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
    }
)

MANCHESTER_HUBS = ("14L-H1", "14L-H2", "14L-H3")


def _locality_of(hub: str) -> str:
    """The hub's locality in the register (an unknown hub: the code before its dash)."""
    return next(
        (h.sub_icb_code for h in reference.shipped_hubs() if h.hub_code == hub), hub.partition("-")[0]
    )


def hub_row(
    hub: str = "14L-H1", day: date = DAY, /, *, preset: Mapping[str, object] | None = None, **values: Any
) -> dict[str, Any]:
    """A valid row for ``hub`` on ``day`` (its locality follows the hub), on DEFAULTS or ``preset``.

    ``values`` overwrite single columns and nothing else (``hub_code="00T-H1"`` leaves the locality
    as it was); they may be any value, text included, and keys outside the spec (``warnings``,
    ``version``) are carried for the renderings that read them.
    """
    row: dict[str, Any] = {
        **DEFAULTS,
        "activity_date": day,
        "sub_icb_code": _locality_of(hub),
        "hub_code": hub,
    }
    row.update(preset or {})
    row.update(values)
    return row


def text(value: object) -> str:
    """One cell as a return file holds it: a date in ISO form, nothing for None, anything else as written."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def cells(row: Mapping[str, object]) -> dict[str, str]:
    """A row as the text cells of a return file, in the spec's column order."""
    return {name: text(row.get(name)) for name in spec.COLUMN_NAMES}


def corpus_row(**values: object) -> dict[str, str]:
    """The validation tests' row: 14L-H1 on DAY with CORPUS_FIGURES, as text cells; ``values`` as written."""
    return cells(hub_row(preset=CORPUS_FIGURES, **values))


def three_hubs(**values: object) -> list[dict[str, str]]:
    """``corpus_row`` for each of Manchester's three hubs on DAY."""
    return [corpus_row(hub_code=h, **values) for h in MANCHESTER_HUBS]


def typed_cells(row: Mapping[str, str]) -> list[Any]:
    """A row's text cells as an Excel user would have them: numbers as numbers, the date as a date cell."""
    out: list[Any] = []
    for name in spec.COLUMN_NAMES:
        value = row[name]
        column = spec.COLUMN_BY_NAME[name]
        if name == "activity_date":
            out.append(date.fromisoformat(value))
        elif column.kind in ("integer", "decimal") and value:
            out.append(float(value))
        else:
            out.append(value or None)
    return out


def rag_hub_day(hub: str, timeliness: Timeliness = Timeliness.ON_TIME, **values: Any) -> HubDay:
    """``hub``'s current row on DAY as RAG judges it (version 1), with ``timeliness``."""
    row = {**hub_row(hub, **values), "version": 1}
    return HubDay(hub_code=hub, sub_icb_code=row["sub_icb_code"], timeliness=timeliness, row=row)


def csv_bytes(
    rows: Iterable[Mapping[str, object] | Sequence[str]],
    *,
    header: Sequence[str] = spec.COLUMN_NAMES,
    encoding: str = "utf-8",
    bom: bool = False,
    newline: str = "\n",
) -> bytes:
    """Rows (mappings by column, typed or text, or raw lists of cells) as CSV bytes under ``header``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        if isinstance(row, Mapping):
            writer.writerow([text(row.get(h.strip().lower())) for h in header])
        else:
            writer.writerow(row)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(
    rows: Iterable[Sequence[Any]],
    *,
    header: Sequence[str] = spec.COLUMN_NAMES,
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
    for row in rows:
        target.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# -- whole localities, from surgehub.sample -----------------------------------------------------------


def locality_rows(
    code: str,
    days: Iterable[date] = (DAY,),
    rng: random.Random | int = 0,
    profile: sample.Profile = sample.GREEN,
) -> list[dict[str, str]]:
    """A realistic valid row (text cells) for every hub of ``code`` active on each day.

    ``rng`` is a seed, or a generator a test shares across localities to keep its figures as they were.
    """
    generator = random.Random(rng) if isinstance(rng, int) else rng
    return sample.locality_rows(code, list(days), generator, profile)


def exported_csv(rows: Sequence[Mapping[str, str]]) -> bytes:
    """Rows as a locality's own export writes them (surgehub.sample's writer: UTF-8, CRLF)."""
    return sample.to_csv([dict(row) for row in rows])


def valid_return(code: str, seed: int = 0, day: date = DAY) -> bytes:
    """A valid return from ``code`` for ``day``; a different seed gives different bytes."""
    return exported_csv(locality_rows(code, [day], seed))


def rejected_return(code: str, seed: int = 7, day: date = DAY) -> bytes:
    """A return with one broken row: booked more than offered (R09, and so R13) on row 1."""
    rows = locality_rows(code, [day], seed)
    rows[0]["appts_booked"] = str(int(rows[0]["appts_offered"]) + 5)
    return exported_csv(rows)


def write_return(
    folder: Path, code: str, day: date = DAY, seed: int = 0, name: str | None = None, **edit: str
) -> Path:
    """A valid return file for every active hub of ``code`` on ``day`` (``edit`` applied to each row)."""
    rows = [{**row, **edit} for row in locality_rows(code, [day], seed)]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{code}-{day.isoformat()}-{seed}.csv")
    path.write_bytes(exported_csv(rows))
    return path


def sent_return(
    folder: Path, code: str, rows: Sequence[Mapping[str, str]], received_at: datetime
) -> IncomingReturn:
    """``rows`` exported to ``folder/<code>.csv`` and sent by ``code`` with `surgehub ingest` at ``received_at``."""
    path = folder / f"{code}.csv"
    path.write_bytes(exported_csv(rows))
    return IncomingReturn(
        path=path, locality=code, channel=Channel.CLI, received_at=received_at, file_name=path.name
    )


def incoming_returns(folder: Path, codes: Iterable[str]) -> list[IncomingReturn]:
    """A valid return from each locality in ``codes``, landed in ``folder`` and received a minute apart."""
    return [
        IncomingReturn(
            path=write_return(folder, code), locality=code, channel=Channel.FOLDER, received_at=later(n)
        )
        for n, code in enumerate(codes)
    ]


def hub_days(code: str, day: date = DAY) -> int:
    """How many rows a full return from ``code`` for ``day`` has: its hubs active that day."""
    return len([h for h in reference.shipped_hubs() if h.sub_icb_code == code and h.active_on(day)])
