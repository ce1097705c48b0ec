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

    With ``batch`` (built beforehand over many returns with their senders and receipt times), what the
    joint pass already judged for these bytes, this sender and this receipt day is used; only W05,
    which reads the warehouse as this return's receipt found it, is judged here. The result is the
    same as alone; the cost is shared.
    Raises UnknownLocality when ``locality`` itself is not a known code (the channel is misconfigured).
    """
    settings = settings or load_settings()
    code = _check_locality(locality)
    received_at = _aware(received_at)
    found = batch.lookup(data, code, received_at) if batch is not None else None
    if found is None:
        raw = read_return(
            data, max_file_bytes=settings.limits.max_file_bytes, max_data_rows=settings.limits.max_data_rows
        )
        if raw.table is None:
            return _unreadable(raw)
        return validate_table(
            raw.table, locality=code, received_at=received_at, settings=settings, history=history
        )
    if isinstance(found, ValidationResult):
        return found
    return _finish(found, history)


def _aware(received_at: datetime) -> datetime:
    return received_at if received_at.tzinfo is not None else received_at.replace(tzinfo=LONDON)


def _unreadable(raw: Any) -> ValidationResult:
    """A return that failed a file rule (F01–F06): those findings alone (spec §3)."""
    return ValidationResult("rejected", spec.SPEC_VERSION, raw.rows, sorted(raw.errors, key=sort_key), [])


class ValidationBatch:
    """Many returns judged in ONE vectorised pass; each return's findings are still its own.

    pandas and GX cost mostly per call, not per row (GX ~0.13 s a call here, whatever the size), so a
    backfill, or a run carrying many files, validates them together: their text tables are stacked
    with row numbers made unique per file, typed once, run through the GX suite once (with `hub_code`
    tagged by file, since R08 is a rule within one file), and the per-return rules that depend on the
    sender and the receipt day (R05–R07, R15, R16, W01–W04) take each row's own sender and day. The
    findings are then split back to each file's own row numbers. Only W05 is left to
    `validate_return(..., batch=...)`: it reads the warehouse as each return's receipt found it, which
    depends on the returns loaded before it, in order.
    """

    def __init__(
        self, returns: Sequence[tuple[bytes, str, datetime]], settings: Settings | None = None
    ) -> None:
        import hashlib

        settings = settings or load_settings()
        self._entries: dict[tuple[str, str, date], ValidationResult | _Judged] = {}
        readable: list[tuple[tuple[str, str, date], pd.DataFrame]] = []
        for data, locality, received_at in returns:
            try:
                code = _check_locality(locality)
            except UnknownLocality:
                continue  # validate_return raises it for this return, as alone
            key = (hashlib.sha256(data).hexdigest(), code, london_day(_aware(received_at)))
            if key in self._entries:
                continue
            raw = read_return(
                data,
                max_file_bytes=settings.limits.max_file_bytes,
                max_data_rows=settings.limits.max_data_rows,
            )
            if raw.table is None:
                self._entries[key] = _unreadable(raw)
            else:
                self._entries[key] = _PENDING
                readable.append((key, raw.table))
        if readable:
            senders = [(key[1], key[2]) for key, _ in readable]
            judged = _judge_together([table for _, table in readable], senders, settings)
            for (key, _), item in zip(readable, judged, strict=True):
                self._entries[key] = item

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, data: bytes, locality: str, received_at: datetime) -> ValidationResult | _Judged | None:
        """What the joint pass found for these bytes from this sender on this receipt day, else None."""
        import hashlib

        key = (hashlib.sha256(data).hexdigest(), locality.strip().upper(), london_day(_aware(received_at)))
        return self._entries.get(key)


@dataclass
class _HistoryRows:
    """The typed columns W05 reads, for one return's rows (its own row numbers).

    Slices of arrays made once for a whole batch: NumPy for numbers and days (days since 1970, NaT
    where unusable), Arrow for text (a million hub codes as Python strings would cost ~65 MB).
    """

    row_number: np.ndarray
    hub_code: Any  # pyarrow string array, null where unusable
    day: np.ndarray  # datetime64[D]
    appts_offered: np.ndarray  # float64, NaN where unusable
    hub_status: Any  # pyarrow string array


def _history_rows(t: pd.DataFrame, bounds: np.ndarray, offsets: np.ndarray) -> list[_HistoryRows]:
    """Each return's W05 columns (``bounds``: where each return's rows start and end in ``t``)."""
    import pyarrow as pa

    numbers = t["row_number"].to_numpy().astype("int64")
    days = t["activity_date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    offered = t["appts_offered"].to_numpy(dtype="float64")
    hubs, statuses = pa.array(t["hub_code"]), pa.array(t["hub_status"])
    out = []
    for i in range(len(offsets)):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        out.append(
            _HistoryRows(
                numbers[lo:hi] - offsets[i],
                hubs.slice(lo, hi - lo),
                days[lo:hi],
                offered[lo:hi],
                statuses.slice(lo, hi - lo),
            )
        )
    return out


@dataclass
class _Judged:
    """One return's findings from a (joint) pass, everything but W05."""

    rows: int
    errors: list[Finding]
    warnings: list[Finding]
    frame: pd.DataFrame | None  # the accepted rows for loading, when there are no errors
    r16_failed: bool
    history_rows: _HistoryRows


