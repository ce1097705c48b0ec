"""The one validation path for every channel: bytes in, every finding of spec §3 out, typed rows when accepted.

Order of work (spec §3): file rules F01–F06 (read.py) stop everything else when they fail; then, in
vectorised pandas, types (R01) and blanks (R02) build typed columns in which an unusable value is
null, so no rule compares it with others; derived columns feed the committed GX suite (R03, R04,
R08–R14, R17); identity (R05–R07), R15, R16 (never inside GX: the number must go nowhere) and the
warnings W01–W05 are plain code here.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from surgehub import reference, spec
from surgehub.clock import LONDON, london_day
from surgehub.config import Settings, load_settings
from surgehub.returns import suite as sx
from surgehub.returns.findings import NHS_NUMBER_CANDIDATE, Finding, shown, sort_key
from surgehub.returns.read import read_return

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "Finding",
    "HistoryLookup",
    "UnknownLocality",
    "ValidationResult",
    "validate_return",
    "validate_table",
]

#: (hub_codes, first_day, last_day) -> hub_code, activity_date, appts_offered of current OPEN rows.
HistoryLookup = Callable[[Sequence[str], date, date], "pd.DataFrame"]

W05_WINDOW_DAYS = 28
W05_MIN_ROWS = 7
W05_FACTOR = 3

# ASCII digits only: Python's \d would also take other scripts' digits (e.g. fullwidth ９).
_INTEGER = r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
_DECIMAL = r"-?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{0,2})?|\.[0-9]{1,2})"
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_UK_DATE = r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$"
_DATE_WITH_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{1,2}:[0-9]{2}.*"


class UnknownLocality(ValueError):
    """The submitter's locality (from the channel) is not in localities.csv: a configuration error."""


@dataclass
class ValidationResult:
    """The outcome of validating one return (spec §3)."""

    status: Literal["accepted", "rejected"]
    spec_version: str
    rows: int
    errors: list[Finding]
    warnings: list[Finding]
    frame: pd.DataFrame | None = field(default=None, repr=False)
    r16_failed: bool = False

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"

    def to_json_dict(self) -> dict[str, Any]:
        """The `surgehub validate --json` shape of interfaces.md."""
        return {
            "status": self.status,
            "spec_version": self.spec_version,
            "rows": self.rows,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
        }


def validate_return(
    data: bytes,
    *,
    locality: str,
    received_at: datetime,
    settings: Settings | None = None,
    history: HistoryLookup | None = None,
    batch: ValidationBatch | None = None,
) -> ValidationResult:
    """Validate a return's bytes as received from ``locality`` at ``received_at``; never raises for bad data.

    With ``batch`` (built over many returns' bytes beforehand), the reading, typing and the GX suite
    already done there for these bytes are used: the result is the same, the cost is shared.
    Raises UnknownLocality when ``locality`` itself is not a known code (the channel is misconfigured).
    """
    settings = settings or load_settings()
    _check_locality(locality)
    found = batch.lookup(data) if batch is not None else None
    raw = (
        found[0]
        if found is not None
        else read_return(data, max_file_bytes=settings.max_file_bytes, max_data_rows=settings.max_data_rows)
    )
    if raw.table is None:
        return ValidationResult("rejected", spec.SPEC_VERSION, raw.rows, sorted(raw.errors, key=sort_key), [])
    return validate_table(
        raw.table,
        locality=locality,
        received_at=received_at,
        settings=settings,
        history=history,
        prepared=found[1] if found is not None else None,
    )


@dataclass
class _Prepared:
    """A table typed, its derived columns built, and its GX suite failures (row numbers of this table)."""

    typed: _Typed
    derived: pd.DataFrame
    gx_failures: list[Any] | None = None


