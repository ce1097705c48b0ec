"""Arithmetic rules R09–R14 and R17: the derived columns the GX suite checks, and how a failure reads.

Each rule is one derived column (returns/suite.py names it and says what it must be: ≥ 0, or exactly
0). A value that failed R01, R02 or R04 is null in the typed table, so the derived value is null too
and GX, which skips nulls, does not judge it (spec §3, the skip rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from surgehub.returns import suite
from surgehub.returns.findings import number
from surgehub.returns.rules.checks import Wording

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd


@dataclass(frozen=True, kw_only=True)
class Arithmetic:
    """One rule: the derived column the suite checks, how it is computed, and how a failure reads."""

    rule: str
    column: str
    derive: Callable[[pd.DataFrame], pd.Series]
    wording: Wording


def _booked_over_offered(booked: float, offered: float) -> str:
    return f"appts_booked {number(booked)} is more than appts_offered {number(offered)}"


def _attended_over_booked(attended: float, booked: float) -> str:
    return f"appts_attended {number(attended)} is more than appts_booked {number(booked)}"


def _attended_and_dna_over_booked(attended: float, dna: float, booked: float) -> str:
    return (
        f"appts_attended {number(attended)} + appts_dna {number(dna)} = {number(attended + dna)}, "
        f"more than appts_booked {number(booked)}"
    )


def _modes_not_attended(f2f: float, remote: float, attended: float) -> str:
    return (
        f"attended_f2f {number(f2f)} + attended_remote {number(remote)} = {number(f2f + remote)}, "
        f"but appts_attended is {number(attended)}"
    )


def _sources_not_booked(practice: float, nhs111: float, ed: float, other: float, booked: float) -> str:
    return (
        f"the sources add up to {number(practice + nhs111 + ed + other)} (practice {number(practice)}, "
        f"NHS 111 {number(nhs111)}, ED streaming {number(ed)}, other {number(other)}), but "
        f"appts_booked is {number(booked)}"
    )


def _onward_over_attended(onward: float, attended: float) -> str:
    return f"onward_ed {number(onward)} is more than appts_attended {number(attended)}"


def _offered_when_closed(offered: float) -> str:
    return f"the hub is CLOSED_PLANNED but appts_offered is {number(offered)}"


RULES: tuple[Arithmetic, ...] = (
    Arithmetic(
        rule="R09",
        column=suite.R09_SPARE,
        derive=lambda t: t["appts_offered"] - t["appts_booked"],
        wording=Wording(quotes=("appts_booked", "appts_offered"), says=_booked_over_offered),
    ),
    Arithmetic(
        rule="R10",
        column=suite.R10_SPARE,
        derive=lambda t: t["appts_booked"] - t["appts_attended"],
        wording=Wording(quotes=("appts_attended", "appts_booked"), says=_attended_over_booked),
    ),
    Arithmetic(
        rule="R11",
        column=suite.R11_SPARE,
        derive=lambda t: t["appts_booked"] - t["appts_attended"] - t["appts_dna"],
        wording=Wording(
            quotes=("appts_attended", "appts_dna", "appts_booked"), says=_attended_and_dna_over_booked
        ),
    ),
    Arithmetic(
        rule="R12",
        column=suite.R12_GAP,
        derive=lambda t: t["attended_f2f"] + t["attended_remote"] - t["appts_attended"],
        wording=Wording(
            quotes=("attended_f2f", "attended_remote", "appts_attended"), says=_modes_not_attended
        ),
    ),
    Arithmetic(
        rule="R13",
        column=suite.R13_GAP,
        derive=lambda t: (
            t["src_practice"] + t["src_nhs111"] + t["src_ed_streaming"] + t["src_other"] - t["appts_booked"]
        ),
        wording=Wording(
            quotes=("src_practice", "src_nhs111", "src_ed_streaming", "src_other", "appts_booked"),
            says=_sources_not_booked,
        ),
    ),
    Arithmetic(
        rule="R14",
        column=suite.R14_SPARE,
        derive=lambda t: t["appts_attended"] - t["onward_ed"],
        wording=Wording(quotes=("onward_ed", "appts_attended"), says=_onward_over_attended),
    ),
    Arithmetic(
        rule="R17",
        column=suite.R17_OFFERED,
        derive=lambda t: t["appts_offered"].where(t["hub_status"] == "CLOSED_PLANNED"),
        wording=Wording(quotes=("appts_offered",), says=_offered_when_closed),
    ),
)

#: rule -> how its failed rows read.
WORDINGS: dict[str, Wording] = {r.rule: r.wording for r in RULES}


def with_derived_columns(typed: pd.DataFrame) -> pd.DataFrame:
    """The typed table plus each rule's derived column; NaN wherever an input is unusable."""
    return typed.assign(**{r.column: r.derive(typed) for r in RULES})
