"""Comment rule R15: comments are required when the hub closed or a row warning W01–W04 fired.

R16 (no NHS number, in any cell of the file, comments included) is `rules/patients.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from surgehub.returns.rules.checks import BoolArray, Check, findings_of

if TYPE_CHECKING:
    import pandas as pd

    from surgehub.returns.findings import Finding

#: Why comments are needed, for each row warning that makes them so (R15 names W01–W04, not W05).
_REASONS: dict[str, str] = {
    "W01": "sessions delivered are fewer than planned (W01)",
    "W02": "the DNA rate is above 10% (W02)",
    "W03": "onward-to-ED is above 10% of attended (W03)",
    "W04": "patients were turned away (W04)",
}
_CLOSED = ("CLOSED_PLANNED", "CLOSED_UNPLANNED")


def comment_findings(t: pd.DataFrame, warnings: dict[str, BoolArray]) -> list[Finding]:
    """R15 on the typed table ``t`` (``warnings``: where W01–W04 fire)."""
    comments, status = t["comments"], t["hub_status"]
    closed = status.isin(_CLOSED).to_numpy(dtype=bool)
    fired = [warnings[rule] for rule in _REASONS]
    needed = closed.copy()
    for mask in fired:
        needed |= mask
    check = Check(
        rule="R15",
        column="comments",
        failed=comments.isna().to_numpy(dtype=bool) & needed,
        message=_comments_needed,
        quotes=(status, closed, *fired),
    )
    return findings_of([check], t["row_number"].to_numpy().astype(np.int64, copy=False))


def _comments_needed(status: object, closed: bool, *fired: bool) -> str:
    reasons = [f"the hub is {status}"] if closed else []
    reasons += [reason for reason, on in zip(_REASONS.values(), fired, strict=True) if on]
    return f"comments are blank, but {' and '.join(reasons)}: add a short explanation in comments"