class ValidationBatch:
    """Many returns read, typed and run through the GX suite in ONE pass (spec rules stay per return).

    GX's cost is mostly fixed per call (~0.13 s here, whatever the size), so a backfill or a run
    carrying many files validates them together: their derived frames are stacked with row keys made
    unique per file, and `hub_code` tagged with the file (R08 is a rule within one file), the suite runs
    once, and each failure is split back to its file's own row numbers. Everything that depends on the
    submitter, the receipt time or the warehouse (R05–R07, R15, R16, W01–W05) is still judged per
    return, in order, by `validate_return(..., batch=...)`.
    """

    def __init__(self, datas: Sequence[bytes], settings: Settings | None = None) -> None:
        import hashlib

        settings = settings or load_settings()
        self._entries: dict[str, tuple[Any, _Prepared | None]] = {}
        readable: list[tuple[str, pd.DataFrame]] = []
        for data in datas:
            key = hashlib.sha256(data).hexdigest()
            if key in self._entries:
                continue
            raw = read_return(
                data, max_file_bytes=settings.max_file_bytes, max_data_rows=settings.max_data_rows
            )
            self._entries[key] = (raw, None)
            if raw.table is not None:
                readable.append((key, raw.table))
        with _collector_paused():
            prepared = _prepare_together([table for _, table in readable])
        for (key, _), item in zip(readable, prepared, strict=True):
            self._entries[key] = (self._entries[key][0], item)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, data: bytes) -> tuple[Any, _Prepared | None] | None:
        import hashlib

        return self._entries.get(hashlib.sha256(data).hexdigest())


def _prepare_together(tables: Sequence[pd.DataFrame]) -> list[_Prepared]:
    """Type and derive each table, then run the GX suite once over all of them and split its failures."""
    import numpy as np
    import pandas as pd

    from surgehub.returns.gx_runtime import Failure, run_suite

    prepared: list[_Prepared] = []
    parts: list[pd.DataFrame] = []
    starts: list[int] = []
    offset = 0
    for index, table in enumerate(tables):
        typed = _type_cells(table)
        derived = _derive(typed.frame)
        prepared.append(_Prepared(typed, derived, []))
        numbers = derived["row_number"].to_numpy().astype("int64")
        hub = derived["hub_code"]
        parts.append(
            derived.assign(
                row_number=numbers + offset,
                hub_code=hub.where(hub.isna(), f"{index}|" + hub.astype("object").astype(str)),
            )
        )
        starts.append(offset)
        offset += int(numbers.max(initial=0)) + 1
    if not parts:
        return prepared
    combined = pd.concat(parts, ignore_index=True)
    first_rows = np.asarray(starts)
    for failure in run_suite(combined):
        rows = np.asarray(failure.row_numbers, dtype="int64")
        owner = np.searchsorted(first_rows, rows, side="right") - 1
        for index in np.unique(owner):
            local = (rows[owner == index] - first_rows[index]).tolist()
            prepared[int(index)].gx_failures.append(Failure(dict(failure.meta), sorted(local)))  # type: ignore[union-attr]
    return prepared


def _check_locality(locality: str) -> str:
    code = locality.strip().upper()
    if reference.locality_by_code(code) is None:
        known = ", ".join(loc.sub_icb_code for loc in reference.localities())
        raise UnknownLocality(f"unknown locality {locality!r}; known codes: {known}")
    return code


# -- typing the cells (R01, R02) -------------------------------------------------------------------


@dataclass
class _Typed:
    """Typed columns (null where a value is unusable) and the R01/R02 findings."""

    frame: pd.DataFrame
    findings: list[Finding]