#: Stands in for a readable return until the joint pass has judged it.
_PENDING: Any = object()


def _finish(judged: _Judged, history: HistoryLookup | None) -> ValidationResult:
    """Add W05 (when the warehouse's history is given) and make the result."""
    warnings, frame = judged.warnings, judged.frame
    if history is not None:
        spikes = _history_findings(judged.history_rows, history)
        if spikes:
            warnings = sorted([*warnings, *spikes], key=sort_key)
            if frame is not None:
                frame = _with_warning_rules(frame, spikes)
    if judged.errors:
        return ValidationResult(
            "rejected", spec.SPEC_VERSION, judged.rows, judged.errors, warnings, None, judged.r16_failed
        )
    return ValidationResult("accepted", spec.SPEC_VERSION, judged.rows, [], warnings, frame)


def _with_warning_rules(frame: pd.DataFrame, findings: list[Finding]) -> pd.DataFrame:
    """``frame`` with each finding's rule added to its row's ``warnings`` (a new column; frame not changed)."""
    added = _warning_rules(frame["row_number"].to_numpy(), findings)
    rules = [
        [*held, *(rule for rule in new if rule not in held)]
        for held, new in zip(frame["warnings"], added, strict=True)
    ]
    return frame.assign(warnings=rules)


def _judge_together(
    tables: Sequence[pd.DataFrame], senders: Sequence[tuple[str, date]], settings: Settings
) -> list[_Judged]:
    """Every rule but W05 over all ``tables`` at once (one per return; senders: (locality, receipt day))."""
    import numpy as np
    import pandas as pd

    from surgehub.returns.gx_runtime import run_suite

    sizes = np.array([len(table) for table in tables], dtype="int64")
    files = np.repeat(np.arange(len(tables)), sizes)  # each row's return
    if len(tables) == 1:
        offsets = np.zeros(1, dtype="int64")
        combined = tables[0]
    else:
        # Row numbers made unique across the batch: each return's are shifted past the previous ones'.
        highest = np.array([int(t["row_number"].max()) if len(t) else 0 for t in tables], dtype="int64")
        offsets = np.concatenate([[0], np.cumsum(highest + 1)[:-1]])
        combined = pd.concat(
            [
                t.assign(row_number=t["row_number"].to_numpy() + o)
                for t, o in zip(tables, offsets, strict=True)
            ],
            ignore_index=True,
        )

    with _collector_paused():
        typed = _type_cells(combined)
        t = typed.frame
        derived = _derive(t)
        gx_input = derived
        if len(tables) > 1:  # R08 is a rule within one file: a hub-day in two files is no repeat
            hub = derived["hub_code"]
            tagged = pd.Series(files, index=hub.index).astype(str) + "|" + hub.astype(object).astype(str)
            gx_input = derived.assign(hub_code=hub.where(hub.isna(), tagged))
        errors = list(typed.findings)
        errors += _identity_findings(t, files, senders, settings)
        errors += _gx_findings(derived, run_suite(gx_input), offsets[files])
        masks = _warning_masks(t)
        warnings = _warning_findings(t, masks)
        comment_findings, r16_rows = _comment_findings(t, masks)
        errors += comment_findings

        errors_by_file = _split(errors, offsets)
        warnings_by_file = _split(warnings, offsets)
        for found in (errors_by_file, warnings_by_file):
            for items in found:
                items.sort(key=sort_key)
        accepted = np.array([not items for items in errors_by_file])
        frames = _accepted_frames(t, warnings_by_file, files, accepted, offsets)
        r16_failed = np.zeros(len(tables), dtype=bool)
        r16_failed[np.unique(files[r16_rows])] = True
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        history_rows = _history_rows(t, bounds, offsets)
        return [
            _Judged(
                int(sizes[i]),
                errors_by_file[i],
                warnings_by_file[i],
                frames[i],
                bool(r16_failed[i]),
                history_rows[i],
            )
            for i in range(len(tables))
        ]


