"""The common specification in code: spec version, columns with their types and limits, and rule IDs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SPEC_VERSION = "2026.2"

Kind = Literal["date", "code", "hub", "status", "integer", "decimal", "text"]

HUB_STATUSES = ("OPEN", "CLOSED_PLANNED", "CLOSED_UNPLANNED")

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DATA_ROWS = 500


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    min_length: int | None = None
    meaning: str = ""


def _count(name: str, meaning: str, maximum: int = 2000) -> Column:
    return Column(name, "integer", minimum=0, maximum=maximum, meaning=meaning)


COLUMNS: tuple[Column, ...] = (
    Column("activity_date", "date", meaning="the day the hub activity took place"),
    Column("sub_icb_code", "code", max_length=3, meaning="the locality's sub-ICB code"),
    Column("hub_code", "hub", meaning="the hub's code in the register"),
    Column("hub_status", "status", meaning="OPEN, CLOSED_PLANNED or CLOSED_UNPLANNED"),
    _count("sessions_planned", "sessions planned", 40),
    _count("sessions_delivered", "sessions delivered", 40),
    Column("gp_hours", "decimal", minimum=0, maximum=300, meaning="GP clinical hours"),
    Column(
        "other_clinician_hours",
        "decimal",
        minimum=0,
        maximum=300,
        meaning="other clinician hours (ANP, paramedic, pharmacist)",
    ),
    _count("appts_offered", "appointments offered"),
    _count("appts_booked", "appointments booked"),
    _count("appts_attended", "appointments attended"),
    _count("appts_dna", "appointments not attended (DNA)"),
    _count("attended_f2f", "attended face to face"),
    _count("attended_remote", "attended by telephone, video or online"),
    _count("src_practice", "booked by a GP practice"),
    _count("src_nhs111", "booked by NHS 111"),
    _count("src_ed_streaming", "streamed or redirected from ED/UTC"),
    _count("src_other", "booked by pharmacy, ambulance, walk-in or other"),
    _count("onward_ed", "sent on to ED or ambulance"),
    _count("patients_turned_away", "sought a slot, none left"),
    Column("comments", "text", required=False, max_length=1000, meaning="free text; see R15, R16"),
    Column(
        "signed_off_by",
        "text",
        min_length=1,
        max_length=100,
        meaning="role of the person signing off",
    ),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
COLUMN_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
INTEGER_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "integer")
DECIMAL_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "decimal")
NUMERIC_COLUMNS: tuple[str, ...] = INTEGER_COLUMNS + DECIMAL_COLUMNS

#: Every rule ID of spec §3 with its one-line statement.
RULES: dict[str, str] = {
    "F01": "the file can be read (XLSX, or UTF-8/Windows-1252 CSV text) and is within 5 MiB",
    "F02": "every required column is present (a header with fewer than 4 is not a surge-hub return)",
    "F03": "no column outside the specification",
    "F04": "no column appears twice",
    "F05": "at least one data row",
    "F06": "at most 500 data rows",
    "R01": "each value parses as its column's type",
    "R02": "required values are not blank",
    "R03": "numeric values are within their range, and text within its length",
    "R04": "hub_status is one of the allowed values",
    "R05": "sub_icb_code is a known locality and the submitter's own",
    "R06": "hub_code is registered to the row's locality and active on the date",
    "R07": "activity_date is not in the future, at most 14 days old, and in the season",
    "R08": "(activity_date, hub_code) appears once in the file",
    "R09": "appts_booked ≤ appts_offered",
    "R10": "appts_attended ≤ appts_booked",
    "R11": "appts_attended + appts_dna ≤ appts_booked",
    "R12": "attended_f2f + attended_remote = appts_attended",
    "R13": "src_practice + src_nhs111 + src_ed_streaming + src_other = appts_booked",
    "R14": "onward_ed ≤ appts_attended",
    "R15": "comments are given for a closed hub or when a warning W01–W04 fires",
    "R16": "no cell of the file, and not its name, holds a patient identifier (NHS number)",
    "R17": "a CLOSED_PLANNED row has appts_offered = 0",
    "W01": "sessions_delivered < sessions_planned",
    "W02": "DNA rate above 10% of booked",
    "W03": "onward-to-ED above 10% of attended",
    "W04": "patients were turned away",
    "W05": "appts_offered more than 3 × the hub's recent median",
}