def _type_cells(table: pd.DataFrame) -> _Typed:
    """Type every spec column; numbers go through Arrow compute (RE2 patterns, casts) for speed."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    rn = table["row_number"].to_numpy()
    out: dict[str, Any] = {"row_number": rn}
    findings: list[Finding] = []

    def report(rule: str, mask: np.ndarray, column: str, message: Callable[[str], str]) -> None:
        positions = np.flatnonzero(mask)
        if not len(positions):
            return
        values = table[column].iloc[positions].astype(object).to_numpy()
        for pos, value in zip(positions, values, strict=True):
            findings.append(Finding(rule, int(rn[pos]), column, message(str(value))))

    for col in spec.COLUMNS:
        column = table[col.name]
        if column.dtype == object:
            arr = pa.array(column.to_numpy(), type=pa.string(), from_pandas=True)  # ~2.5× pandas' astype
        else:
            arr = pa.array(column.astype("str"), type=pa.string(), from_pandas=True)
        s = pd.Series(pd.array(arr, dtype="str"), index=column.index)
        blank = pc.fill_null(pc.equal(arr, ""), True).to_numpy(zero_copy_only=False)
        if col.required:
            report(
                "R02",
                blank,
                col.name,
                lambda _v, c=col: f"{c.name} is blank: every row needs it; {_blank_fix(c)}",
            )
        if col.kind in ("integer", "decimal"):
            pattern = _INTEGER if col.kind == "integer" else _DECIMAL
            ok = pc.fill_null(pc.match_substring_regex(arr, f"^(?:{pattern})$"), False)
            report(
                "R01",
                ~blank & ~ok.to_numpy(zero_copy_only=False),
                col.name,
                lambda v, c=col: _r01_number_message(c, v),
            )
            # The pattern has vetted every kept value, so a plain Arrow cast is safe (and far faster
            # than pd.to_numeric).
            kept = pc.replace_substring(pc.if_else(ok, arr, pa.scalar(None, pa.string())), ",", "")
            out[col.name] = pc.cast(kept, pa.float64()).to_numpy(zero_copy_only=False)
        elif col.kind == "date":
            # pandas, not Arrow: Arrow's strptime rolls 2026-11-31 over to 1 December.
            is_iso = s.str.fullmatch(_ISO_DATE).to_numpy(dtype=bool)
            uk = s[~is_iso].str.extract(_UK_DATE)  # usually no rows: extract is slow on Arrow strings
            uk_iso = uk[2] + "-" + uk[1].str.zfill(2) + "-" + uk[0].str.zfill(2)
            text = s.where(is_iso)
            text[~is_iso] = uk_iso
            parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
            report("R01", ~blank & parsed.isna().to_numpy(), col.name, _r01_date_message)
            out[col.name] = parsed.to_numpy(dtype="datetime64[ns]")
        else:
            text = s.str.upper() if col.kind in ("code", "hub", "status") else s
            out[col.name] = np.where(blank, None, text.to_numpy(dtype=object))
    frame = pd.DataFrame(out)
    # pandas 3 infers its string dtype from object arrays; text stays object so a blank is None.
    for col in spec.COLUMNS:
        if col.kind in ("code", "hub", "status", "text"):
            frame[col.name] = pd.Series(out[col.name], dtype=object)
    return _Typed(frame, findings)


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


def _r01_number_message(col: spec.Column, value: str) -> str:
    if col.kind == "integer":
        return (
            f"{col.name} {shown(value)} is not a whole number: write digits only, e.g. 12 or 1,234 "
            "(no decimal point, units or spaces)"
        )
    return (
        f"{col.name} {shown(value)} is not a number with at most 2 decimal places: write it like 7.5 or "
        "7.25 (round to 2 places, no units)"
    )


def _r01_date_message(value: str) -> str:
    import re

    if re.fullmatch(_DATE_WITH_TIME, value):
        return (
            f"activity_date {shown(value)} holds a time of day: the cell must hold a date only; "
            "format it as a date or type it as YYYY-MM-DD"
        )
    return (
        f"activity_date {shown(value)} is not a valid date: write it as YYYY-MM-DD (e.g. 2026-11-24) "
        "or D/M/YYYY (e.g. 24/11/2026)"
    )


# -- the row rules ---------------------------------------------------------------------------------


def _derive(typed: pd.DataFrame) -> pd.DataFrame:
    """Add the derived columns the GX suite checks; NaN wherever an input is unusable (skip rule)."""
    t = typed
    derived = {
        sx.R09_SPARE: t["appts_offered"] - t["appts_booked"],
        sx.R10_SPARE: t["appts_booked"] - t["appts_attended"],
        sx.R11_SPARE: t["appts_booked"] - t["appts_attended"] - t["appts_dna"],
        sx.R12_GAP: t["attended_f2f"] + t["attended_remote"] - t["appts_attended"],
        sx.R13_GAP: t["src_practice"]
        + t["src_nhs111"]
        + t["src_ed_streaming"]
        + t["src_other"]
        - t["appts_booked"],
        sx.R14_SPARE: t["appts_attended"] - t["onward_ed"],
        sx.R17_OFFERED: t["appts_offered"].where(t["hub_status"] == "CLOSED_PLANNED"),
    }
    return t.assign(**derived)


def _n(value: float) -> str:
    """A typed number as the submitter would write it: 12 (not 12.0), 1234567 (not 1.23e+06), 7.25."""
    if value != value:
        return "?"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0")


def _gx_message(rule: str, column: str, row: Any, fix: str) -> str:
    """What is wrong on this row for a failed expectation, then the suite's fix."""
    if rule == "R03":
        if column in spec.NUMERIC_COLUMNS:
            col = spec.COLUMN_BY_NAME[column]
            return f"{column} {_n(row[column])} is outside {col.minimum:g}–{col.maximum:g}: {fix}"
        length = len(row[column])
        if column == "comments":  # never quoted back: it may hold anything
            return f"comments are {length:,} characters long: {fix}"
        return f"{column} {shown(row[column])} is {length:,} characters long: {fix}"
    if rule == "R04":
        return f"hub_status {shown(row['hub_status'])} is not an allowed value: {fix}"
    if rule == "R09":
        return f"appts_booked {_n(row['appts_booked'])} is more than appts_offered {_n(row['appts_offered'])}: {fix}"
    if rule == "R10":
        return (
            f"appts_attended {_n(row['appts_attended'])} is more than appts_booked "
            f"{_n(row['appts_booked'])}: {fix}"
        )
    if rule == "R11":
        return (
            f"appts_attended {_n(row['appts_attended'])} + appts_dna {_n(row['appts_dna'])} = "
            f"{_n(row['appts_attended'] + row['appts_dna'])}, more than appts_booked "
            f"{_n(row['appts_booked'])}: {fix}"
        )
    if rule == "R12":
        total = row["attended_f2f"] + row["attended_remote"]
        return (
            f"attended_f2f {_n(row['attended_f2f'])} + attended_remote {_n(row['attended_remote'])} = "
            f"{_n(total)}, but appts_attended is {_n(row['appts_attended'])}: {fix}"
        )
    if rule == "R13":
        total = row["src_practice"] + row["src_nhs111"] + row["src_ed_streaming"] + row["src_other"]
        return (
            f"the sources add up to {_n(total)} (practice {_n(row['src_practice'])}, NHS 111 "
            f"{_n(row['src_nhs111'])}, ED streaming {_n(row['src_ed_streaming'])}, other "
            f"{_n(row['src_other'])}), but appts_booked is {_n(row['appts_booked'])}: {fix}"
        )
    if rule == "R14":
        return (
            f"onward_ed {_n(row['onward_ed'])} is more than appts_attended {_n(row['appts_attended'])}: {fix}"
        )
    if rule == "R17":
        return f"the hub is CLOSED_PLANNED but appts_offered is {_n(row['appts_offered'])}: {fix}"
    return fix


