"""The GX suite's rules (R03, R04, R08–R14, R17) run over a typed table, and R08's wording.

The committed suite (`returns/suite.py`, run by `returns/gx_runtime.py`) names for each failed
expectation its rule, the column a finding names and the fix; the rows' values say what is wrong:
R03 and R04 are worded in rules/cells.py, R09–R14 and R17 in rules/arithmetic.py, R08 here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from surgehub.returns.findings import Finding, shown
from surgehub.returns.gx_runtime import Recording, ResultStore, ReturnTag, run_suite
from surgehub.returns.rules import arithmetic, cells
from surgehub.returns.rules.checks import Check, IntArray, Wording, at_positions, findings_of

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

#: rule -> how its failed rows read (R03 depends on the column: see _wording).
_WORDINGS: dict[str, Wording] = {"R04": cells.STATUS_WORDING, **arithmetic.WORDINGS}


def suite_findings(
    derived: pd.DataFrame,
    files: IntArray,
    offsets: IntArray,
    *,
    store: ResultStore | None = None,
    tags: Sequence[ReturnTag] | None = None,
) -> list[Finding]:
    """Findings of the GX suite on ``derived`` (typed and derived columns of one or many returns).

    ``files``: each row's return; ``offsets``: how far each return's row numbers were moved to stack
    it with the others, so R08 stays within a return and names the return's own first row.
    With ``store`` and ``tags`` (each return's name, in order), the run's result is stored there.
    """
    rows: IntArray = derived["row_number"].to_numpy().astype(np.int64, copy=False)
    findings: list[Finding] = []
    recording = (
        Recording(store=store, returns=tags, offsets=offsets)
        if store is not None and tags is not None
        else None
    )
    frame = _hub_days_by_return(derived, files) if len(offsets) > 1 else derived
    for failure in run_suite(frame) if recording is None else run_suite(frame, recording):
        rule, column, fix = (
            str(failure.meta["rule_id"]),
            str(failure.meta["column"]),
            str(failure.meta["fix"]),
        )
        positions: IntArray = np.searchsorted(rows, failure.row_numbers).astype(np.int64)
        if rule == "R08":
            findings += _repeats(derived, positions, fix, offsets[files[positions]])
            continue
        wording = _wording(rule, column)
        check = Check(
            rule=rule,
            column=column,
            failed=at_positions(positions, len(rows)),
            message=_with_fix(wording.says, fix),
            quotes=tuple(derived[name] for name in wording.quotes),
        )
        findings += findings_of([check], rows)
    return findings


def _wording(rule: str, column: str) -> Wording:
    if rule == "R03":
        return cells.range_wording(column)
    return _WORDINGS[rule]


def _with_fix(says: Callable[..., str], fix: str) -> Callable[..., str]:
    def message(*values: object) -> str:
        return f"{says(*values)}: {fix}"

    return message


def _hub_days_by_return(derived: pd.DataFrame, files: IntArray) -> pd.DataFrame:
    """R08 is a rule within one file: with ``hub_code`` tagged by return, a hub-day in two is no repeat."""
    hub = derived["hub_code"]
    tagged = pd.Series(files, index=hub.index).astype(str) + "|" + hub.astype(object).astype(str)
    return derived.assign(hub_code=hub.where(hub.isna(), tagged))


def _repeats(frame: pd.DataFrame, positions: IntArray, fix: str, shifts: IntArray) -> list[Finding]:
    """R08 names the second and each later occurrence of a key in a return, pointing at the first
    (``shifts``: how far each failing row's return was moved, at ``positions``)."""
    keyed = frame.iloc[positions][["row_number", "activity_date", "hub_code"]].assign(shift=shifts)
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
        Finding(rule="R08", row=n, column="hub_code", message=m)
        for n, m in zip(later["row_number"].astype(int).tolist(), messages.tolist(), strict=True)
    ]