def _split(findings: list[Finding], offsets: np.ndarray) -> list[list[Finding]]:
    """Row findings of a joint pass, per return, with each return's own row numbers back."""
    import numpy as np

    out: list[list[Finding]] = [[] for _ in range(len(offsets))]
    if len(offsets) == 1:
        out[0] = list(findings)
        return out
    rows = np.fromiter((f.row for f in findings), dtype="int64", count=len(findings))
    owners = np.searchsorted(offsets, rows, side="right") - 1
    for finding, owner, row in zip(findings, owners.tolist(), (rows - offsets[owners]).tolist(), strict=True):
        out[owner].append(Finding(finding.rule, row, finding.column, finding.message))
    return out


def _accepted_frames(
    t: pd.DataFrame,
    warnings_by_file: list[list[Finding]],
    files: np.ndarray,
    accepted: np.ndarray,
    offsets: np.ndarray,
) -> list[pd.DataFrame | None]:
    """Each accepted return's rows for loading (its own row numbers); None for a rejected one."""
    import numpy as np

    out: list[pd.DataFrame | None] = [None] * len(accepted)
    if not accepted.any():
        return out
    if len(accepted) == 1:
        out[0] = _accepted_frame(t, warnings_by_file[0])
        return out
    keep = accepted[files]
    frame = _accepted_frame(t if keep.all() else t[keep], [])
    bounds = np.searchsorted(files[keep], np.arange(len(accepted) + 1))
    numbers = frame["row_number"].to_numpy()
    for i in np.flatnonzero(accepted).tolist():
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        own = numbers[lo:hi] - offsets[i]
        out[i] = (
            frame.iloc[lo:hi]
            .reset_index(drop=True)
            .assign(row_number=own, warnings=_warning_rules(own, warnings_by_file[i]))
        )
    return out


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
            # Text stays in Arrow (pandas "str"), a blank as missing: a million short strings as Python
            # objects would cost ~65 MB a column.
            text = s.str.upper() if col.kind in ("code", "hub", "status") else s
            out[col.name] = text.where(~blank).array
    return _Typed(pd.DataFrame(out), findings)


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