#: The columns each rule's message quotes (R03 quotes its own column).
_MESSAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "R04": ("hub_status",),
    "R09": ("appts_booked", "appts_offered"),
    "R10": ("appts_attended", "appts_booked"),
    "R11": ("appts_attended", "appts_dna", "appts_booked"),
    "R12": ("attended_f2f", "attended_remote", "appts_attended"),
    "R13": ("src_practice", "src_nhs111", "src_ed_streaming", "src_other", "appts_booked"),
    "R14": ("onward_ed", "appts_attended"),
    "R17": ("appts_offered",),
}


def _gx_findings(frame: pd.DataFrame, failures: list[Any] | None = None) -> list[Finding]:
    """Findings from the GX suite's failures on ``frame`` (run here unless a batch already ran it)."""
    import numpy as np

    from surgehub.returns.gx_runtime import run_suite

    findings: list[Finding] = []
    rn = frame["row_number"].to_numpy()
    for failure in run_suite(frame) if failures is None else failures:
        rule, column, fix = failure.meta["rule_id"], failure.meta["column"], failure.meta["fix"]
        positions = np.searchsorted(rn, failure.row_numbers)
        if rule == "R08":
            findings.extend(_r08_findings(frame, positions, fix))
            continue
        needed = [c for c in _MESSAGE_COLUMNS.get(rule, ()) or (column,) if c in frame.columns]
        rows = frame.iloc[positions][needed].to_dict("records")  # only the failing rows, few columns
        for pos, row in zip(positions, rows, strict=True):
            findings.append(Finding(rule, int(rn[pos]), column, _gx_message(rule, column, row, fix)))
    return findings


