"""Warnings W01–W04 (a row's own figures) and W05 (a spike against the hub's recent history).

A warning never rejects a return; W01–W04 make comments required (R15, rules/comments.py). W05 reads
the warehouse through a lookup the caller passes in, as the return's receipt found it, so it is
judged for each return on its own (returns/batch.py), after the rules that can be judged together.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa

from surgehub import reference
from surgehub.returns.findings import Finding, number
from surgehub.returns.rules.checks import BoolArray, Check, DayArray, FloatArray, IntArray, findings_of

if TYPE_CHECKING:
    import pandas as pd

#: (hub_codes, first_day, last_day) -> hub_code, activity_date, appts_offered of the current OPEN rows,
#: as a DataFrame or a mapping of those columns (None or empty: no history).
HistoryLookup = Callable[[Sequence[str], date, date], "pd.DataFrame | Mapping[str, Sequence[Any]] | None"]

W05_WINDOW_DAYS = 28
W05_MIN_ROWS = 7
W05_FACTOR = 3

#: What a warning asks of the submitter: a reason in comments (R15), unless the row already gives one.
_NOTE = "a warning, not an error; say why in comments"
_NOTED = "a warning, not an error; the row's comment is shown to the board with it"


@dataclass(frozen=True, kw_only=True)
class RowWarning:
    """One of W01–W04: where it fires, and what it says, from the row's own figures."""

    rule: str
    column: str
    fires: Callable[[pd.DataFrame], pd.Series]  # False wherever an input is unusable
    inputs: tuple[str, ...]
    says: Callable[..., str]  # called with the row's value of each of ``inputs``: what is unusual


def _with_note(says: Callable[..., str]) -> Callable[..., str]:
    """``says`` with what to do added: the last value it is called with says whether the row has a comment."""

    def message(*values: object) -> str:
        *figures, commented = values
        return f"{says(*figures)}: {_NOTED if commented else _NOTE}"

    return message


def _fewer_sessions(delivered: float, planned: float) -> str:
    return f"sessions_delivered {number(delivered)} is fewer than sessions_planned {number(planned)}"


def _high_dna(dna: float, booked: float) -> str:
    return f"appts_dna {number(dna)} is {dna / booked:.1%} of appts_booked {number(booked)}, above 10%"


def _high_onward_ed(onward: float, attended: float) -> str:
    return (
        f"onward_ed {number(onward)} is {onward / attended:.1%} of appts_attended {number(attended)}, "
        "above 10%"
    )


def _turned_away(turned: float) -> str:
    return f"{number(turned)} patients were turned away"


#: W01–W04. A ratio with nothing to divide by (nothing booked, nothing attended) is not judged.
ROW_WARNINGS: tuple[RowWarning, ...] = (
    RowWarning(
        rule="W01",
        column="sessions_delivered",
        fires=lambda t: t["sessions_delivered"] < t["sessions_planned"],
        inputs=("sessions_delivered", "sessions_planned"),
        says=_fewer_sessions,
    ),
    RowWarning(
        rule="W02",
        column="appts_dna",
        fires=lambda t: (t["appts_booked"] > 0) & (t["appts_dna"] * 10 > t["appts_booked"]),
        inputs=("appts_dna", "appts_booked"),
        says=_high_dna,
    ),
    RowWarning(
        rule="W03",
        column="onward_ed",
        fires=lambda t: (t["appts_attended"] > 0) & (t["onward_ed"] * 10 > t["appts_attended"]),
        inputs=("onward_ed", "appts_attended"),
        says=_high_onward_ed,
    ),
    RowWarning(
        rule="W04",
        column="patients_turned_away",
        fires=lambda t: t["patients_turned_away"] > 0,
        inputs=("patients_turned_away",),
        says=_turned_away,
    ),
)


def warning_masks(t: pd.DataFrame) -> dict[str, BoolArray]:
    """Where each of W01–W04 fires on the typed table ``t`` (R15 reads them too)."""
    return {w.rule: w.fires(t).to_numpy(dtype=bool) for w in ROW_WARNINGS}


def warning_findings(t: pd.DataFrame, masks: dict[str, BoolArray]) -> list[Finding]:
    """W01–W04 findings, from the masks :func:`warning_masks` gave. Each asks for a reason in comments
    (R15) only where the row has none: a row that explains itself is told its comment goes with it."""
    if "comments" in t.columns:
        commented = t["comments"].notna().to_numpy(dtype=bool)
    else:
        commented = np.zeros(len(t), dtype=np.bool_)
    checks = [
        Check(
            rule=w.rule,
            column=w.column,
            failed=masks[w.rule],
            message=_with_note(w.says),
            quotes=(*(t[name] for name in w.inputs), commented),
        )
        for w in ROW_WARNINGS
    ]
    return findings_of(checks, t["row_number"].to_numpy().astype(np.int64, copy=False))


# -- W05 -------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class HistoryRows:
    """The typed columns W05 reads, for one return's rows (its own row numbers).

    Slices of arrays made once for a whole batch: NumPy for numbers and days (NaT where unusable),
    Arrow for text (a million hub codes as Python strings would cost ~65 MB).
    """

    row_number: IntArray
    hub_code: pa.LargeStringArray  # null where unusable
    day: DayArray
    appts_offered: FloatArray  # NaN where unusable
    hub_status: pa.LargeStringArray