def _gx_findings(frame: pd.DataFrame, failures: list[Any], shifts: np.ndarray) -> list[Finding]:
    """Findings from the GX suite's failures on ``frame``.

    ``shifts``: how far each row's number was moved to stack its return with others (one value per
    return), so R08 stays within a return and names the return's own first row.
    """
    import numpy as np

    findings: list[Finding] = []
    rn = frame["row_number"].to_numpy()
    for failure in failures:
        rule, column, fix = failure.meta["rule_id"], failure.meta["column"], failure.meta["fix"]
        positions = np.searchsorted(rn, failure.row_numbers)
        if rule == "R08":
            findings.extend(_r08_findings(frame, positions, fix, shifts))
            continue
        needed = [c for c in _MESSAGE_COLUMNS.get(rule, ()) or (column,) if c in frame.columns]
        rows = frame.iloc[positions][needed].to_dict("records")  # only the failing rows, few columns
        for pos, row in zip(positions, rows, strict=True):
            findings.append(Finding(rule, int(rn[pos]), column, _gx_message(rule, column, row, fix)))
    return findings


def _r08_findings(frame: pd.DataFrame, positions: Any, fix: str, shifts: np.ndarray) -> list[Finding]:
    """R08 names the second and each later occurrence of a key in a return, pointing at the first."""
    keyed = frame.iloc[positions][["row_number", "activity_date", "hub_code"]].assign(shift=shifts[positions])
    first = keyed.groupby(["shift", "activity_date", "hub_code"], sort=False)["row_number"].transform("min")
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
        + (first - keyed["shift"])[later.index].astype(str)
    ) + f": {fix}"
    return [
        Finding("R08", n, "hub_code", m)
        for n, m in zip(later["row_number"].astype(int).tolist(), messages.tolist(), strict=True)
    ]