def _r08_findings(frame: pd.DataFrame, positions: Any, fix: str) -> list[Finding]:
    """R08 names the second and each later occurrence of a key, pointing at the first."""
    keyed = frame.iloc[positions][["row_number", "activity_date", "hub_code"]]
    first = keyed.groupby(["activity_date", "hub_code"], sort=False)["row_number"].transform("min")
    later = keyed[keyed["row_number"] != first]
    # Vectorised wording: a file may repeat one key many times over.
    hub_text = later["hub_code"].map({h: shown(h) for h in later["hub_code"].unique()})
    day_text = later["activity_date"].map({d: d.date().isoformat() for d in later["activity_date"].unique()})
    messages = (
        "hub_code "
        + hub_text
        + " on "
        + day_text
        + " already appears in row "
        + first[later.index].astype(str)
    ) + f": {fix}"
    return [
        Finding("R08", n, "hub_code", m)
        for n, m in zip(later["row_number"].astype(int).tolist(), messages.tolist(), strict=True)
    ]


def _identity_findings(
    t: pd.DataFrame, locality: str, received_day: date, settings: Settings
) -> list[Finding]:
    """R05 (locality), R06 (hub register), R07 (date window and season)."""
    import numpy as np
    import pandas as pd

    findings: list[Finding] = []
    rn = t["row_number"].to_numpy()
    known = {loc.sub_icb_code: loc for loc in reference.localities()}
    own_name = known[locality].name

    sub = t["sub_icb_code"]
    present = sub.notna()
    unknown = present & ~sub.isin(list(known))
    other = present & sub.isin(list(known)) & (sub != locality)
    for pos in np.flatnonzero(unknown.to_numpy()):
        findings.append(
            Finding(
                "R05",
                int(rn[pos]),
                "sub_icb_code",
                f"sub_icb_code {shown(sub.iat[pos])} is not a known locality code: this return comes from "
                f"{own_name}, so use {locality}",
            )
        )
    for pos in np.flatnonzero(other.to_numpy()):
        findings.append(
            Finding(
                "R05",
                int(rn[pos]),
                "sub_icb_code",
                f"sub_icb_code {sub.iat[pos]} is {known[sub.iat[pos]].name}'s code, but this return comes "
                f"from {own_name} ({locality}): report only your own hubs, with sub_icb_code {locality}",
            )
        )

    register = pd.DataFrame(
        [(h.hub_code, h.sub_icb_code, h.active_from, h.active_to) for h in reference.hubs()],
        columns=["hub_code", "reg_sub", "active_from", "active_to"],
    )
    register["active_from"] = pd.to_datetime(register["active_from"])
    register["active_to"] = pd.to_datetime(register["active_to"])
    rows = t[["hub_code", "sub_icb_code", "activity_date"]].merge(register, on="hub_code", how="left")
    has_hub = rows["hub_code"].notna()
    not_registered = has_hub & rows["reg_sub"].isna()
    wrong_locality = has_hub & rows["reg_sub"].notna() & rows["sub_icb_code"].notna()
    wrong_locality &= rows["reg_sub"] != rows["sub_icb_code"]
    inactive = has_hub & rows["reg_sub"].notna() & rows["activity_date"].notna() & ~wrong_locality
    inactive &= (rows["activity_date"] < rows["active_from"]) | (rows["activity_date"] > rows["active_to"])
    own_hubs = ", ".join(h.hub_code for h in reference.hubs_of(locality))
    for pos in np.flatnonzero(not_registered.to_numpy()):
        findings.append(
            Finding(
                "R06",
                int(rn[pos]),
                "hub_code",
                f"hub_code {shown(rows['hub_code'].iat[pos])} is not in the hub register: use one of "
                f"{own_name}'s hub codes ({own_hubs})",
            )
        )
    for pos in np.flatnonzero(wrong_locality.to_numpy()):
        r = rows.iloc[pos]
        findings.append(
            Finding(
                "R06",
                int(rn[pos]),
                "hub_code",
                f"hub {r.hub_code} is registered to locality {r.reg_sub}, not {shown(r.sub_icb_code)}: "
                f"check the hub code and the row's sub_icb_code ({own_name}'s hubs: {own_hubs})",
            )
        )
    for pos in np.flatnonzero(inactive.to_numpy()):
        r = rows.iloc[pos]
        findings.append(
            Finding(
                "R06",
                int(rn[pos]),
                "hub_code",
                f"hub {r.hub_code} is not active on {r.activity_date.date().isoformat()}: it runs from "
                f"{r.active_from.date().isoformat()} to {r.active_to.date().isoformat()}; check the date "
                "and the hub code",
            )
        )

    day = t["activity_date"]
    received = pd.Timestamp(received_day)
    window = settings.revision_window_days
    start, end = pd.Timestamp(settings.season_start), pd.Timestamp(settings.season_end)
    valid = day.notna()
    outside = valid & ((day < start) | (day > end))
    future = valid & ~outside & (day > received)
    too_old = valid & ~outside & (day < received - pd.Timedelta(days=window))
    for pos in np.flatnonzero(outside.to_numpy()):
        findings.append(
            Finding(
                "R07",
                int(rn[pos]),
                "activity_date",
                f"activity_date {day.iat[pos].date().isoformat()} is outside the season "
                f"({settings.season_start.isoformat()} to {settings.season_end.isoformat()}): check the date",
            )
        )
    for pos in np.flatnonzero(future.to_numpy()):
        findings.append(
            Finding(
                "R07",
                int(rn[pos]),
                "activity_date",
                f"activity_date {day.iat[pos].date().isoformat()} is after the day the return was received "
                f"({received_day.isoformat()}): report only days that have happened; check the date",
            )
        )
    for pos in np.flatnonzero(too_old.to_numpy()):
        findings.append(
            Finding(
                "R07",
                int(rn[pos]),
                "activity_date",
                f"activity_date {day.iat[pos].date().isoformat()} is more than {window} days before the day "
                f"the return was received ({received_day.isoformat()}): days can be sent or revised for "
                f"{window} days only; check the date, or contact the ICB surge team",
            )
        )
    return findings