def history_rows(t: pd.DataFrame, bounds: IntArray, offsets: IntArray) -> list[HistoryRows]:
    """Each return's W05 columns (``bounds``: where each return's rows start and end in ``t``;
    ``offsets``: how far its row numbers were moved)."""
    numbers: IntArray = t["row_number"].to_numpy().astype(np.int64, copy=False)
    days: DayArray = t["activity_date"].to_numpy(dtype="datetime64[D]")
    offered: FloatArray = t["appts_offered"].to_numpy(dtype=np.float64)
    hubs, statuses = _arrow_text(t["hub_code"]), _arrow_text(t["hub_status"])
    out: list[HistoryRows] = []
    for i in range(len(offsets)):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        out.append(
            HistoryRows(
                row_number=numbers[lo:hi] - offsets[i],
                hub_code=hubs.slice(lo, hi - lo),
                day=days[lo:hi],
                appts_offered=offered[lo:hi],
                hub_status=statuses.slice(lo, hi - lo),
            )
        )
    return out


def _arrow_text(column: pd.Series) -> pa.LargeStringArray:
    """A pandas "str" column's Arrow array (its own storage, not copied).

    pyarrow-stubs cannot tell the array's type from a Series (they pick a BooleanArray overload).
    """
    return cast("pa.LargeStringArray", pa.array(column))


def spike_findings(rows: HistoryRows, history: HistoryLookup) -> list[Finding]:
    """W05: appts_offered above 3 × the hub's median over its current OPEN rows dated D−28..D−1.

    Plain Python over NumPy arrays: a return has a few rows, and pandas merges cost more per call than
    the whole check (a hub's pool is sorted once; each row takes its 28-day window by bisection).
    """
    all_hubs: list[str | None] = rows.hub_code.to_pylist()
    usable = (
        np.array([hub is not None for hub in all_hubs], dtype=bool)
        & ~np.isnat(rows.day)
        & ~np.isnan(rows.appts_offered)
    )
    if not usable.any():
        return []
    keep: list[bool] = usable.tolist()
    numbers: list[int] = rows.row_number[usable].tolist()
    hubs = [hub for hub, ok in zip(all_hubs, keep, strict=True) if ok and hub is not None]
    days = rows.day[usable]
    offered: list[float] = rows.appts_offered[usable].tolist()
    statuses = [s for s, ok in zip(rows.hub_status.to_pylist(), keep, strict=True) if ok]
    window = np.timedelta64(W05_WINDOW_DAYS, "D")
    first: date = (days.min() - window).astype(object)
    last: date = (days.max() - np.timedelta64(1, "D")).astype(object)
    past = history(sorted(set(hubs)), first, last)
    day_numbers: list[int] = days.astype(np.int64).tolist()  # days since 1970: plain ints compare fast
    pools = _pools(past, hubs, day_numbers, offered, statuses)

    out: list[Finding] = []
    for row, hub, day, value in zip(numbers, hubs, day_numbers, offered, strict=True):
        pool = pools.get(hub, [])
        lo = bisect.bisect_left(pool, (day - W05_WINDOW_DAYS, float("-inf")))
        hi = bisect.bisect_left(pool, (day, float("-inf")))
        if hi - lo < W05_MIN_ROWS:
            continue
        median = statistics.median(v for _, v in pool[lo:hi])
        if value > W05_FACTOR * median:
            out.append(
                Finding(
                    rule="W05",
                    row=row,
                    column="appts_offered",
                    message=f"appts_offered {number(value)} is more than 3 × this hub's recent median of "
                    f"{number(median)} (open days in the 28 days before): a warning, not an error; check it "
                    "is not a typing error",
                )
            )
    return out


def _pools(
    past: pd.DataFrame | Mapping[str, Sequence[Any]] | None,
    hubs: list[str],
    day_numbers: list[int],
    offered: list[float],
    statuses: list[str | None],
) -> dict[str, list[tuple[int, float]]]:
    """Each hub's OPEN (day, appts_offered) as the board would see them once the file is loaded, sorted.

    Once loaded, the file's rows are the current ones for their hub-days: each replaces the
    warehouse's row (whatever its status), and its OPEN rows join the history.
    """
    mine: dict[tuple[str, int], int] = {}
    for i, key in enumerate(zip(hubs, day_numbers, strict=True)):
        mine[key] = i  # the last row of a key wins, as it does when loaded
    pools: dict[str, list[tuple[int, float]]] = {}
    if past is not None and len(past) and len(past["hub_code"]):  # a DataFrame may have no columns
        for hub, day, value in zip(
            list(past["hub_code"]),
            list(past["activity_date"]),
            list(past["appts_offered"]),
            strict=True,
        ):
            key = (reference.normalise_code(str(hub)), _day_number(day))
            if key not in mine:
                pools.setdefault(key[0], []).append((key[1], float(value)))
    for (hub, day), i in mine.items():
        if statuses[i] == "OPEN":
            pools.setdefault(hub, []).append((day, offered[i]))
    for pool in pools.values():
        pool.sort()
    return pools


_EPOCH = date(1970, 1, 1)


def _day_number(value: object) -> int:
    """Days since 1970-01-01 of a date, datetime, pandas Timestamp or ISO text."""
    if isinstance(value, datetime):  # a Timestamp is one too
        value = value.date()
    elif not isinstance(value, date):
        value = date.fromisoformat(str(value)[:10])
    return (value - _EPOCH).days
