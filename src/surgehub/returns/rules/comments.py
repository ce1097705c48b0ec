"""Comment rules R15 (comments required when the hub closed or a row warning fired) and R16 (no NHS number).

R16 is checked here and never inside GX: GX's detailed results keep unexpected values, and the number
must go nowhere (no result, log, email or Data Docs). Its finding never holds the number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surgehub.returns.findings import NHS_NUMBER_CANDIDATE, Finding
from surgehub.returns.rules.checks import BoolArray, Check, IntArray, at_positions, findings_of

#: Why comments are needed, for each row warning that makes them so (R15 names W01–W04, not W05).
_REASONS: dict[str, str] = {
    "W01": "sessions delivered are fewer than planned (W01)",
    "W02": "the DNA rate is above 10% (W02)",
    "W03": "onward-to-ED is above 10% of attended (W03)",
    "W04": "patients were turned away (W04)",
}
_CLOSED = ("CLOSED_PLANNED", "CLOSED_UNPLANNED")


def comment_findings(t: pd.DataFrame, warnings: dict[str, BoolArray]) -> tuple[list[Finding], IntArray]:
    """R15 and R16 on the typed table ``t`` (``warnings``: where W01–W04 fire); also R16's positions."""
    comments, status = t["comments"], t["hub_status"]
    closed = status.isin(_CLOSED).to_numpy(dtype=bool)
    fired = [warnings[rule] for rule in _REASONS]
    needed = closed.copy()
    for mask in fired:
        needed |= mask
    r16 = _nhs_number_rows(comments)
    checks = [
        Check(
            rule="R15",
            column="comments",
            failed=comments.isna().to_numpy(dtype=bool) & needed,
            message=_comments_needed,
            quotes=(status, closed, *fired),
        ),
        Check(rule="R16", column="comments", failed=at_positions(r16, len(t)), message=_nhs_number),
    ]
    return findings_of(checks, t["row_number"].to_numpy().astype(np.int64)), r16


def _comments_needed(status: object, closed: bool, *fired: bool) -> str:
    reasons = [f"the hub is {status}"] if closed else []
    reasons += [reason for reason, on in zip(_REASONS.values(), fired, strict=True) if on]
    return f"comments are blank, but {' and '.join(reasons)}: add a short explanation in comments"


def _nhs_number() -> str:
    return (
        "comments appear to contain an NHS number: remove it and resubmit (never put patient "
        "identifiers in a return)"
    )


def _nhs_number_rows(comments: pd.Series) -> IntArray:
    """Positions of comments holding a valid NHS number; vectorised over every candidate run."""
    text = pd.Series(comments.array)  # index = position
    text = text[text.notna()]
    text = text[text.str.contains(r"[0-9]{3}", regex=True)]
    if text.empty:
        return np.array([], dtype=np.int64)
    candidates = text.str.extractall(NHS_NUMBER_CANDIDATE.pattern)
    if candidates.empty:
        return np.array([], dtype=np.int64)
    digits = "".join(candidates[0].str.replace(r"[ -]", "", regex=True))
    matrix = (np.frombuffer(digits.encode("ascii"), dtype=np.uint8).reshape(-1, 10) - ord("0")).astype(int)
    check = 11 - (matrix[:, :9] @ np.arange(10, 1, -1)) % 11
    check = np.where(check == 11, 0, check)
    valid = (check != 10) & (check == matrix[:, 9])
    return np.unique(candidates.index.get_level_values(0).to_numpy()[valid]).astype(np.int64)