def _warning_masks(t: pd.DataFrame) -> dict[str, Any]:
    """W01–W04 as boolean arrays (False wherever an input is unusable)."""
    planned, delivered = t["sessions_planned"], t["sessions_delivered"]
    booked, dna = t["appts_booked"], t["appts_dna"]
    attended, onward = t["appts_attended"], t["onward_ed"]
    return {
        "W01": (delivered < planned).to_numpy(),
        "W02": ((booked > 0) & (dna * 10 > booked)).to_numpy(),
        "W03": ((attended > 0) & (onward * 10 > attended)).to_numpy(),
        "W04": (t["patients_turned_away"] > 0).to_numpy(),
    }


def _warning_findings(t: pd.DataFrame, masks: dict[str, Any]) -> list[Finding]:
    """W01–W04 findings; values are taken as arrays for the flagged rows only (no per-row pandas access)."""
    import numpy as np

    rn = t["row_number"].to_numpy()
    note = "a warning, not an error; say why in comments"

    def picked(rule: str, *columns: str) -> tuple[list[int], list[list[float]]]:
        positions = np.flatnonzero(masks[rule])
        return rn[positions].astype(int).tolist(), [t[c].to_numpy()[positions].tolist() for c in columns]

    out: list[Finding] = []
    rows, (delivered, planned) = picked("W01", "sessions_delivered", "sessions_planned")
    out += [
        Finding(
            "W01",
            n,
            "sessions_delivered",
            f"sessions_delivered {_n(d)} is fewer than sessions_planned {_n(p)}: {note}",
        )
        for n, d, p in zip(rows, delivered, planned, strict=True)
    ]
    rows, (dna, booked) = picked("W02", "appts_dna", "appts_booked")
    out += [
        Finding(
            "W02",
            n,
            "appts_dna",
            f"appts_dna {_n(d)} is {d / b:.1%} of appts_booked {_n(b)}, above 10%: {note}",
        )
        for n, d, b in zip(rows, dna, booked, strict=True)
    ]
    rows, (onward, attended) = picked("W03", "onward_ed", "appts_attended")
    out += [
        Finding(
            "W03",
            n,
            "onward_ed",
            f"onward_ed {_n(o)} is {o / a:.1%} of appts_attended {_n(a)}, above 10%: {note}",
        )
        for n, o, a in zip(rows, onward, attended, strict=True)
    ]
    rows, (turned,) = picked("W04", "patients_turned_away")
    out += [
        Finding("W04", n, "patients_turned_away", f"{_n(x)} patients were turned away: {note}")
        for n, x in zip(rows, turned, strict=True)
    ]
    return out