def _identity_findings(
    t: pd.DataFrame, files: np.ndarray, senders: Sequence[tuple[str, date]], settings: Settings
) -> list[Finding]:
    """R05 (locality), R06 (hub register), R07 (date window and season).

    ``files`` gives each row's return, ``senders`` each return's (locality, receipt day).
    """
    import numpy as np
    import pandas as pd

    file_localities = np.array([locality for locality, _ in senders], dtype=object)
    localities = file_localities[files]  # each row's sender (references, not copies)
    received_days = np.array([np.datetime64(day, "ns") for _, day in senders])[files]
    findings: list[Finding] = []
    rn = t["row_number"].to_numpy()
    known = {loc.sub_icb_code: loc for loc in reference.localities()}
    own_hub_lists: dict[str, str] = {}

    def own_hubs(locality: str) -> str:
        if locality not in own_hub_lists:
            own_hub_lists[locality] = ", ".join(h.hub_code for h in reference.hubs_of(locality))
        return own_hub_lists[locality]

    sub = t["sub_icb_code"]
    present = sub.notna().to_numpy()
    is_known = sub.isin(list(known)).to_numpy()
    unknown = present & ~is_known
    own = np.zeros(len(t), dtype=bool)
    for code in set(file_localities.tolist()):
        own |= (file_localities == code)[files] & (sub == code).to_numpy(dtype=bool)
    other = present & is_known & ~own
    for pos in np.flatnonzero(unknown):
        locality = localities[pos]
        findings.append(
            Finding(
                "R05",
                int(rn[pos]),
                "sub_icb_code",
                f"sub_icb_code {shown(sub.iat[pos])} is not a known locality code: this return comes from "
                f"{known[locality].name}, so use {locality}",
            )
        )
    for pos in np.flatnonzero(other):
        locality = localities[pos]
        findings.append(
            Finding(
                "R05",
                int(rn[pos]),
                "sub_icb_code",
                f"sub_icb_code {sub.iat[pos]} is {known[sub.iat[pos]].name}'s code, but this return comes "
                f"from {known[locality].name} ({locality}): report only your own hubs, with sub_icb_code "
                f"{locality}",
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
    for pos in np.flatnonzero(not_registered.to_numpy()):
        locality = localities[pos]
        findings.append(
            Finding(
                "R06",
                int(rn[pos]),
                "hub_code",
                f"hub_code {shown(rows['hub_code'].iat[pos])} is not in the hub register: use one of "
                f"{known[locality].name}'s hub codes ({own_hubs(locality)})",
            )
        )
    for pos in np.flatnonzero(wrong_locality.to_numpy()):
        r = rows.iloc[pos]
        locality = localities[pos]
        findings.append(
            Finding(
                "R06",
                int(rn[pos]),
                "hub_code",
                f"hub {r.hub_code} is registered to locality {r.reg_sub}, not {shown(r.sub_icb_code)}: "
                f"check the hub code and the row's sub_icb_code ({known[locality].name}'s hubs: "
                f"{own_hubs(locality)})",
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
    days = day.to_numpy(dtype="datetime64[ns]")
    window = settings.timeliness.revision_window_days
    start, end = pd.Timestamp(settings.season.start), pd.Timestamp(settings.season.end)
    valid = day.notna().to_numpy()
    outside = valid & ((day < start) | (day > end)).to_numpy()
    future = valid & ~outside & (days > received_days)
    too_old = valid & ~outside & (days < received_days - np.timedelta64(window, "D"))

    def received_text(pos: int) -> str:
        return str(received_days[pos].astype("datetime64[D]"))

    for pos in np.flatnonzero(outside):
        findings.append(
            Finding(
                "R07",
                int(rn[pos]),
                "activity_date",
                f"activity_date {day.iat[pos].date().isoformat()} is outside the season "
                f"({settings.season.start.isoformat()} to {settings.season.end.isoformat()}): check the date",
            )
        )
    for pos in np.flatnonzero(future):
        findings.append(
            Finding(
                "R07",
                int(rn[pos]),
                "activity_date",
                f"activity_date {day.iat[pos].date().isoformat()} is after the day the return was received "
                f"({received_text(pos)}): report only days that have happened; check the date",
            )
        )
    for pos in np.flatnonzero(too_old):
        findings.append(
            Finding(
                "R07",
                int(rn[pos]),
                "activity_date",
                f"activity_date {day.iat[pos].date().isoformat()} is more than {window} days before the day "
                f"the return was received ({received_text(pos)}): days can be sent or revised for "
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


def _comment_findings(t: pd.DataFrame, masks: dict[str, Any]) -> tuple[list[Finding], np.ndarray]:
    """R15 (comments needed) and R16 (no NHS number, checked here and never inside GX; its rows returned)."""
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
    for pos in np.flatnonzero(blank & needs):
        reasons = [f"the hub is {status.iat[pos]}"] if closed[pos] else []
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
    return findings, r16


def _nhs_number_rows(comments: pd.Series) -> np.ndarray:
    """Positions of comments holding a valid NHS number; vectorised over every candidate run."""
    import numpy as np
    import pandas as pd

    text = pd.Series(comments.array)  # index = position
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


_EPOCH = date(1970, 1, 1)


def _day_number(value: Any) -> int:
    """Days since 1970-01-01 of a date, datetime, pandas Timestamp or ISO text."""
    if isinstance(value, datetime):  # a Timestamp is one too
        value = value.date()
    elif not isinstance(value, date):
        value = date.fromisoformat(str(value)[:10])
    return (value - _EPOCH).days


def _history_findings(rows: _HistoryRows, history: HistoryLookup) -> list[Finding]:
    """W05: appts_offered above 3 × the hub's median over its current OPEN rows dated D−28..D−1.

    Plain Python over NumPy arrays: a return has a few rows, and pandas merges cost more per call than
    the whole check (a hub's pool is sorted once; each row takes its 28-day window by bisection).
    """
    import bisect
    import statistics

    import numpy as np

    all_hubs = rows.hub_code.to_pylist()
    usable = (
        np.array([hub is not None for hub in all_hubs], dtype=bool)
        & ~np.isnat(rows.day)
        & ~np.isnan(rows.appts_offered)
    )
    if not usable.any():
        return []
    numbers = rows.row_number[usable].tolist()
    hubs = [hub for hub, ok in zip(all_hubs, usable.tolist(), strict=True) if ok]
    days = rows.day[usable]
    offered = rows.appts_offered[usable].tolist()
    statuses = [s for s, ok in zip(rows.hub_status.to_pylist(), usable.tolist(), strict=True) if ok]
    window = np.timedelta64(W05_WINDOW_DAYS, "D")
    first = (days.min() - window).astype(object)
    last = (days.max() - np.timedelta64(1, "D")).astype(object)
    past = history(sorted(set(hubs)), first, last)
    day_numbers = days.astype("int64").tolist()  # days since 1970: plain ints compare fast

    # Once the file is loaded its rows are the current ones for their hub-days: each replaces the
    # warehouse's row (whatever its status), and its OPEN rows join the history.
    mine: dict[tuple[str, int], int] = {}
    for i, key in enumerate(zip(hubs, day_numbers, strict=True)):
        mine[key] = i  # the last row of a key wins, as it does when loaded
    pools: dict[str, list[tuple[int, float]]] = {}
    if past is not None and len(past):
        for hub, day, value in zip(
            past["hub_code"].tolist(),
            past["activity_date"].tolist(),
            past["appts_offered"].tolist(),
            strict=True,
        ):
            key = (str(hub).upper(), _day_number(day))
            if key not in mine:
                pools.setdefault(key[0], []).append((key[1], float(value)))
    for (hub, day), i in mine.items():
        if statuses[i] == "OPEN":
            pools.setdefault(hub, []).append((day, offered[i]))
    for pool in pools.values():
        pool.sort()

    out: list[Finding] = []
    for number, hub, day, value in zip(numbers, hubs, day_numbers, offered, strict=True):
        pool = pools.get(hub, [])
        lo = bisect.bisect_left(pool, (day - W05_WINDOW_DAYS, float("-inf")))
        hi = bisect.bisect_left(pool, (day, float("-inf")))
        if hi - lo < W05_MIN_ROWS:
            continue
        median = statistics.median(v for _, v in pool[lo:hi])
        if value > W05_FACTOR * median:
            out.append(
                Finding(
                    "W05",
                    int(number),
                    "appts_offered",
                    f"appts_offered {_n(value)} is more than 3 × this hub's recent median of "
                    f"{_n(median)} (open days in the 28 days before): a warning, not an error; check it "
                    "is not a typing error",
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
) -> ValidationResult:
    """Row rules on a table as read.py builds it (spec columns as text, plus ``row_number``)."""
    settings = settings or load_settings()
    code = _check_locality(locality)
    [judged] = _judge_together([table], [(code, london_day(_aware(received_at)))], settings)
    return _finish(judged, history)


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


def _accepted_frame(t: pd.DataFrame, warnings: list[Finding]) -> pd.DataFrame:
    """The typed rows for loading: ints as int64, hours rounded to 2 places, text as pandas "str" (Arrow)
    with a blank missing. Columns are selected, not copied (pandas copy-on-write): text is shared."""
    frame = t[["row_number", *spec.COLUMN_NAMES]]
    for name in spec.INTEGER_COLUMNS:
        frame[name] = frame[name].astype("int64")
    for name in spec.DECIMAL_COLUMNS:
        frame[name] = frame[name].round(2)
    frame["row_number"] = frame["row_number"].astype("int64")
    frame = frame.reset_index(drop=True)
    frame["warnings"] = _warning_rules(frame["row_number"].to_numpy(), warnings)
    return frame


def _warning_rules(row_numbers: np.ndarray, warnings: list[Finding]) -> list[list[str]]:
    """Each row's warning rule IDs, in the order of ``warnings`` (sorted: W01 … W05), once each."""
    import numpy as np

    rules: list[list[str]] = [[] for _ in range(len(row_numbers))]
    if warnings:
        positions = np.searchsorted(row_numbers, [w.row for w in warnings])
        for pos, w in zip(positions, warnings, strict=True):
            if w.rule not in rules[pos]:
                rules[pos].append(w.rule)
    return rules