def _comment_findings(t: pd.DataFrame, masks: dict[str, Any]) -> tuple[list[Finding], bool]:
    """R15 (comments needed) and R16 (no NHS number, checked here and never inside GX)."""
    import numpy as np

    rn = t["row_number"].to_numpy()
    comments = t["comments"]
    blank = comments.isna().to_numpy()
    status = t["hub_status"]
    closed = status.isin(["CLOSED_PLANNED", "CLOSED_UNPLANNED"]).to_numpy()
    needs = closed | masks["W01"] | masks["W02"] | masks["W03"] | masks["W04"]
    findings: list[Finding] = []
    reasons_by_rule = {
        "W01": "sessions delivered are fewer than planned (W01)",
        "W02": "the DNA rate is above 10% (W02)",
        "W03": "onward-to-ED is above 10% of attended (W03)",
        "W04": "patients were turned away (W04)",
    }
    statuses = status.to_numpy()
    for pos in np.flatnonzero(blank & needs):
        reasons = [f"the hub is {statuses[pos]}"] if closed[pos] else []
        reasons += [text for rule, text in reasons_by_rule.items() if masks[rule][pos]]
        findings.append(
            Finding(
                "R15",
                int(rn[pos]),
                "comments",
                f"comments are blank, but {' and '.join(reasons)}: add a short explanation in comments",
            )
        )

    r16 = _nhs_number_rows(comments)
    for pos in r16:
        findings.append(
            Finding(
                "R16",
                int(rn[pos]),
                "comments",
                "comments appear to contain an NHS number: remove it and resubmit (never put patient "
                "identifiers in a return)",
            )
        )
    return findings, bool(len(r16))


def _nhs_number_rows(comments: pd.Series) -> np.ndarray:
    """Positions of comments holding a valid NHS number; vectorised over every candidate run."""
    import numpy as np
    import pandas as pd

    text = pd.Series(comments.to_numpy(dtype=object))  # index = position
    text = text[text.notna()]
    text = text[text.str.contains(r"[0-9]{3}", regex=True)]
    if text.empty:
        return np.array([], dtype=int)
    candidates = text.str.extractall(NHS_NUMBER_CANDIDATE.pattern)
    if candidates.empty:
        return np.array([], dtype=int)
    digits = "".join(candidates[0].str.replace(r"[ -]", "", regex=True))
    matrix = (np.frombuffer(digits.encode("ascii"), dtype=np.uint8).reshape(-1, 10) - ord("0")).astype(int)
    check = 11 - (matrix[:, :9] @ np.arange(10, 1, -1)) % 11
    check = np.where(check == 11, 0, check)
    valid = (check != 10) & (check == matrix[:, 9])
    return np.unique(candidates.index.get_level_values(0).to_numpy()[valid])


def _history_findings(t: pd.DataFrame, history: HistoryLookup) -> list[Finding]:
    """W05: appts_offered above 3 × the hub's median over its current OPEN rows dated D−28..D−1."""
    import pandas as pd

    rows = t[["row_number", "hub_code", "activity_date", "appts_offered", "hub_status"]]
    usable = rows["hub_code"].notna() & rows["activity_date"].notna() & rows["appts_offered"].notna()
    candidates = rows[usable]
    if candidates.empty:
        return []
    first = (candidates["activity_date"].min() - pd.Timedelta(days=W05_WINDOW_DAYS)).date()
    last = (candidates["activity_date"].max() - pd.Timedelta(days=1)).date()
    hubs = sorted(candidates["hub_code"].unique())
    past = history(hubs, first, last)
    if past is None or len(past) == 0:
        past = pd.DataFrame({"hub_code": [], "activity_date": [], "appts_offered": []})
    past = pd.DataFrame(
        {
            "hub_code": past["hub_code"].astype(str).str.upper().to_numpy(),
            "day": pd.to_datetime(past["activity_date"]).to_numpy(dtype="datetime64[ns]"),
            "offered": pd.to_numeric(past["appts_offered"]).astype("float64").to_numpy(),
        }
    )
    # Once the file is loaded its rows are the current ones for their hub-days: each replaces the
    # warehouse's row (whatever its status), and its OPEN rows join the history.
    mine = candidates.drop_duplicates(["hub_code", "activity_date"], keep="last")
    keys = pd.DataFrame({"hub_code": mine["hub_code"], "day": mine["activity_date"]})
    past = past.merge(keys, on=["hub_code", "day"], how="left", indicator=True)
    past = past[past["_merge"] == "left_only"].drop(columns="_merge")
    own = mine[mine["hub_status"] == "OPEN"]
    own = pd.DataFrame(
        {"hub_code": own["hub_code"], "day": own["activity_date"], "offered": own["appts_offered"]}
    )
    pool = pd.concat([past, own], ignore_index=True)

    joined = candidates.reset_index(drop=True).reset_index(names="pos").merge(pool, on="hub_code")
    in_window = (joined["day"] < joined["activity_date"]) & (
        joined["day"] >= joined["activity_date"] - pd.Timedelta(days=W05_WINDOW_DAYS)
    )
    stats = joined[in_window].groupby("pos")["offered"].agg(["count", "median"])
    stats = stats[stats["count"] >= W05_MIN_ROWS]
    picked = candidates.reset_index(drop=True).iloc[stats.index.to_numpy()]
    flagged = picked["appts_offered"].to_numpy() > W05_FACTOR * stats["median"].to_numpy()
    out: list[Finding] = []
    for (_, r), median in zip(picked[flagged].iterrows(), stats["median"].to_numpy()[flagged], strict=True):
        out.append(
            Finding(
                "W05",
                int(r.row_number),
                "appts_offered",
                f"appts_offered {_n(r.appts_offered)} is more than 3 × this hub's recent median of "
                f"{_n(median)} (open days in the 28 days before): a warning, not an error; check it is "
                "not a typing error",
            )
        )
    return out


def validate_table(
    table: pd.DataFrame,
    *,
    locality: str,
    received_at: datetime,
    settings: Settings | None = None,
    history: HistoryLookup | None = None,
    prepared: _Prepared | None = None,
) -> ValidationResult:
    """Row rules on a table as read.py builds it (spec columns as text, plus ``row_number``)."""
    settings = settings or load_settings()
    locality = _check_locality(locality)
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=LONDON)
    with _collector_paused():
        return _validate_rows(table, locality, london_day(received_at), settings, history, prepared)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects (findings, lists).

    On a million rows its repeated full passes cost more than the work itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _validate_rows(
    table: pd.DataFrame,
    locality: str,
    received_day: date,
    settings: Settings,
    history: HistoryLookup | None,
    prepared: _Prepared | None = None,
) -> ValidationResult:
    typed = prepared.typed if prepared is not None else _type_cells(table)
    t = typed.frame
    errors = list(typed.findings)
    errors += _identity_findings(t, locality, received_day, settings)
    if prepared is not None:
        errors += _gx_findings(prepared.derived, prepared.gx_failures)
    else:
        errors += _gx_findings(_derive(t))
    masks = _warning_masks(t)
    warnings = _warning_findings(t, masks)
    comment_findings, r16_failed = _comment_findings(t, masks)
    errors += comment_findings
    if history is not None:
        warnings += _history_findings(t, history)

    errors.sort(key=sort_key)
    warnings.sort(key=sort_key)
    rows = len(t)
    if errors:
        return ValidationResult("rejected", spec.SPEC_VERSION, rows, errors, warnings, None, r16_failed)
    return ValidationResult("accepted", spec.SPEC_VERSION, rows, [], warnings, _accepted_frame(t, warnings))


def _accepted_frame(t: pd.DataFrame, warnings: list[Finding]) -> pd.DataFrame:
    """The typed rows for loading: ints as int64, hours rounded to 2 places, comments None when blank."""
    import numpy as np

    frame = t[["row_number", *spec.COLUMN_NAMES]].copy()
    for name in spec.INTEGER_COLUMNS:
        frame[name] = frame[name].astype("int64")
    for name in spec.DECIMAL_COLUMNS:
        frame[name] = frame[name].round(2)
    frame["row_number"] = frame["row_number"].astype("int64")
    frame = frame.reset_index(drop=True)
    rules: list[list[str]] = [[] for _ in range(len(frame))]
    if warnings:
        positions = np.searchsorted(frame["row_number"].to_numpy(), [w.row for w in warnings])
        for pos, w in zip(positions, warnings, strict=True):
            if w.rule not in rules[pos]:
                rules[pos].append(w.rule)
    frame["warnings"] = rules
    return frame
